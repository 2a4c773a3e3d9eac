"""Rooms, search and the administrator's refusals in real chat-gui windows
against a real server."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from frontends.gui.room_dialogs import (
    CreateRoomDialog,
    FormDialog,
    InviteDialog,
    JoinRoomDialog,
    open_forms,
)
from support import running_server, server_command

from .driver import TIMEOUT, GuiClient, wait_until


def form(client: GuiClient, kind: type[FormDialog]) -> FormDialog:
    found: list[FormDialog] = []

    def opened() -> bool:
        found[:] = [f for f in open_forms(client.root) if isinstance(f, kind)]
        return bool(found)

    wait_until(opened, what=f"a {kind.__name__}")
    return found[-1]


def create_room(client: GuiClient, name: str, private: bool = False) -> None:
    """Click New room, fill the form and press Create, as a user would."""
    client.chat.rooms.create_button.invoke()
    dialog = form(client, CreateRoomDialog)
    assert isinstance(dialog, CreateRoomDialog)
    dialog.name.set(name)
    dialog.private.set(private)
    dialog.ok_button.invoke()


def has_room(client: GuiClient, label: str) -> bool:
    return any(row == label for row, _n in client.chat.rooms.rows())


@pytest.fixture
def pair(gui: Callable[[str], GuiClient], chat_server) -> Iterator[tuple[GuiClient, GuiClient]]:
    alice, bob = gui("alice"), gui("bob")
    alice.login(chat_server.host, chat_server.port, "alice", "pw-a")
    bob.login(chat_server.host, chat_server.port, "bob", "pw-b")
    alice.wait_for_text("bob has entered (2 participants)")
    wait_until(lambda: alice.chat.rooms.rooms_supported and bob.chat.rooms.rooms_supported,
               what="the room buttons")
    yield alice, bob


def test_rooms_their_transcripts_and_unread_counts(pair) -> None:
    alice, bob = pair
    create_room(alice, "dev")
    wait_until(lambda: alice.chat.rooms.current.key == "#dev", what="alice in #dev")
    assert alice.chat.recipient.get() == "#dev"

    # bob joins from the list of public rooms.
    bob.chat.rooms.join_button.invoke()
    join = form(bob, JoinRoomDialog)
    assert isinstance(join, JoinRoomDialog)
    wait_until(lambda: "dev" in join.room_names(), what="dev in the list of rooms")
    join.tree.selection_set("dev")
    join.ok_button.invoke()
    wait_until(lambda: bob.chat.rooms.current.key == "#dev", what="bob in #dev")
    alice.wait_for_text("bob joined #dev (2 members)", conversation="#dev")

    # A message to the room lands in its transcript only, unread where not shown.
    alice.select("#general")
    bob.say_here("hello dev people")
    alice.wait_for_text("bob: hello dev people", conversation="#dev")
    assert "hello dev people" not in alice.transcript("#general")
    assert ("# dev", 1) in alice.chat.rooms.rows()
    alice.say("in general")
    bob.wait_for_text("alice: in general", conversation="#general")
    assert "in general" not in bob.transcript("#dev")
    assert ("# general", 1) in bob.chat.rooms.rows()
    alice.select("#dev")
    assert ("# dev", 0) in alice.chat.rooms.rows()
    assert alice.chat.recipient.get() == "#dev"
    alice.say_here("reply in dev")
    bob.wait_for_text("alice: reply in dev")

    # A private room, and an invite makes bob a member at once.
    create_room(alice, "secret", private=True)
    wait_until(lambda: alice.chat.rooms.current.key == "#secret", what="alice in #secret")
    alice.chat.rooms.invite_button.invoke()
    invite = form(alice, InviteDialog)
    assert isinstance(invite, InviteDialog)
    invite.user.set("bob")
    invite.ok_button.invoke()
    wait_until(lambda: has_room(bob, "# secret"), what="#secret in bob's list")
    alice.wait_for_text("bob joined #secret (2 members)", conversation="#secret")

    # A name taken is refused with a clear sentence.
    create_room(bob, "DEV")
    wait_until(bob.dialogs, what="the refusal")
    assert bob.dialogs()[-1].message == (
        "Room #DEV not created: a room with that name exists already")
    bob.dialogs()[-1].destroy()

    # bob leaves #dev: gone from his list, alice sees him go.
    bob.select("#dev")
    bob.chat.rooms.leave_button.invoke()
    question = bob.dialogs()[-1]
    question.buttons["Leave"].invoke()
    wait_until(lambda: not has_room(bob, "# dev"), what="#dev gone from bob's list")
    assert bob.chat.rooms.current.key == "#general"
    alice.wait_for_text("bob left #dev (1 member)", conversation="#dev")


def test_search_finds_a_korean_word_and_shows_its_room(pair) -> None:
    alice, bob = pair
    create_room(alice, "dev")
    wait_until(lambda: alice.chat.rooms.current.key == "#dev", what="alice in #dev")
    alice.say_here("안녕하세요 개발자 여러분")
    alice.wait_for_text("alice: 안녕하세요 개발자 여러분")
    for number in range(22):  # more than a page of 20
        alice.say(f"안녕 number {number}")
    bob.wait_for_text("alice: 안녕 number 21")

    alice.chat.search_box.query.set("안녕")
    alice.chat.search_box.button.invoke()
    window = alice.app.rooms.results
    assert window is not None
    wait_until(lambda: len(window.rows()) == 20, what="the first page of results")
    assert window.rows()[0][1:] == ("# general", "alice", "안녕 number 21")
    assert window.more_button.instate(["!disabled"])
    window.more_button.invoke()
    wait_until(lambda: len(window.rows()) == 23, what="the second page")
    assert window.rows()[-1][1:] == ("# dev", "alice", "안녕하세요 개발자 여러분")
    assert window.more_button.instate(["disabled"])
    window.pick(22)
    assert alice.chat.rooms.current.key == "#dev"
    # bob is not in #dev: he finds only what he may see.
    bob.chat.search_box.query.set("개발자")
    bob.chat.search_box.button.invoke()
    bob_window = bob.app.rooms.results
    assert bob_window is not None
    wait_until(lambda: bob_window.status.cget("text") == "Nothing found.",
               what="bob's empty result")


def _admin(data: Path, *args: str) -> None:
    result = subprocess.run(server_command("admin", *args, "--data-dir", str(data)),
                            capture_output=True, text=True, timeout=TIMEOUT * 2)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_disabled_account_is_told_so(gui: Callable[[str], GuiClient],
                                       tmp_path: Path) -> None:
    data = tmp_path / "admin-data"
    with running_server(data, scrypt_n=2**10) as server:
        frog = gui("frog")
        frog.login(server.host, server.port, "frog", "pw")
        _admin(data, "disable", "frog")
        frog.wait_for_text("Connection to the server lost: the server's administrator "
                           "disabled your account")
        wait_until(frog.dialogs, what="the disconnection dialog")
        dialog = frog.dialogs()[-1]
        assert list(dialog.buttons) == ["OK"]  # no reconnect offered: it would be refused
        assert frog.chat.reconnect_button.instate(["disabled"])
        dialog.destroy()

        toad = gui("toad")
        toad.fill_login(server.host, server.port, "frog", "pw")
        assert toad.app.login_view is not None
        toad.press_enter(toad.app.login_view.entries["password"])
        wait_until(toad.dialogs, what="the login refusal")
        assert toad.dialogs()[-1].message == (
            "This ID has been disabled by the server's administrator. Ask them to enable "
            "it again.")
