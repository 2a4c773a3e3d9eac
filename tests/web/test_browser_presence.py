"""A tab that goes away leaves its user deactivated (as TCP clients see
it), a logout makes it left, and coming back replays what was missed."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Playwright

from chatproto import ChatMessage, Presence, SendChat
from support import RawClient, ServerProcess

from .browser import CHROMIUM_ARGS, Line, WebUser, chromium_path
from .conftest import url_of


def presence(client: RawClient, user: str) -> str:
    """The state of the next Presence about ``user`` that ``client`` receives."""
    event = client.wait_for(lambda e: isinstance(e, Presence) and e.user == user)
    assert isinstance(event, Presence)
    return event.state.value


def test_a_closed_tab_leaves_its_user_deactivated(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        carol = browser_user(url)
        carol.login("carol")
        alice = browser_user(url)
        alice.login("alice")
        assert presence(bob, "carol") == "joined"
        assert presence(bob, "alice") == "joined"
        alice.page.close()  # no logout: the tab is simply gone
        event = bob.wait_for(lambda e: isinstance(e, Presence) and e.user == "alice")
        assert event.state == "deactivated" and event.participant_count == 3
        carol.wait_presence("alice", "deactivated")
        carol.wait_participants({"alice": "deactivated", "bob": "active", "carol": "active"})


@contextmanager
def own_chromium(playwright: Playwright, profile: Path) -> Iterator[tuple[Browser,
                                                                          subprocess.Popen[str]]]:
    """A Chromium process of our own (so that it can be killed), driven over CDP."""
    proc = subprocess.Popen(
        [chromium_path(), *CHROMIUM_ARGS, "--headless", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if match := re.search(r"DevTools listening on (ws://\S+)", line):
                break
        else:
            raise RuntimeError(f"chromium exited ({proc.wait()}) without a DevTools address")
        # Keep reading stderr so that a chatty Chromium never blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        browser = playwright.chromium.connect_over_cdp(match.group(1))
        yield browser, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def test_a_killed_browser_leaves_its_user_deactivated(
    web_server: ServerProcess, playwright: Playwright, tmp_path: Path,
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "bob", "pw") as bob, \
         own_chromium(playwright, tmp_path / "profile") as (browser, proc):
        alice = WebUser(browser, url)
        alice.login("alice")
        assert presence(bob, "alice") == "joined"
        proc.kill()  # SIGKILL: no close frame, no Goodbye, nothing
        assert presence(bob, "alice") == "deactivated"
        assert web_server.proc.poll() is None


def test_logout_makes_the_user_left(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        carol = browser_user(url)
        carol.login("carol")
        alice = browser_user(url)
        alice.login("alice")
        assert presence(bob, "alice") == "joined"
        alice.logout()
        event = bob.wait_for(lambda e: isinstance(e, Presence) and e.user == "alice")
        assert event.state == "left" and event.participant_count == 2
        carol.wait_presence("alice", "left")
        carol.wait_participants({"bob": "active", "carol": "active"})
        # The same page logs in again at once: a left user just joins anew.
        alice.submit_login("alice", "pw")
        alice.wait_logged_in()
        assert presence(bob, "alice") == "joined"


def chat_texts(lines: list[Line]) -> list[str]:
    return [line.text for line in lines if line.kind == "chat"]


def no_duplicates(lines: list[Line]) -> None:
    seqs = [line.seq for line in lines if line.seq is not None]
    assert len(seqs) == len(set(seqs)), f"a line shown twice: {lines}"
    texts = chat_texts(lines)
    assert len(texts) == len(set(texts)), f"a chat shown twice: {texts}"


def send_all(bob: RawClient, texts: list[str]) -> None:
    """Send and wait for the server's echo of each (so each has its seq)."""
    for text in texts:
        bob.send(SendChat(text))
        bob.wait_for(lambda e, text=text: isinstance(e, ChatMessage) and e.text == text)


def test_coming_back_to_the_page_replays_what_was_missed(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        alice = browser_user(url)
        alice.login("alice")
        send_all(bob, ["before"])
        alice.wait_chat("before")
        alice.page.goto("about:blank")  # away; the tab (its sessionStorage) stays
        assert presence(bob, "alice") == "joined"
        assert presence(bob, "alice") == "deactivated"
        missed = [f"missed {i}" for i in range(1, 6)]
        send_all(bob, missed)
        alice.page.goto(alice.url)
        # The resume token kept in sessionStorage logs the tab in again.
        alice.wait_logged_in()
        assert presence(bob, "alice") == "rejoined"
        lines = alice.wait_lines(lambda ls: all(t in chat_texts(ls) for t in missed),
                                 "the missed lines replayed")
        shown = [t for t in chat_texts(lines) if t in missed]
        assert shown == missed
        no_duplicates(lines)
        send_all(bob, ["after"])
        alice.wait_chat("after")
        no_duplicates(alice.lines())
        texts = chat_texts(alice.lines())
        assert texts.index("after") == len(texts) - 1


def test_a_reload_shows_new_lines_once(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        alice = browser_user(url)
        alice.login("alice")
        send_all(bob, ["one", "two"])
        alice.wait_chat("two")
        alice.page.reload()
        alice.wait_logged_in()
        send_all(bob, ["three"])
        alice.wait_chat("three")
        lines = alice.lines()
        no_duplicates(lines)
        texts = chat_texts(lines)
        assert texts[-1] == "three" and set(texts) <= {"one", "two", "three"}
        alice.send("from the reloaded tab")
        event = bob.wait_for(ChatMessage)
        assert (event.sender, event.text) == ("alice", "from the reloaded tab")
        assert alice.wait_chat("from the reloaded tab").own

