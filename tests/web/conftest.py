"""Fixtures of the web client's tests: a real chat-server with its web
listener, one Chromium for the whole session, a browser context per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

from support import ServerProcess, server_process

from .browser import TIMEOUT_MS, WebUser, launch


@contextmanager
def web_server_process(data_dir: Path, *args: str, tls: bool = False,
                       env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """``chat-server`` with its web listener on a free port (``.web_url``)."""
    with server_process(data_dir, *args, env=env, tls=tls, web=True) as server:
        yield server


def url_of(server: ServerProcess) -> str:
    """The page's address without its final slash: ``http://127.0.0.1:PORT``."""
    return server.web_url.rstrip("/")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Plain HTTP (``--no-tls``), no chat flood limit."""
    with web_server_process(tmp_path / "server-data", "--flood-rate", "0") as server:
        yield server


@pytest.fixture
def web_server_tls(tmp_path: Path) -> Iterator[ServerProcess]:
    """HTTPS with the server's self-signed certificate (and TLS on TCP)."""
    with web_server_process(tmp_path / "server-data", "--flood-rate", "0", tls=True) as server:
        yield server


# Package scope: Playwright's loop ends with tests/web, so later tests may run their own.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """One browser for the session; each user gets its own context."""
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def browser_user(chromium: Browser) -> Iterator[Callable[..., WebUser]]:
    """``browser_user(url)`` opens a new browser context (a new person).

    At the end no page may have thrown an uncaught exception: a script
    error is a bug of the page, whatever the test was about."""
    users: list[WebUser] = []

    def make(url: str, tls: bool = False) -> WebUser:
        user = WebUser(chromium, url, tls=tls)
        users.append(user)
        return user

    yield make
    errors = {user.name or "?": user.page_errors for user in users if user.page_errors}
    for user in users:
        with suppress(Exception):  # a test may have closed it already
            user.close()
    assert not errors, f"uncaught script errors in the page: {errors}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """chat-cli's home and working folder (its state and pins land here)."""
    path = tmp_path / "home"
    path.mkdir()
    return path
