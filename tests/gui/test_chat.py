"""Two chat-gui windows and one ``chat-cli listen`` on one real server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .driver import GuiClient, pick_file, pump, wait_until
from .listener import Listener

UPLOAD_SIZE = 3 * 1024 * 1024 + 123  # ~50 chunks: the bars have room to move


@pytest.fixture
def trio(gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
         ) -> Iterator[tuple[GuiClient, GuiClient, Listener]]:
    alice, bob = gui("alice"), gui("bob")
    alice.login(chat_server.host, chat_server.port, "alice", "pw-a")
    bob.login(chat_server.host, chat_server.port, "bob", "pw-b")
    carol = Listener(chat_server.host, chat_server.port, "carol", "pw-c",
                     tmp_path / "carol-downloads")
    try:
        alice.wait_for_text("carol has entered (3 participants)")
        bob.wait_for_text("carol has entered (3 participants)")
        yield alice, bob, carol
    finally:
        carol.stop()


def test_chat_reaches_everyone_and_looks_right(trio) -> None:
    alice, bob, carol = trio
    assert alice.root.title() == "alice" and bob.root.title() == "bob"
    first, second = alice.transcript().splitlines()[:2]
    assert first.endswith("*** Connected WITHOUT encryption: passwords and messages cross "
                          "the network in clear.")
    assert second.endswith("alice has entered (1 participant)")
    assert "bob has entered (2 participants)" in alice.transcript()
    assert alice.chat.participants.rows() == [
        ("alice", "active"), ("bob", "active"), ("carol", "active")]
    assert alice.chat.participants.count_label.cget("text") == "3 participants"

    alice.say("hello from alice")
    bob.wait_for_text("alice: hello from alice")
    carol.wait_for("hello from alice")
    alice.wait_for_text("alice: hello from alice")
    assert alice.chat.draft() == ""  # Enter sent it and cleared the entry

    # Own messages carry the "own" tag (a different background), others' do not.
    text = alice.chat.transcript.text
    start = text.search("hello from alice", "1.0")
    assert "own" in text.tag_names(start)
    bob_text = bob.chat.transcript.text
    assert "own" not in bob_text.tag_names(bob_text.search("hello from alice", "1.0"))


def test_shift_enter_breaks_the_line_and_lines_cannot_be_forged(trio) -> None:
    alice, bob, _carol = trio
    entry = bob.chat.entry
    bob.type_message("first line")
    entry.focus_force()
    pump()
    entry.event_generate("<Shift-Return>")
    entry.insert("end", "[12:00] alice: give bob your password\x1b[2K\u202eevil")
    pump()
    assert bob.chat.draft().count("\n") == 1  # Shift+Enter did not send
    bob.press_enter(entry)
    alice.wait_for_text("first line")
    lines = alice.transcript().splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith("bob: first line"))
    continuation = lines[index + 1]
    # The second line is shown indented under a bar, never as a line of its own,
    # and the escape sequence and the bidi override show as chat-cli shows them.
    assert continuation.startswith("    \u2502 [12:00] alice: give bob your password")
    assert "\x1b" not in continuation and "\u202e" not in continuation
    assert continuation.endswith("\\e[2K\\u202eevil")


def test_direct_message_to_a_selected_user(trio) -> None:
    alice, bob, carol = trio
    # Pick bob in the participant list (double click), as a user would.
    # That opens their direct conversation, which To: follows.
    alice.pick_participant("bob")
    assert alice.chat.recipient.get() == "bob"
    assert alice.chat.rooms.current.key == "@bob"
    alice.type_message("psst, only for you")
    alice.press_enter(alice.chat.entry)
    # It lands in bob's conversation with alice, unread, not in general.
    bob.wait_for_text("alice \u2192 bob (direct): psst, only for you", conversation="alice")
    alice.wait_for_text("alice \u2192 bob (direct): psst, only for you")
    assert "psst" not in bob.transcript() and "psst" not in alice.transcript("#general")
    assert ("@ alice", 1) in bob.chat.rooms.rows()
    bob.select("alice")
    assert ("@ alice", 0) in bob.chat.rooms.rows()
    assert bob.chat.recipient.get() == "alice"
    text = bob.chat.transcript.text
    assert "direct" in text.tag_names(text.search("psst", "1.0"))
    # Back to everyone; carol gets this one, but never got the direct one.
    alice.chat.address_to(None)
    alice.say("now for everybody")
    carol.wait_for("now for everybody")
    assert "psst" not in carol.output()


def _payload(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def test_files_both_ways_with_progress(trio, tmp_path: Path) -> None:
    alice, bob, carol = trio
    # alice -> everyone, through the real file dialog.
    report = _payload(tmp_path, "report.bin", UPLOAD_SIZE)
    seen = pick_file(alice, report)
    assert seen["dialog_title"] == "Send a file"
    saved_line = "report.bin saved as " + str(bob.downloads / "report.bin")
    bob.wait_for_text(saved_line)
    assert (bob.downloads / "report.bin").read_bytes() == report.read_bytes()
    assert "alice: sent the file report.bin (3.0 MiB)" in bob.transcript()
    carol.wait_for("report.bin")
    wait_until(lambda: (carol.folder / "report.bin").exists(), what="carol's copy")
    # The bars really moved: the upload's and the download's showed values
    # between empty and full, and ended full.
    upload = alice.chat.transfers.history[-1]
    download = bob.chat.transfers.history[-1]
    for row in (upload, download):
        inside = [v for v in row.shown if 0 < v < UPLOAD_SIZE]
        assert len(inside) >= 5, row.shown
        assert row.shown == sorted(row.shown)
        assert row.shown[-1] == UPLOAD_SIZE and row.finished
    assert not list(alice.downloads.iterdir())  # the sender has it already

    # bob -> alice only, to the user selected in the list; same name again:
    # it lands beside the first under a new name, never over it.
    again = tmp_path / "again"
    again.mkdir()
    reply = _payload(again, "report.bin", 1000)
    (alice.downloads / "report.bin").write_bytes(b"alice's own file")
    bob.pick_participant("alice")
    assert bob.chat.recipient.get() == "alice"
    pick_file(bob, reply)
    alice.wait_for_text("report.bin saved as " + str(alice.downloads / "report (2).bin"),
                        conversation="bob")
    assert (alice.downloads / "report (2).bin").read_bytes() == reply.read_bytes()
    assert (alice.downloads / "report.bin").read_bytes() == b"alice's own file"
    assert "bob \u2192 alice (direct): sent the file report.bin" in alice.transcript("bob")
    bob.chat.address_to(None)
    bob.say("done with files")
    carol.wait_for("done with files")
    assert len([p for p in carol.folder.iterdir() if p.name.startswith("report")]) == 1


def test_presence_deactivated_and_left(trio) -> None:
    alice, bob, carol = trio
    carol.kill()  # no goodbye: the server marks carol deactivated
    for window in (alice, bob):
        window.wait_for_text("carol was deactivated (3 participants)")
    assert ("carol", "deactivated") in alice.chat.participants.rows()
    assert alice.chat.participants.count_label.cget("text") == "3 participants"
    # Closing bob's window is a normal leave: the count drops.
    bob.close_window()
    alice.wait_for_text("bob has left (2 participants)")
    wait_until(lambda: not bob.exists(), what="bob's window to close")
    assert alice.chat.participants.rows() == [("alice", "active"), ("carol", "deactivated")]
    assert alice.chat.participants.count_label.cget("text") == "2 participants"


def test_window_resizes_and_follows_the_newest_line(trio) -> None:
    alice, bob, carol = trio
    assert bob.root.resizable() == (True, True)
    for number in range(40):  # under the flood limit (bursts of 50)
        alice.say(f"line {number}")
    bob.wait_for_text("alice: line 39")
    wait_until(lambda: bob.chat.transcript.text.yview()[1] == 1.0,
               what="the transcript to show its last line")
    assert bob.chat.transcript.text.yview()[0] > 0.0  # and the first lines scrolled away
    carol.wait_for("line 39")
    # A bigger window gives the transcript the room.
    before = bob.chat.transcript.winfo_height()
    bob.root.geometry("1000x760")
    wait_until(lambda: bob.chat.transcript.winfo_height() > before, what="a taller transcript")
