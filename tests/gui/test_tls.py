"""TLS from the login window: trust on first use asks the user, then pins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chatproto.session.tls import PIN_FILE_NAME
from chatserver.tls import ensure_self_signed
from support import running_server

from .driver import GuiClient, wait_until


def _trust_dialog(client: GuiClient):  # type: ignore[no-untyped-def]
    wait_until(lambda: [d for d in client.dialogs() if d.kind == "trust"],
               what="the first-contact question")
    (dialog,) = client.dialogs()
    return dialog


def test_first_contact_asks_then_pins(gui: Callable[[str], GuiClient], tmp_path: Path) -> None:
    with running_server(tmp_path / "data", scrypt_n=2**10, tls=True) as server:
        expected = ensure_self_signed(tmp_path / "data").fingerprint

        # Declining sends nothing and says so.
        wary = gui("wary")
        wary.fill_login(server.host, server.port, "frog", "pw", tls=True)
        wary.app.login_view.login_button.invoke()  # type: ignore[union-attr]
        dialog = _trust_dialog(wary)
        assert expected in dialog.message
        # The form shows it is waiting while the question is open.
        assert wary.app.login_view.busy  # type: ignore[union-attr]
        dialog.buttons["Cancel"].invoke()
        wait_until(wary.dialogs, what="the refusal")
        (refusal,) = wary.dialogs()
        assert refusal.message == (
            f"You did not trust the certificate of {server.host}:{server.port}; "
            "nothing was sent.")
        assert not (wary.config_dir / PIN_FILE_NAME).exists()

        # Trusting it pins it in the config folder and logs in over TLS.
        frog = gui("frog")
        frog.fill_login(server.host, server.port, "frog", "pw", tls=True)
        frog.press_enter(frog.app.login_view.entries["password"])  # type: ignore[union-attr]
        _trust_dialog(frog).buttons["Trust"].invoke()
        wait_until(lambda: frog.app.chat_view is not None, what="the chat window")
        frog.wait_for_text(f"Trusted the certificate of {server.host}:{server.port} from now "
                           f"on: {expected}")
        pins = (frog.config_dir / PIN_FILE_NAME).read_text(encoding="utf-8")
        assert expected in pins
        frog.destroy()

        # Next time the pin is used without a question.
        again = GuiClient(frog.config_dir, frog.downloads)
        try:
            assert again.app.login_view is not None
            assert again.app.login_view.tls.get()  # remembered
            again.fill_login(server.host, server.port, "frog", "pw", tls=True)
            again.press_enter(again.app.login_view.entries["password"])
            wait_until(lambda: again.app.chat_view is not None or again.dialogs(),
                       what="the login")
            assert again.dialogs() == []
            again.wait_for_text(f"Encrypted connection (TLS), certificate {expected}")
        finally:
            again.destroy()


def test_changed_certificate_is_refused(gui: Callable[[str], GuiClient], tmp_path: Path
                                        ) -> None:
    with running_server(tmp_path / "data", scrypt_n=2**10, tls=True) as server:
        client = gui("frog")
        fake = "SHA256:" + ":".join(["AB"] * 32)
        (client.config_dir / PIN_FILE_NAME).write_text(
            f"{server.host}:{server.port} {fake}\n", encoding="utf-8")
        client.fill_login(server.host, server.port, "frog", "pw", tls=True)
        client.app.login_view.login_button.invoke()  # type: ignore[union-attr]
        wait_until(client.dialogs, what="the refusal")
        (dialog,) = client.dialogs()
        assert dialog.message.startswith(
            f"The certificate of {server.host}:{server.port} has changed since you first "
            f"trusted it (expected {fake}, got SHA256:")
        assert str(client.config_dir / PIN_FILE_NAME) in dialog.message


def test_tls_against_a_plain_server_says_what_to_do(
    gui: Callable[[str], GuiClient], chat_server
) -> None:
    client = gui("frog")
    client.fill_login(chat_server.host, chat_server.port, "frog", "pw", tls=True)
    client.app.login_view.login_button.invoke()  # type: ignore[union-attr]
    wait_until(client.dialogs, what="the error")
    (dialog,) = client.dialogs()
    assert dialog.message == (
        f"The encrypted connection to {chat_server.host}:{chat_server.port} failed. If the "
        'server runs without TLS (--no-tls), untick "Encrypted connection".')
