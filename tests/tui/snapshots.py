"""SVG snapshots of the screen, committed under ``tests/tui/snapshots``.

``assert_snapshot(app, name)`` compares Textual's own SVG export of the
screen with ``snapshots/NAME.svg``. After a deliberate change of the screen,
run ``TUI_UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py`` and look
at the new files (any browser shows them) before committing them. A
mismatch leaves the screen it got beside the test's tmp folder and says
which lines of text differ, so the failure can be read without a browser.
"""

from __future__ import annotations

import difflib
import html
import os
import re
from pathlib import Path

from rich.cells import cell_len
from textual.app import App

SNAPSHOTS = Path(__file__).with_name("snapshots")
UPDATE_ENV = "TUI_UPDATE_SNAPSHOTS"
_CELL = re.compile(r'<text class="[^"]*-r\d+" x="([0-9.]+)" y="([0-9.]+)"[^>]*>(.*?)</text>')
#: Rich's SVG puts a character cell every 0.61 em of its 20 px font.
_CELL_WIDTH = 12.2


def screen_text(svg: str) -> list[str]:
    """The characters of an SVG screenshot, one string per row (spaces
    restored from the cells' positions: blank runs are not in the SVG)."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, content in _CELL.findall(svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(content)))
    text = []
    for _, runs in sorted(rows.items()):
        row = ""
        for x, run in sorted(runs):
            row += " " * max(0, round(x / _CELL_WIDTH) - cell_len(row)) + run
        text.append(row.replace("\xa0", " ").rstrip())
    return text


def assert_snapshot(app: App[object], name: str, spare: Path) -> None:
    svg = app.export_screenshot(title="chat-tui")
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get(UPDATE_ENV):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with {UPDATE_ENV}=1 and review it"
    expected = path.read_text(encoding="utf-8")
    if svg == expected:
        return
    got = spare / f"{name}.svg"
    got.write_text(svg, encoding="utf-8")
    diff = "\n".join(difflib.unified_diff(screen_text(expected), screen_text(svg),
                                          "committed", "now", lineterm=""))
    raise AssertionError(f"the screen differs from {path.name} (now: {got}); "
                         f"text diff (empty: colours or layout only):\n{diff}")


__all__ = ["SNAPSHOTS", "UPDATE_ENV", "assert_snapshot", "screen_text"]
