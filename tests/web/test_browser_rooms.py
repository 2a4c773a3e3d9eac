"""Rooms through the page: create, join, invite, leave; a room's messages
stay in the room (its members only, its own transcript, unread counts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chatproto import (
    ChatMessage,
    JoinRoom,
    Membership,
    RequestRejected,
    RequestRejectReason,
)
from cli.clitools import run_cli
from support import RawClient, ServerProcess

from .browser import WebUser, css_string
from .conftest import url_of


def room_item(user: WebUser, room: str, member: str | None = "true") -> str:
    selector = f"ul#rooms li[data-room={css_string(room)}]"
    return selector + (f'[data-member="{member}"]' if member is not None else "")


def room_form(user: WebUser, button: str, room: str | None = None, private: bool = False,
              invite: str | None = None) -> None:
    """Open the inline form of ``button`` and submit it."""
    user.page.click(f"button#{button}")
    if room is not None:
        user.page.fill("input#room-name", room)
    if private:
        user.page.check("input#room-private")
    if invite is not None:
        user.page.fill("input#invite-user", invite)
    user.page.click("button#room-submit")


def show_room(user: WebUser, room: str) -> None:
    user.page.click(room_item(user, room, None))


def test_a_room_made_in_the_page_keeps_its_messages(
    web_server: ServerProcess, browser_user: Callable[..., WebUser], home: Path,
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "carol", "pw") as carol:
        alice = browser_user(url)
        alice.login("alice")
        bob = browser_user(url)
        bob.login("bob")
        room_form(alice, "create-room", room="dev")
        alice.page.locator(room_item(alice, "dev")).wait_for(state="attached")
        room_form(bob, "join-room", room="dev")
        bob.page.locator(room_item(bob, "dev")).wait_for(state="attached")
        member = alice.wait_lines(
            lambda ls: any(line.kind == "member" and "bob" in line.text for line in ls),
            "bob's joining of dev at alice",
        )
        assert [line.room for line in member if line.kind == "member"][-1] == "dev"

        show_room(alice, "dev")
        alice.send("in dev only", to="#dev")
        line = bob.wait_chat("in dev only")
        assert line.room == "dev" and line.sender == "alice"
        # A chat-cli member sees it in the room too; carol, no member, never.
        sent = run_cli(web_server, "alice", "send", "--room", "dev", "from the cli",
                       home=home)
        assert sent.returncode == 0, sent.stderr
        assert bob.wait_chat("from the cli").room == "dev"
        bob.send("in general", to="")
        event = carol.wait_for(ChatMessage)
        assert event.text == "in general"
        assert not any(isinstance(e, ChatMessage) and e.text != "in general"
                       for e in carol.received)

        # bob looks at general: a new dev line is counted, not shown there.
        show_room(bob, "general")
        alice.send("while bob looks elsewhere", to="#dev")
        hidden = bob.wait_chat("while bob looks elsewhere")
        assert hidden.room == "dev" and not hidden.visible
        bob.page.locator(room_item(bob, "dev", None) + '[data-unread="1"]').wait_for(
            state="attached")
        show_room(bob, "dev")
        assert bob.wait_chat("while bob looks elsewhere").visible
        bob.page.locator(room_item(bob, "dev", None) + '[data-unread="0"]').wait_for(
            state="attached")

        room_form(bob, "leave-room")
        alice.wait_lines(
            lambda ls: any(line.kind == "member" and "bob" in line.text
                           and "left" in line.text.lower() for line in ls),
            "bob's leaving of dev at alice",
        )


def test_a_private_room_and_an_invitation(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "carol", "pw") as carol:
        alice = browser_user(url)
        alice.login("alice")
        bob = browser_user(url)
        bob.login("bob")
        room_form(alice, "create-room", room="secret", private=True)
        alice.page.locator(room_item(alice, "secret")).wait_for(state="attached")
        show_room(alice, "secret")
        room_form(alice, "invite", invite="bob")
        bob.page.locator(room_item(bob, "secret")).wait_for(state="attached")
        alice.send("just us", to="#secret")
        assert bob.wait_chat("just us").room == "secret"
        alice.send("everyone", to="")
        assert carol.wait_for(ChatMessage).text == "everyone"
        assert not any(isinstance(e, Membership) and e.room == "secret" for e in carol.received)
        # carol cannot join what she cannot see.
        carol.send(JoinRoom(1, "secret"))
        refusal = carol.wait_for(RequestRejected)
        assert refusal.reason == RequestRejectReason.NOT_FOUND, refusal
