"""Two people in Chromium and one at chat-cli chat with each other through
one real chat-server; logins that must be refused are, in one sentence."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from chatproto import ChatMessage, LoginAccepted, LoginRejected, LoginRejectReason, SendChat
from cli.clitools import Listener, run_cli
from support import RawClient, ServerProcess

from .browser import Line, WebUser, poll
from .conftest import url_of


def chats(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.kind in ("chat", "direct")]


def in_order(lines: list[Line], texts: list[str]) -> bool:
    """Whether ``texts`` appear among the chat lines, in this order, each once."""
    shown = [line.text for line in chats(lines)]
    if any(shown.count(text) != 1 for text in texts):
        return False
    positions = [shown.index(text) for text in texts]
    return positions == sorted(positions)


def assert_seqs_rise(lines: list[Line]) -> None:
    seqs = [line.seq for line in chats(lines) if line.seq is not None]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs


def test_two_browsers_and_a_cli_chat_in_order(
    web_server: ServerProcess, browser_user: Callable[..., WebUser], home: Path,
) -> None:
    url = url_of(web_server)
    with Listener(web_server, "carol", "--json", "--no-download", home=home) as carol:
        # Logged in before anyone else: their joining is news to it.
        carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "carol")
        alice = browser_user(url)
        alice.login("alice")
        joined = carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "alice")
        assert joined["state"] == "joined" and joined["participants"] == 2
        bob = browser_user(url)
        bob.login("bob")
        joined = carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "bob")
        assert joined["state"] == "joined" and joined["participants"] == 3
        everyone = {"alice": "active", "bob": "active", "carol": "active"}
        alice.wait_participants(everyone)
        bob.wait_participants(everyone)
        alice.wait_presence("bob", "joined")

        # One at a time, each line seen by the two others.
        alice.send("hello from alice")
        record = carol.wait_json(lambda r: r["type"] == "chat")
        assert (record["from"], record["to"], record["text"]) == (
            "alice", None, "hello from alice")
        own = alice.wait_chat("hello from alice")
        assert own.own and own.sender == "alice" and own.room == "general"
        assert own.seq == record["seq"]
        seen = bob.wait_chat("hello from alice")
        assert not seen.own and seen.sender == "alice" and seen.seq == record["seq"]

        bob.send("hello from bob")
        assert carol.wait_json(lambda r: r["type"] == "chat")["text"] == "hello from bob"
        assert alice.wait_chat("hello from bob").sender == "bob"

        sent = run_cli(web_server, "carol", "send", "hello from carol", home=home)
        assert sent.returncode == 0, sent.stderr
        assert carol.wait_json(lambda r: r["type"] == "chat")["text"] == "hello from carol"
        for user in (alice, bob):
            line = user.wait_chat("hello from carol")
            assert line.sender == "carol" and not line.own

        # A burst from both browsers: everyone sees each sender's lines in
        # the order sent, and all in the one order of the server's seqs.
        burst_a = [f"a{i}" for i in range(8)]
        burst_b = [f"b{i}" for i in range(8)]
        for a, b in zip(burst_a, burst_b, strict=True):
            alice.send(a)
            bob.send(b)
        from_cli = [carol.wait_json(lambda r: r["type"] == "chat") for _ in range(16)]
        cli_order = [r["text"] for r in from_cli]
        assert [t for t in cli_order if t.startswith("a")] == burst_a
        assert [t for t in cli_order if t.startswith("b")] == burst_b
        for user in (alice, bob):
            lines = user.wait_lines(lambda ls: in_order(ls, cli_order), f"the burst at {user.name}")
            assert_seqs_rise(lines)
        assert run_cli(web_server, "carol", "send", "end", home=home).returncode == 0
        carol.wait_json(lambda r: r["type"] == "chat" and r["text"] == "end")


def test_direct_messages_between_browser_and_cli(
    web_server: ServerProcess, browser_user: Callable[..., WebUser], home: Path,
) -> None:
    url = url_of(web_server)
    with Listener(web_server, "carol", "--json", "--no-download", home=home) as carol:
        # Logged in before anyone else: their joining is news to it.
        carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "carol")
        alice = browser_user(url)
        alice.login("alice")
        bob = browser_user(url)
        bob.login("bob")
        alice.wait_participants({"alice": "active", "bob": "active", "carol": "active"})
        alice.send("only for carol", to="carol")
        record = carol.wait_json(lambda r: r["type"] == "chat")
        assert (record["from"], record["to"], record["text"]) == ("alice", "carol",
                                                                  "only for carol")
        assert alice.wait_chat("only for carol", kind="direct").own
        sent = run_cli(web_server, "carol", "send", "--to", "alice", "only for alice",
                       home=home)
        assert sent.returncode == 0, sent.stderr
        line = alice.wait_chat("only for alice", kind="direct")
        assert line.sender == "carol" and not line.own
        # bob saw neither: a general line sent after both reaches him, alone.
        alice.send("for everyone", to="")
        bob.wait_chat("for everyone")
        assert [t for t in bob.texts("direct")] == []
        assert "only for carol" not in bob.texts() and "only for alice" not in bob.texts()


def test_chat_over_https_with_the_servers_own_certificate(
    web_server_tls: ServerProcess, browser_user: Callable[..., WebUser], home: Path,
) -> None:
    url = url_of(web_server_tls)
    assert url.startswith("https://")
    # chat-cli over TLS too: it pins the certificate it first sees.
    with Listener(web_server_tls, "carol", "--json", "--no-download", home=home,
                  tls=()) as carol:
        # Logged in before anyone else: their joining is news to it.
        carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "carol")
        alice = browser_user(url, tls=True)
        alice.login("alice")
        alice.wait_participants({"alice": "active", "carol": "active"})
        alice.send("over https")
        record = carol.wait_json(lambda r: r["type"] == "chat")
        assert (record["from"], record["text"]) == ("alice", "over https")
        sent = run_cli(web_server_tls, "carol", "send", "over tls", home=home, tls=())
        assert sent.returncode == 0, sent.stderr
        assert alice.wait_chat("over tls").sender == "carol"


# -- refusals -------------------------------------------------------------------------


def one_sentence(text: str) -> bool:
    """One line, one sentence: no line break, one full stop at the end at most."""
    return "\n" not in text and len(re.findall(r"[.!?](\s|$)", text)) <= 1 and len(text) > 5


def test_already_active_over_tcp_refuses_the_web_login(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    with RawClient.login_as(web_server, "alice", "pw"):
        page = browser_user(url_of(web_server))
        page.open()
        page.submit_login("alice", "pw")
        error = page.login_error()
        assert one_sentence(error), error
        assert "active" in error.lower(), error
        assert page.page.locator("form#login-form").is_visible()


def test_already_active_in_the_browser_refuses_tcp(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    alice = browser_user(url_of(web_server))
    alice.login("alice")
    with RawClient(web_server.address) as raw:
        reply = raw.login("alice", "pw")
        assert isinstance(reply, LoginRejected) and reply.reason == "already-active", reply
    # The refused attempt did not disturb the page's session.
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        bob.send(SendChat("still there?"))
        assert alice.wait_chat("still there?").sender == "bob"


def test_a_second_tab_of_an_active_user_is_refused(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    first = browser_user(url_of(web_server))
    first.login("alice")
    second = browser_user(url_of(web_server))
    second.open()
    second.submit_login("alice", "pw")
    assert "active" in second.login_error().lower()
    first.wait_logged_in()


def test_wrong_password_then_too_many_attempts(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    with RawClient.login_as(web_server, "alice", "right") as raw:
        raw.goodbye()
    page = browser_user(url_of(web_server))
    page.open()
    page.submit_login("alice", "wrong")
    wrong = page.login_error()
    assert one_sentence(wrong) and "password" in wrong.lower(), wrong
    # The server allows 5 failed logins a minute for a name from an address
    # (docs/protocol.md, rate-limited): the page must say so, differently.
    def refusal_after_another_try() -> str | None:
        # Emptied first, so that the text read is the answer to this try.
        page.page.evaluate("document.querySelector('#login-error').textContent = ''")
        page.submit_login("alice", "wrong")
        text = page.login_error()
        return text if text != wrong else None

    throttled = poll(refusal_after_another_try, what="the too-many-attempts refusal")
    assert one_sentence(throttled), throttled
    assert re.search(r"many|attempt|later|wait", throttled, re.I), throttled
    # The throttle holds even for the right password now (as on TCP).
    with RawClient(web_server.address) as raw:
        reply = raw.login("alice", "right")
        assert isinstance(reply, LoginRejected)
        assert reply.reason == LoginRejectReason.RATE_LIMITED, reply


def test_first_login_registers_and_the_page_says_so(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    page = browser_user(url_of(web_server))
    page.open()
    form_text = page.page.locator("form#login-form").inner_text().lower()
    assert "regist" in form_text or "first" in form_text, form_text
    page.submit_login("newcomer", "pw1")
    page.name = "newcomer"
    page.wait_logged_in()
    page.logout()
    with RawClient(web_server.address) as raw:
        reply = raw.login("newcomer", "other")
        assert isinstance(reply, LoginRejected) and reply.reason == "bad-password"
    with RawClient(web_server.address) as raw:
        accepted = raw.login("newcomer", "pw1")
        assert isinstance(accepted, LoginAccepted) and not accepted.new_account
        raw.send(SendChat("hi"))
        raw.wait_for(ChatMessage)

