"""chat-gui on a server from before rooms (protocol version 3): just general
and direct conversations, no room buttons, no search, nothing refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .driver import GuiClient
from .old_server import OldServer, old_server


@pytest.fixture
def old() -> Iterator[OldServer]:
    # Requested before ``gui``: torn down after the windows have left.
    with old_server() as server:
        yield server


def test_an_old_server_shows_just_general(old: OldServer,
                                          gui: Callable[[str], GuiClient]) -> None:
    frog, toad = gui("frog"), gui("toad")
    frog.login(old.host, old.port, "frog", "pw")
    toad.login(old.host, old.port, "toad", "pw")
    frog.say("hello from version 3")
    toad.wait_for_text("frog: hello from version 3")
    frog.wait_for_text("frog: hello from version 3")
    for window in (frog, toad):
        rooms = window.chat.rooms
        assert not rooms.rooms_supported
        assert not rooms.create_button.winfo_ismapped()
        assert not window.chat.search_box.winfo_ismapped()
    assert frog.chat.rooms.rows() == [("# general", 0)]
    # Direct messages still work, each in its own conversation.
    toad.say("psst", to="frog")
    frog.wait_for_text("toad \u2192 frog (direct): psst", conversation="toad")
    assert frog.chat.rooms.rows() == [("# general", 0), ("@ toad", 1)]
    assert "psst" not in frog.transcript()
    assert [label for label, _n in toad.chat.rooms.rows()] == ["# general", "@ frog"]
    assert not frog.dialogs() and not toad.dialogs()
    assert not [e for e in old.seen if hasattr(e, "request_id")]
