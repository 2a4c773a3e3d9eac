"""Fixtures of the GUI tests: a private Xvfb display and real chat-gui windows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import RunningServer, running_server

from .driver import GuiClient
from .xserver import xvfb


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """Every GUI test runs on its own X server, started here."""
    with xvfb() as name:
        previous = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = name
        try:
            yield name
        finally:
            if previous is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = previous


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from frontends.gui import i18n

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    i18n.use_languages(["en"])
    yield
    i18n.use_languages(None)


@pytest.fixture
def chat_server(tmp_path: Path) -> Iterator[RunningServer]:
    # A cheaper scrypt cost keeps logins fast on a shared CI machine.
    with running_server(tmp_path / "server-data", scrypt_n=2**10) as server:
        yield server


@pytest.fixture
def gui(display: str, english: None, tmp_path: Path) -> Iterator[Callable[[str], GuiClient]]:
    """``gui("alice")`` opens a chat-gui login window with its own settings
    and download folders under tmp_path."""
    clients: list[GuiClient] = []

    def make(label: str) -> GuiClient:
        client = GuiClient(tmp_path / f"{label}-config", tmp_path / f"{label}-downloads")
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.destroy()
