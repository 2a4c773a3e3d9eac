#!/usr/bin/env python3
"""Take the README's screenshots of chat-gui: docs/images/login.png and chat.png.

    python scripts/screenshots.py [--out docs/images]

Runs everything for real in a private X server: Xvfb (apt: xvfb), a
``chat-server`` in a temporary folder (TLS on, its own certificate), a few
users driven through the client session, and the GUI itself in this
process. Captures use ImageMagick's ``import`` (apt: imagemagick).
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0


@contextmanager
def xvfb() -> Iterator[None]:
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x900x24", "-nolisten",
         "tcp"], pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        number = b""
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], TIMEOUT)
            if not ready:
                raise SystemExit("screenshots: Xvfb did not start")
            number += os.read(read_end, 16)
        os.environ["DISPLAY"] = f":{int(number)}"
        yield
    finally:
        os.close(read_end)
        proc.terminate()
        proc.wait()


@contextmanager
def chat_server(data: Path) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatserver", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = re.search(r"listening on \S+:(\d+)", line)
            if match:
                yield int(match.group(1))
                break
        else:
            raise SystemExit("screenshots: the server did not start")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(TIMEOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    for tool in ("Xvfb", "import"):
        if shutil.which(tool) is None:
            raise SystemExit(f"screenshots: {tool} is missing (apt-get install xvfb imagemagick)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, xvfb(), chat_server(Path(tmp) / "data") as port:
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            os.environ.pop(name, None)
        os.environ["LANG"] = "C.UTF-8"
        os.environ["CHAT_CONFIG_DIR"] = str(Path(tmp) / "config")
        Scene(Path(tmp), port, args.out).run()
    print(f"wrote {args.out / 'login.png'} and {args.out / 'chat.png'}")


class Scene:
    def __init__(self, tmp: Path, port: int, out: Path) -> None:
        from chatproto.session import ClientTLS, PinStore
        from frontends.gui.app import App
        from frontends.gui.settings import Settings, save_settings

        self.tmp, self.port, self.out = tmp, port, out
        # A home of its own, so the window shows ~/Downloads, not a temp path.
        os.environ["HOME"] = str(tmp / "frog")
        downloads = tmp / "frog" / "Downloads"
        downloads.mkdir(parents=True)
        # The light theme whatever this desktop prefers: the README's pictures
        # stay the same from one machine to the next.
        save_settings(Settings(server="127.0.0.1", port=port, username="frog",
                               download_dir=str(downloads), theme="light"), tmp / "config")
        self.bot_tls = ClientTLS(pins=PinStore(tmp / "bot-pins"))
        self.root = tk.Tk()
        self.app = App(self.root, tmp / "config")

    def pump_until(self, condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshots: timed out waiting for {what}")
            self.root.update()
            time.sleep(0.01)

    def capture(self, name: str) -> None:
        self.root.update()
        time.sleep(0.2)  # let the X server finish drawing before the capture
        self.root.update()
        window = self.root.wm_frame()
        subprocess.run(["import", "-window", window, str(self.out / name)], check=True)

    def bot(self, name: str):  # type: ignore[no-untyped-def]
        from chatproto.session import Session

        return Session.connect("127.0.0.1", self.port, name, f"{name}-password",
                               tls=self.bot_tls)

    def run(self) -> None:
        from frontends.gui.dialogs import open_dialogs

        app, root = self.app, self.root
        alice = self.bot("alice")
        bob = self.bot("bob")
        login = app.login_view
        assert login is not None
        login.password.set("not-shown")
        root.update_idletasks()  # the form's natural size, in the theme's fonts
        root.geometry(f"{max(root.winfo_reqwidth(), 420)}x{root.winfo_reqheight()}")
        self.capture("login.png")

        login.submit()
        self.pump_until(lambda: open_dialogs(root), "the certificate question")
        open_dialogs(root)[0].buttons["Trust"].invoke()
        self.pump_until(lambda: app.chat_view is not None, "the chat window")
        view = app.chat_view
        assert view is not None
        self.pump_until(lambda: "frog has entered" in view.transcript.content(), "presence")

        carol = subprocess.Popen(
            [sys.executable, "-m", "frontends.cli", "--host", "127.0.0.1", "--port",
             str(self.port), "--user", "carol", "listen", "--no-download",
             "--state-file", str(self.tmp / "carol" / "last_seq.json")],
            env=dict(os.environ, CHAT_PASSWORD="carol-password",
                     CHAT_CONFIG_DIR=str(self.tmp / "carol")),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pump_until(lambda: "carol has entered" in view.transcript.content(), "carol")
        alice.send_chat("Morning! The slides for 10:00 are in the shared folder.")
        bob.send_chat("Thanks. I'll send my notes in a minute.")
        notes = self.tmp / "meeting-notes.pdf"
        notes.write_bytes(os.urandom(2_400_000))
        bob.send_file(notes)
        self.pump_until(lambda: "saved as" in view.transcript.content(), "the download")
        # A room frog is invited to and a direct message: the list beside the
        # transcript shows them with their unread counts.
        from frontends.gui.conversations import direct, room

        alice.create_room("class-3b")
        alice.invite("class-3b", "frog")
        alice.send_chat("Homework for 3B is on the board.", room="class-3b")
        alice.send_chat("Frog, can you review page 3 before we start?", to="frog")
        self.pump_until(lambda: "page 3" in view.transcript_of(direct("alice")).content(),
                        "the direct message")
        self.pump_until(lambda: "Homework" in view.transcript_of(room("class-3b")).content(),
                        "the room's message")
        view.entry.insert("1.0", "Sure, on it.\nI'll bring the printed copies too.")
        view.submit()
        self.pump_until(lambda: "printed copies" in view.transcript.content(), "own message")
        carol.send_signal(signal.SIGKILL)
        carol.wait(TIMEOUT)
        self.pump_until(lambda: "carol was deactivated" in view.transcript.content(),
                        "the deactivation")
        big = self.tmp / "recording.mp4"
        big.write_bytes(os.urandom(48_000_000))
        view.address_to("alice")
        view.transfers.start("upload", str(big), big.name, 0)
        app.later(app.link.send_file(str(big), direct("alice")),  # type: ignore[union-attr]
                  lambda f: app.files._upload_done(f, str(big), direct("alice")))
        self.pump_until(lambda: any(r.done for r in view.transfers.rows.values())
                        or view.transfers.history, "the upload to start")
        view.address_to(None)  # general on screen, the others waiting in the list
        self.capture("chat.png")
        self.pump_until(lambda: view.transfers.history, "the upload to end")
        alice.close()
        bob.close()
        app.quit()
        self.pump_until(lambda: app.destroyed, "the window to close")


if __name__ == "__main__":
    main()
