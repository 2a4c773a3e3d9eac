#!/usr/bin/env python3
"""Take the README's screenshots of the browser client: docs/images/web.png
(a desktop window) and docs/images/web-phone.png (a phone's width).

    python scripts/web_screenshots.py [--out docs/images]

Runs everything for real: a ``chat-server`` in a temporary folder (plain
HTTP, so that chat-cli needs no fingerprint), Debian's Chromium driven by Playwright (apt: chromium;
pip: playwright), two users in the page and one through ``chat-cli``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def start_server(data: Path) -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatserver", "--host", "127.0.0.1", "--port", "0",
         "--web-port", "0", "--no-tls", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    port, url = 0, ""
    for line in proc.stdout:
        if found := re.search(r"listening on \S+:(\d+)", line):
            port = int(found.group(1))
        if found := re.search(r"web client at (\S+/)", line):
            url = found.group(1)
            return proc, url, port
    raise SystemExit("the server did not start")


def log_in(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.fill("#username", name)
    page.fill("#password", "pw-" + name)
    page.click("#login-button")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected", timeout=30_000)


def say(page: Page, text: str) -> None:
    page.fill("#message", text)
    page.click("#send-button")
    expect(page.locator("#transcript .line .text", has_text=text).first).to_be_visible()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, port = start_server(Path(tmp) / "data")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=FLAGS)
                desk = browser.new_context(viewport={"width": 1280, "height": 800},
                                           ignore_https_errors=True, locale="en-US")
                frog = desk.new_page()
                log_in(frog, url, "frog")
                phone = browser.new_context(viewport={"width": 390, "height": 844},
                                            ignore_https_errors=True, locale="ko-KR",
                                            is_mobile=True, has_touch=True)
                toad = phone.new_page()
                log_in(toad, url, "두꺼비")
                say(frog, "Good morning! The slides for today are in the shared folder.")
                say(toad, "안녕하세요 — thanks, I'll bring questions about chapter 3.")
                subprocess.run(
                    [sys.executable, "-m", "frontends.cli", "--host", "127.0.0.1", "--port",
                     str(port), "--user", "newt", "--password", "pw-newt", "--no-tls",
                     "send", "Lunch at 12:30 in room 204?"],
                    check=False, capture_output=True, timeout=60)
                say(frog, "Sounds good to me.")
                expect(frog.locator("#transcript .line .text", has_text="room 204")
                       ).to_be_visible(timeout=30_000)
                args.out.mkdir(parents=True, exist_ok=True)
                frog.screenshot(path=str(args.out / "web.png"))
                expect(toad.locator("#transcript .line .text", has_text="Sounds good")
                       ).to_be_visible(timeout=30_000)
                toad.screenshot(path=str(args.out / "web-phone.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"wrote {args.out / 'web.png'} and {args.out / 'web-phone.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
