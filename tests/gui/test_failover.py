"""Issue 18, client failover in chat-gui: a list of servers in the *Server* field.

The second address serves the first's data folder once the first is gone (one
history, one token table: a cluster's other node as the client sees it)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from chatproto import ChatMessage, SendChat
from support import RawClient, running_server

from .driver import GuiClient, pump, wait_until


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_reconnect_goes_to_the_next_server_by_token_and_says_which(
    gui: Callable[[str], GuiClient], tmp_path: Path
) -> None:
    data, a_port, b_port = tmp_path / "data", closed_port(), closed_port()
    servers = f"127.0.0.1:{a_port},127.0.0.1:{b_port}"
    alice = gui("alice")
    with running_server(data, scrypt_n=2**10, port=a_port) as first:
        alice.login(servers, first.port, "alice", "pw")
        alice.say("before the outage")
        alice.wait_for_text("alice: before the outage")
    alice.wait_for_text("Connection to the server lost")
    wait_until(alice.dialogs, what="the reconnect offer")
    (offer,) = alice.dialogs()
    with running_server(data, scrypt_n=2**10, port=b_port) as second:
        with RawClient.login_as(second, "bob", "pw-b") as bob:
            bob.send(SendChat("said while alice was away", client_id=1))
            bob.wait_for(ChatMessage)
            offer.buttons["Reconnect"].invoke()
            alice.wait_for_text(f"Reconnected to 127.0.0.1:{b_port}.")
            alice.wait_for_text("said while alice was away")
            pump(0.2)
        link = alice.app.link
        assert link is not None and link.session is not None and link.session.by_resume_token
        assert link.server is not None and link.server.port == b_port
        assert alice.transcript().count("before the outage") == 1
        alice.say("back again")
        alice.wait_for_text("alice: back again")


def test_a_bad_list_is_refused_before_connecting(
    gui: Callable[[str], GuiClient],
) -> None:
    alice = gui("alice")
    alice.fill_login("a,,b", 9000, "alice", "pw")
    assert alice.app.login_view is not None
    alice.press_enter(alice.app.login_view.entries["password"])
    wait_until(alice.dialogs, what="the refusal")
    (refusal,) = alice.dialogs()
    assert "not valid" in refusal.message and "empty server" in refusal.message
    assert alice.app.chat_view is None
