from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontends.tui import i18n


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """English unless a test asks for Korean; back to English afterwards."""
    i18n.use_languages(["en"])
    yield
    i18n.use_languages(["en"])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The chat-cli processes' home and working folder."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def tui_dir(tmp_path: Path) -> Path:
    """The app's own files: pins, downloads, the seq state."""
    path = tmp_path / "tui"
    path.mkdir()
    return path
