"""The login window: defaults, Enter, remembered settings, errors as dialogs."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

from frontends.gui.settings import SETTINGS_FILE
from support import RawClient, running_server

from .driver import GuiClient, pump, wait_until


def test_defaults_and_masked_password(gui: Callable[[str], GuiClient]) -> None:
    client = gui("fresh")
    view = client.app.login_view
    assert view is not None
    assert view.server.get() == "localhost"
    assert view.port.get() == "9000"
    assert view.username.get() == ""
    assert str(view.entries["password"].cget("show")) != ""
    assert view.login_button.cget("text") == "Login"
    assert view.cancel_button.cget("text") == "Cancel"


def test_enter_logs_in_and_settings_are_remembered(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    first = gui("frog")
    first.login(chat_server.host, chat_server.port, "frog", "pw")
    assert first.root.title() == "frog"
    first.wait_for_text("frog has entered")
    saved = json.loads((first.config_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert (saved["server"], saved["port"], saved["username"]) == (
        chat_server.host, chat_server.port, "frog")
    assert "pw" not in json.dumps(saved)
    first.destroy()

    # The next start fills the form from the settings file.
    again = GuiClient(first.config_dir, first.downloads)
    try:
        view = again.app.login_view
        assert view is not None
        assert (view.server.get(), view.port.get(), view.username.get()) == (
            chat_server.host, str(chat_server.port), "frog")
        assert view.password.get() == ""
        assert again.root.focus_lastfor() is view.entries["password"]
    finally:
        again.destroy()


def _error_dialog(client: GuiClient) -> str:
    wait_until(client.dialogs, what="an error dialog")
    dialogs = client.dialogs()
    assert len(dialogs) == 1
    message = dialogs[0].message
    # The dialog is a real window on screen, over the login window.
    assert dialogs[0].winfo_ismapped()
    dialogs[0].buttons["OK"].invoke()
    pump()
    assert client.dialogs() == []
    # The form is usable again.
    assert client.app.login_view is not None
    assert not client.app.login_view.busy
    return message


def test_id_in_use_is_refused_with_a_dialog(gui: Callable[[str], GuiClient], chat_server) -> None:
    with RawClient.login_as(chat_server, "frog", "pw"):
        client = gui("second")
        client.fill_login(chat_server.host, chat_server.port, "frog", "pw")
        assert client.app.login_view is not None
        client.app.login_view.login_button.invoke()
        assert _error_dialog(client) == "This ID is already in use."
        assert client.app.chat_view is None


def test_wrong_password_then_rate_limited(gui: Callable[[str], GuiClient], tmp_path: Path) -> None:
    with running_server(tmp_path / "data", scrypt_n=2**10, max_failed_logins_per_user=1) as srv:
        RawClient.login_as(srv, "frog", "right").goodbye()
        client = gui("intruder")
        client.fill_login(srv.host, srv.port, "frog", "wrong")
        assert client.app.login_view is not None
        client.press_enter(client.app.login_view.entries["password"])
        assert _error_dialog(client) == "Wrong password for this ID."
        client.press_enter(client.app.login_view.entries["password"])
        assert _error_dialog(client) == (
            "Too many login attempts. Wait a minute, then try again.")


def test_unreachable_server_is_a_dialog(gui: Callable[[str], GuiClient]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = gui("lonely")
    client.fill_login("127.0.0.1", port, "frog", "pw")
    assert client.app.login_view is not None
    client.app.login_view.login_button.invoke()
    message = _error_dialog(client)
    assert message.startswith(f"The server 127.0.0.1:{port} cannot be reached.")


def test_bad_input_is_caught_before_connecting(gui: Callable[[str], GuiClient]) -> None:
    client = gui("typo")
    client.fill_login("localhost", 0, "frog", "pw")
    client.app.login_view.port.set("90x")  # type: ignore[union-attr]
    client.app.login_view.login_button.invoke()  # type: ignore[union-attr]
    assert _error_dialog(client) == "The port must be a number between 1 and 65535."
    client.fill_login("localhost", 9000, "no spaces", "pw")
    client.app.login_view.login_button.invoke()  # type: ignore[union-attr]
    assert "letters, digits" in _error_dialog(client)


def test_window_stays_responsive_while_connecting(gui: Callable[[str], GuiClient]) -> None:
    """A server that accepts but never answers: the login runs off the Tk
    thread, so the window keeps repainting and shows that it is connecting."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = gui("patient")
        client.fill_login("127.0.0.1", silent.getsockname()[1], "frog", "pw")
        view = client.app.login_view
        assert view is not None
        view.login_button.invoke()
        pump(0.3)
        assert view.busy
        assert "Connecting to 127.0.0.1" in str(view.status.cget("text"))
        assert view.spinner.winfo_ismapped()
        # The Tk thread is free: a callback scheduled now runs now.
        ran: list[bool] = []
        client.root.after(1, lambda: ran.append(True))
        wait_until(lambda: ran, timeout=2, what="the event loop to run a callback")
        # Cancel while connecting leaves at once.
        view.cancel_button.invoke()
        wait_until(lambda: not client.exists(), timeout=5, what="the window to close")
