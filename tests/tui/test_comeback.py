"""A lost connection and a comeback; trust on first use, asked in a dialog."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Static

from chatproto.session import ClientTLS, PinStore
from cli.clitools import Listener
from frontends.tui.screens import LoginScreen, TrustScreen
from support import ServerProcess, server_process

from .proxy import CuttableProxy
from .tuitools import (
    chat,
    cli,
    contains,
    logged_in,
    make_app,
    next_line,
    shows,
    text_on_screen,
    type_line,
    until,
)

FINGERPRINT_RE = r"(SHA256:(?:[0-9A-F]{2}:){31}[0-9A-F]{2})"


def test_comeback_with_the_replay_of_what_was_missed(
    server_proc: ServerProcess, tui_dir: Path, home: Path
) -> None:
    async def scenario() -> None:
        proxy = CuttableProxy(server_proc.address)
        await proxy.start()
        app = make_app(proxy, "개구리", tui_dir)
        try:
            with Listener(server_proc, "frog", home=home) as frog:
                await next_line(frog, contains("* frog joined"))
                async with app.run_test() as pilot:
                    await logged_in(pilot, app)
                    await cli(server_proc, "frog", "send", "before the cut", home=home)
                    await until(pilot, shows(app, "frog: before the cut"), "the first message")

                    await proxy.cut()
                    await until(pilot, shows(app, "Connection to the server lost"), "the loss")
                    await next_line(frog, contains("* 개구리 deactivated"))
                    await cli(server_proc, "frog", "send", "while you were away", home=home)
                    # Typed while away: refused, and kept in the input.
                    await type_line(pilot, "are you there?")
                    await until(pilot, shows(app, "Not connected: nothing was sent."), "refusal")
                    assert chat(app).composer.text == "are you there?"

                    await proxy.mend()
                    await until(pilot, shows(app, "Reconnected."), "the comeback")
                    await next_line(frog, contains("* 개구리 rejoined"))
                    await until(pilot, shows(app, "frog: while you were away"), "the replay")
                    assert text_on_screen(app).count("before the cut") == 1
                    assert chat(app).status == ""

                    await pilot.press("enter")  # what was kept goes now
                    await next_line(frog, contains("<개구리> are you there?"))
        finally:
            await proxy.close()

    asyncio.run(scenario())


def _status(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    if not isinstance(screen, LoginScreen):
        return ""
    return str(screen.query_one("#login-status", Static).render())


def test_the_first_certificate_is_trusted_only_when_the_user_says_so(
    tmp_path: Path, home: Path
) -> None:
    with server_process(tmp_path / "data", "--flood-rate", "0", tls=True) as server:
        fingerprint = server.wait_for_line(FINGERPRINT_RE).group(1)

        async def refuse() -> None:
            app = make_app(server, "개구리", tmp_path / "refusing")
            async with app.run_test() as pilot:
                await until(pilot, lambda: isinstance(app.screen, TrustScreen), "the question")
                await pilot.press("escape")
                await until(pilot, lambda: "did not trust" in _status(app), "the refusal")
            assert not (tmp_path / "refusing" / "known_servers").exists()

        async def trust() -> None:
            app = make_app(server, "개구리", tmp_path / "trusting")
            async with app.run_test(size=(100, 30)) as pilot:
                await until(pilot, lambda: isinstance(app.screen, TrustScreen), "the question")
                message = str(app.screen.query_one("#trust-message", Static).render())
                assert fingerprint in message.replace("\n", "")
                await pilot.click("#trust")
                await logged_in(pilot, app)
                await until(pilot, shows(app, "Trusted the certificate of"), "the notice")
            pins = (tmp_path / "trusting" / "known_servers").read_text(encoding="utf-8")
            assert fingerprint in pins

        async def pinned() -> None:
            app = make_app(server, "개구리", tmp_path / "trusting")  # the pin from before
            async with app.run_test() as pilot:
                await logged_in(pilot, app)
                assert not any(isinstance(s, TrustScreen) for s in app.screen_stack)
                # A fingerprint folds across lines: compare without the spaces.
                await until(pilot, lambda: fingerprint in "".join(text_on_screen(app).split()),
                            "the notice")
                await type_line(pilot, "/quit")
                await until(pilot, lambda: app.return_code is not None, "the exit")

        (tmp_path / "refusing").mkdir()
        (tmp_path / "trusting").mkdir()
        asyncio.run(refuse())
        asyncio.run(trust())
        asyncio.run(pinned())


def test_a_download_cut_by_a_loss_is_resumed_after_the_comeback(
    server_proc: ServerProcess, tui_dir: Path, home: Path
) -> None:
    big = home / "big.bin"
    big.write_bytes(bytes(range(256)) * 8192)  # 2 MiB

    async def scenario() -> None:
        proxy = CuttableProxy(server_proc.address)
        await proxy.start()
        app = make_app(proxy, "개구리", tui_dir)
        try:
            async with app.run_test() as pilot:
                await logged_in(pilot, app)
                proxy.hold_after(256 * 1024)  # the announcement and a part of the file
                await cli(server_proc, "toad", "send-file", str(big), home=home)
                await until(pilot, lambda: proxy.holding.is_set() and bool(
                    chat(app).transfers.bars), "a download under way, stalled")
                await proxy.cut()
                await until(pilot, shows(app, "Connection to the server lost"), "the loss")
                await proxy.mend()
                await until(pilot, shows(app, "big.bin saved as"), "the resumed download")
                assert (tui_dir / "downloads" / "big.bin").read_bytes() == big.read_bytes()
                assert text_on_screen(app).count("sent the file big.bin") == 1
                assert not list((tui_dir / "downloads").glob("*.part"))
        finally:
            await proxy.close()

    asyncio.run(scenario())


def test_a_changed_certificate_stops_the_comeback_until_ctrl_r(
    tmp_path: Path, tui_dir: Path
) -> None:
    with (server_process(tmp_path / "a", "--flood-rate", "0", tls=True) as real,
          server_process(tmp_path / "b", "--flood-rate", "0", tls=True) as impostor):
        fingerprint = real.wait_for_line(FINGERPRINT_RE).group(1)

        async def scenario() -> None:
            proxy = CuttableProxy(real.address)
            await proxy.start()
            PinStore(tui_dir / "known_servers").add(proxy.host, proxy.port, fingerprint)
            app = make_app(proxy, "개구리", tui_dir,
                           tls=ClientTLS(pins=PinStore(tui_dir / "known_servers")))
            try:
                async with app.run_test() as pilot:
                    await logged_in(pilot, app)
                    await proxy.cut()
                    proxy.target = impostor.address
                    await proxy.mend()
                    await until(pilot, shows(app, "has changed since you first trusted it"),
                                "the refusal")
                    await until(pilot, shows(app, "Ctrl+R tries again."), "the way out")
                    assert chat(app).status == "Disconnected"
                    await proxy.cut()
                    proxy.target = real.address
                    await proxy.mend()
                    await pilot.press("ctrl+r")
                    await until(pilot, shows(app, "Reconnected."), "the comeback")
            finally:
                await proxy.close()

        asyncio.run(scenario())
