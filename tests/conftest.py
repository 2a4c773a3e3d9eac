"""Fixtures shared by every test folder: a real server, in-process or as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import RunningServer, ServerProcess, running_server, server_process


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "server-data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[RunningServer]:
    """A ``ChatServer`` on 127.0.0.1 in a background thread, fresh data dir.

    Its chat flood limit is off, so tests may send as fast as they like; use
    ``support.running_server`` directly for the production defaults."""
    with running_server(data_dir, flood_rate=0) as running:
        yield running


@pytest.fixture
def server_proc(data_dir: Path) -> Iterator[ServerProcess]:
    """The real ``chat-server`` subprocess, fresh data dir, plain TCP, no flood limit."""
    with server_process(data_dir, "--flood-rate", "0") as proc:
        yield proc
