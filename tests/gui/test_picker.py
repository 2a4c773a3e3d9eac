"""The File button's picker: parented to the chat window, no stray "tk" window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .driver import FILE_DIALOG, GuiClient, pick_file, pump, toplevels, visible_window_names


def test_picker_opens_no_extra_window(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    before_tk = toplevels(frog.root)
    before_x = visible_window_names()
    assert before_tk == ["."]
    assert before_x == ["frog"]

    seen = pick_file(frog, None)  # look while it is open, then Cancel

    # While open: exactly one more toplevel, the dialog, a child of the chat
    # window and transient for it; on the X display, no window titled "tk".
    assert seen["toplevels"] == [".", FILE_DIALOG]
    assert seen["transient_for"] == "."
    assert sorted(seen["windows"]) == sorted(["frog", "Send a file"])  # type: ignore[arg-type]
    assert "tk" not in seen["windows"]  # type: ignore[operator]
    # After Cancel: back to the chat window alone, and nothing was sent.
    pump(0.2)
    assert toplevels(frog.root) == ["."]
    assert visible_window_names() == ["frog"]
    assert "sent the file" not in frog.transcript()
    assert frog.chat.transfers.rows == {}

    # Picking a file sends it; still no stray window afterwards.
    note = tmp_path / "note.txt"
    note.write_text("hi", encoding="utf-8")
    pick_file(frog, note)
    frog.wait_for_text("frog: sent the file note.txt (2 bytes)")
    assert visible_window_names() == ["frog"]

