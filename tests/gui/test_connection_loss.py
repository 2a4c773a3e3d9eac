"""Issue 14, item 8: what the window shows and does around a lost connection
and a first-contact certificate question."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatproto.session.tls import PIN_FILE_NAME
from chatserver.log import LOGGER_NAME
from chatserver.tls import ensure_self_signed
from support import RawClient, running_server

from .driver import GuiClient, pump, wait_until


def _row_look(client: GuiClient, name: str) -> tuple[str, tuple[str, ...]]:
    """The state column and the tags of ``name``'s row, as the tree draws it."""
    tree = client.chat.participants.tree
    (state,) = tree.item(name, "values")
    return str(state), tuple(str(tag) for tag in tree.item(name, "tags"))


def test_participants_are_unknown_while_the_connection_is_down(
    gui: Callable[[str], GuiClient], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    alice = gui("alice")
    with running_server(data, scrypt_n=2**10) as first:
        port = first.port
        alice.login(first.host, port, "alice", "pw")
        bob = RawClient.login_as(first, "bob", "pw-b")
        wait_until(lambda: ("bob", "active") in alice.chat.participants.rows(),
                   what="bob in alice's list")
        assert _row_look(alice, "bob") == ("active", ("active",))
    # The server stopped under both of them (bob's socket stays open until now).
    bob.close()
    alice.wait_for_text("Connection to the server lost")

    participants = alice.chat.participants
    assert participants.rows() == [("alice", "unknown"), ("bob", "unknown")]
    assert _row_look(alice, "bob") == ("unknown", ("unknown",))
    assert _row_look(alice, "alice") == ("unknown", ("unknown", "me"))
    # Greyed: the tag that every row carries now has a colour of its own.
    grey = str(participants.tree.tag_configure("unknown", "foreground"))
    assert grey and grey != str(participants.tree.tag_configure("active", "foreground"))
    assert participants.count_label.cget("text") == "Participants: unknown"

    (offer,) = alice.dialogs()
    with running_server(data, scrypt_n=2**10, port=port) as second, \
            RawClient.login_as(second, "carol", "pw-c"):
        offer.buttons["Reconnect"].invoke()
        alice.wait_for_text("Reconnected.")
        # The real states again, from the new login's participant list: bob
        # never came back, carol is new.
        assert participants.rows() == [("alice", "active"), ("carol", "active")]
        assert _row_look(alice, "carol") == ("active", ("active",))
        assert _row_look(alice, "alice") == ("active", ("active", "me"))
        assert participants.count_label.cget("text") == "2 participants"


def _trust_dialog(client: GuiClient):  # type: ignore[no-untyped-def]
    wait_until(lambda: [d for d in client.dialogs() if d.kind == "trust"],
               what="the first-contact question")
    (dialog,) = client.dialogs()
    return dialog


def test_enter_in_the_trust_dialog_does_not_trust(
    gui: Callable[[str], GuiClient], tmp_path: Path
) -> None:
    with running_server(tmp_path / "data", scrypt_n=2**10, tls=True) as server:
        client = gui("frog")
        client.fill_login(server.host, server.port, "frog", "pw", tls=True)
        client.press_enter(client.app.login_view.entries["password"])  # type: ignore[union-attr]
        dialog = _trust_dialog(client)
        cancel = dialog.buttons["Cancel"]
        # The safe choice is the default button, and it has the focus.
        assert str(cancel.cget("default")) == "active"
        assert str(dialog.buttons["Trust"].cget("default")) != "active"
        wait_until(lambda: dialog.focus_get() is cancel, what="the focus on Cancel")
        # Enter, as a user presses it while the question is in front of them.
        cancel.event_generate("<Return>")
        pump()
        wait_until(lambda: [d for d in client.dialogs() if d.kind == "error"],
                   what="the refusal")
        (refusal,) = client.dialogs()
        assert refusal.message == (
            f"You did not trust the certificate of {server.host}:{server.port}; "
            "nothing was sent.")
        assert not (client.config_dir / PIN_FILE_NAME).exists()
        assert server.call(lambda: server.server.hub.store.account("frog")) is None


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def server_log() -> Iterator[_Lines]:
    """The in-process server's log lines (its logger, whatever its handlers)."""
    logger = logging.getLogger(LOGGER_NAME)
    lines, level = _Lines(), logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)


def test_trusting_after_the_login_timeout_still_logs_in(
    gui: Callable[[str], GuiClient], tmp_path: Path, server_log: _Lines
) -> None:
    data = tmp_path / "data"
    with running_server(data, scrypt_n=2**10, tls=True, login_timeout=0.5) as server:
        expected = ensure_self_signed(data).fingerprint
        frog = gui("frog")
        frog.fill_login(server.host, server.port, "frog", "pw", tls=True)
        frog.press_enter(frog.app.login_view.entries["password"])  # type: ignore[union-attr]
        dialog = _trust_dialog(frog)
        # The person reads slowly: the server gives up on the connection the
        # question arrived on.
        wait_until(lambda: any("no login in time" in m for m in server_log.messages),
                   what="the server's login timeout")
        server.wait_until(lambda: len(server.server.ctx.registry) == 0,
                          what="the connection to be closed")
        pump(0.1)
        assert dialog.winfo_exists()
        dialog.buttons["Trust"].invoke()
        wait_until(lambda: frog.app.chat_view is not None or
                   [d for d in frog.dialogs() if d.kind != "trust"], what="the login")
        assert frog.app.chat_view is not None, [d.message for d in frog.dialogs()]
        frog.wait_for_text(f"Trusted the certificate of {server.host}:{server.port} from now "
                           f"on: {expected}")
        assert "frog" in server.participants()
        assert expected in (frog.config_dir / PIN_FILE_NAME).read_text(encoding="utf-8")
