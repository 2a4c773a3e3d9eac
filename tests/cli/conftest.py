from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The chat-cli processes' home and working folder (state file lives here)."""
    path = tmp_path / "home"
    path.mkdir()
    return path
