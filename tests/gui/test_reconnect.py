"""Losing the server: a notice, an offer to reconnect, nothing lost or doubled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chatproto import ChatMessage, SendChat
from chatproto.session import SeqStore
from support import RawClient, running_server

from .driver import GuiClient, pump, wait_until


def test_reconnect_resumes_without_losing_messages(
    gui: Callable[[str], GuiClient], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    alice = gui("alice")
    with running_server(data, scrypt_n=2**10) as first:
        port = first.port
        alice.login(first.host, port, "alice", "pw")
        alice.say("before the outage")
        alice.wait_for_text("alice: before the outage")
    # The server is gone: a notice in the transcript and a dialog that offers
    # to reconnect; sending is disabled meanwhile.
    alice.wait_for_text("Connection to the server lost")
    wait_until(alice.dialogs, what="the reconnect offer")
    (offer,) = alice.dialogs()
    assert "Reconnect now?" in offer.message
    assert alice.chat.send_button.instate(["disabled"])
    assert alice.chat.banner.winfo_ismapped()

    with running_server(data, scrypt_n=2**10, port=port) as second:
        with RawClient.login_as(second, "bob", "pw-b") as bob:
            bob.send(SendChat("said while alice was away", client_id=1))
            bob.wait_for(ChatMessage)
            bob.send(SendChat("and a second one", client_id=2))
            bob.wait_for(ChatMessage)
            offer.buttons["Reconnect"].invoke()
            alice.wait_for_text("and a second one")
            pump(0.2)
        text = alice.transcript()
        assert "Reconnected." in text
        # Back by the lost session's resume token: the server checked no password of
        # alice's (its one scrypt run was bob's registration).
        link = alice.app.link
        assert link is not None and link.session is not None and link.session.by_resume_token
        assert second.call(lambda: second.server.hub.logins.password_hashes) == 1
        # Missed messages were replayed, in order; nothing seen before came twice.
        assert text.count("before the outage") == 1
        assert text.index("said while alice was away") < text.index("and a second one")
        assert not alice.chat.banner.winfo_ismapped()
        assert alice.chat.send_button.instate(["!disabled"])
        alice.say("back again")
        alice.wait_for_text("alice: back again")


def test_messages_missed_while_away_are_replayed_at_login(
    gui: Callable[[str], GuiClient], chat_server
) -> None:
    alice = gui("alice")
    alice.login(chat_server.host, chat_server.port, "alice", "pw")
    alice.say("seen before leaving")
    alice.wait_for_text("alice: seen before leaving")
    alice.destroy()  # a normal leave; the last seq seen is kept in alice's config

    with RawClient.login_as(chat_server, "bob", "pw-b") as bob:
        for number in range(1, 6):
            bob.send(SendChat(f"missed {number}", client_id=number))
            bob.wait_for(ChatMessage)

    back = GuiClient(alice.config_dir, alice.downloads)
    try:
        back.login(chat_server.host, chat_server.port, "alice", "pw")
        back.wait_for_text("missed 5")
        text = back.transcript()
        positions = [text.index(f"bob: missed {n}") for n in range(1, 6)]
        assert positions == sorted(positions)
        assert "seen before leaving" not in text
    finally:
        back.destroy()


def test_a_server_whose_history_was_reset_is_replayed_from_the_start(
    gui: Callable[[str], GuiClient], tmp_path: Path
) -> None:
    """Issue 11: the server's data folder is replaced while alice is away. Its seqs
    start again from 1, below what alice has seen; without the history epoch the
    messages up to her old seq were silently skipped."""
    alice = gui("alice")
    with running_server(tmp_path / "old", scrypt_n=2**10) as first:
        port = first.port
        alice.login(first.host, port, "alice", "pw")
        for number in range(1, 4):
            alice.say(f"old {number}")
            alice.wait_for_text(f"alice: old {number}")
    alice.wait_for_text("Connection to the server lost")
    wait_until(alice.dialogs, what="the reconnect offer")
    (offer,) = alice.dialogs()
    with running_server(tmp_path / "new", scrypt_n=2**10, port=port) as second:
        RawClient.login_as(second, "alice", "pw").goodbye()  # her account is on it too
        with RawClient.login_as(second, "bob", "pw-b") as bob:
            for number in range(1, 4):
                bob.send(SendChat(f"new {number}", client_id=number))
                bob.wait_for(ChatMessage)
        offer.buttons["Reconnect"].invoke()
        alice.wait_for_text("bob: new 3")
        text = alice.transcript()
        assert "history was reset or replaced" in text
        positions = [text.index(f"bob: new {n}") for n in range(1, 4)]
        assert positions == sorted(positions)
        # The mark kept for the next start belongs to the new history.
        epoch = second.server.hub.store.epoch
        mark = SeqStore(alice.config_dir / "last_seq.json").load_mark(second.host, port, "alice")
        assert mark == (3, epoch)
