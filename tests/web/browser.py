"""Driving the web client in Debian's Chromium through Playwright.

Every selector here is one of the contract's (the page's DOM section of
docs for issue 17): the tests never look at the page's private markup.
``WebUser`` is one browser context (its own cookies and storage), so two
of them are two people.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, Playwright

#: Generous: the CI machine has 2 cores and a CPU hog beside the tests.
TIMEOUT_MS = 30_000
TIMEOUT = TIMEOUT_MS / 1000

#: Debian's Chromium as a test browser: no sandbox (root in a container), no
#: GPU, and none of the background traffic to Google's services (there is no
#: network but the loopback here, and it would only slow the start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

T = TypeVar("T")


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("Debian's chromium is not installed (scripts/test.sh installs it)")
    return path


def launch(playwright: Playwright) -> Browser:
    # Never Playwright's own browser download: it cannot be fetched here.
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def poll(condition: Callable[[], T | None], timeout: float = TIMEOUT, what: str = "") -> T:
    """``condition()`` until it gives something truthy (returned), with a deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what or condition}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@attrs.frozen
class Line:
    """One ``#transcript .line`` as the contract describes it."""

    kind: str
    seq: int | None
    sender: str | None
    own: bool
    room: str | None
    text: str
    visible: bool


_READ_LINES = """els => els.map(e => {
    const text = e.querySelector('.text');
    return {
        kind: e.dataset.kind ?? '', seq: e.dataset.seq ?? null,
        sender: e.dataset.sender ?? null, own: e.dataset.own === 'true',
        room: e.dataset.room ?? null, text: text ? text.textContent : '',
        visible: e.checkVisibility(),
    };
})"""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class WebUser:
    """One person at the web client: a browser context with one page."""

    def __init__(self, browser: Browser, url: str, tls: bool = False) -> None:
        self.url = url.rstrip("/") + "/"
        self.context: BrowserContext = browser.new_context(
            locale="en-US", ignore_https_errors=tls, accept_downloads=True,
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.name: str | None = None
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.page = self.new_page()

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page = page
        return page

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    # -- logging in and out -------------------------------------------------------------

    def open(self) -> None:
        self.page.goto(self.url)
        self.page.locator("form#login-form").wait_for(state="visible")

    def submit_login(self, name: str, password: str = "pw") -> None:
        """Fill the login form and press the button (the answer is not awaited)."""
        self.page.fill("input#username", name)
        self.page.fill("input#password", password)
        self.page.click("button#login-button")

    def login(self, name: str, password: str = "pw") -> None:
        """Open the page, log in, and wait until the page shows us as active."""
        self.open()
        self.submit_login(name, password)
        self.name = name
        self.wait_logged_in()

    def wait_logged_in(self) -> None:
        assert self.name is not None
        self.page.locator(
            f'ul#participants li[data-name={css_string(self.name)}][data-state="active"]'
        ).wait_for(state="attached")
        self.page.locator("form#login-form").wait_for(state="hidden")
        self.page.locator('#status[data-state="connected"]').wait_for(state="attached")

    def login_error(self) -> str:
        """The refusal the page shows under the login form (waits for one)."""
        error = self.page.locator("#login-error")
        error.wait_for(state="visible")
        return poll(lambda: (error.text_content() or "").strip(), what="a login error text")

    def logout(self) -> None:
        self.page.click("button#logout-button")
        self.page.locator("form#login-form").wait_for(state="visible")

    def close(self) -> None:
        self.context.close()

    # -- chatting ---------------------------------------------------------------------------

    def choose(self, recipient: str) -> None:
        """Set *To:*: "" general, "bob" a direct message, "#dev" a room."""
        self.page.select_option("select#to", value=recipient)

    def send(self, text: str, to: str | None = None) -> None:
        if to is not None:
            self.choose(to)
        self.page.fill("#message", text)
        self.page.click("button#send-button")

    def lines(self) -> list[Line]:
        raw: list[dict[str, Any]] = self.page.eval_on_selector_all("#transcript .line",
                                                                   _READ_LINES)
        return [
            Line(
                kind=item["kind"],
                seq=int(item["seq"]) if item["seq"] not in (None, "") else None,
                sender=item["sender"], own=item["own"], room=item["room"],
                text=item["text"], visible=item["visible"],
            )
            for item in raw
        ]

    def wait_lines(self, condition: Callable[[list[Line]], bool], what: str = "",
                   timeout: float = TIMEOUT) -> list[Line]:
        """The transcript once ``condition`` holds for it."""
        def check() -> list[Line] | None:
            lines = self.lines()
            return lines if condition(lines) else None
        try:
            return poll(check, timeout, what)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; {self.name}'s transcript: {self.lines()}") from None

    def wait_chat(self, text: str, kind: str = "chat") -> Line:
        """The one line of ``kind`` whose text is ``text`` (waits for it)."""
        lines = self.wait_lines(
            lambda lines: any(line.kind == kind and line.text == text for line in lines),
            f"a {kind} line {text[:60]!r} at {self.name}",
        )
        found = [line for line in lines if line.kind == kind and line.text == text]
        assert len(found) == 1, found
        return found[0]

    def texts(self, kind: str = "chat") -> list[str]:
        return [line.text for line in self.lines() if line.kind == kind]

    def wait_presence(self, user: str, word: str) -> Line:
        """A presence line about ``user`` that says ``word`` (joined, left...)."""
        def check(lines: list[Line]) -> bool:
            return any(_presence_matches(line, user, word) for line in lines)
        lines = self.wait_lines(check, f"presence {user} {word} at {self.name}")
        return next(line for line in lines if _presence_matches(line, user, word))

    # -- participants -------------------------------------------------------------------------

    def participants(self) -> dict[str, str]:
        items: list[list[str]] = self.page.eval_on_selector_all(
            "ul#participants li",
            "els => els.map(e => [e.dataset.name ?? '', e.dataset.state ?? ''])",
        )
        return dict((name, state) for name, state in items)

    def participant_count(self) -> int | None:
        text = self.page.locator("#participant-count").text_content() or ""
        digits = re.findall(r"\d+", text)
        return int(digits[0]) if len(digits) == 1 else None

    def wait_participants(self, expected: dict[str, str]) -> None:
        """Until the list is exactly ``expected`` and the count says so."""
        def check() -> bool:
            return self.participants() == expected and self.participant_count() == len(expected)
        try:
            poll(check, what=f"participants {expected} at {self.name}")
        except TimeoutError as exc:
            raise TimeoutError(
                f"{exc}; shown: {self.participants()} count {self.participant_count()}"
            ) from None

    # -- files ----------------------------------------------------------------------------------

    def upload(self, path: Path) -> str:
        """Pick ``path`` in the file input; waits until its upload is over
        and returns its ``data-state`` (``done`` or ``failed``)."""
        self.page.set_input_files("input#file-input", str(path))
        name = css_string(path.name)
        over = self.page.locator(
            f'.upload[data-name={name}][data-state="done"], '
            f'.upload[data-name={name}][data-state="failed"]'
        )
        over.first.wait_for(state="attached")
        return over.first.get_attribute("data-state") or ""

    def file_line(self, name: str) -> Any:
        """The file line whose download link offers ``name`` (waits for it)."""
        link = f"a.download[download={css_string(name)}]"
        self.page.locator(f'#transcript .line[data-kind="file"] {link}').first.wait_for(
            state="attached"
        )
        return self.page.locator('#transcript .line[data-kind="file"]').filter(
            has=self.page.locator(link)
        )

    def download(self, name: str, into: Path) -> Path:
        """Click the download link of ``name``; the saved copy's path."""
        line = self.file_line(name)
        with self.page.expect_download() as info:
            line.locator("a.download").click()
        target = into / name
        info.value.save_as(target)
        return target


def css_string(value: str) -> str:
    """``value`` as a quoted CSS string (for attribute selectors)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _presence_matches(line: Line, user: str, word: str) -> bool:
    return line.kind == "presence" and user in line.text and word in line.text.lower()
