"""docs/protocol.md must say what the code does: its generated tables are up to date."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_protocol_tables.py"
    spec = importlib.util.spec_from_file_location("gen_protocol_tables", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_protocol_tables", module)
    spec.loader.exec_module(module)
    return module


def test_generated_sections_match_the_code() -> None:
    gen = _generator()
    current = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert gen.update(current) == current, (
        "docs/protocol.md is stale: run python scripts/gen_protocol_tables.py"
    )


def test_every_message_type_is_documented() -> None:
    from chatproto.wire import LAYOUTS

    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    for layout in LAYOUTS:
        heading = f"### 0x{layout.type_code:02x} {layout.event_class.__name__}"
        assert heading in text


def test_every_error_code_is_explained() -> None:
    from chatproto import ErrorCode

    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    for code in ErrorCode:
        assert re.search(rf"^\| `{code.value}` \| \w", text, re.M), code


def _section(text: str, heading: str) -> str:
    """The body of the section under ``heading`` (up to the next heading of any level)."""
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = text.find("\n#", start)
    return text[start : end if end >= 0 else len(text)]


def test_every_value_rule_is_in_its_table() -> None:
    from chatproto.wire import LAYOUTS

    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    rules = _section(text, "### 4.1 Value rules")
    for layout in LAYOUTS:
        if layout.rule is not None:
            name = layout.event_class.__name__
            assert re.search(rf"^\| [^|]*`{name}`", rules, re.M), f"{name}'s value rule"


def test_every_state_is_described() -> None:
    from chatproto import State

    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    machines = _section(text, "## 7. Conversation and state machines")
    for state in State:
        assert f"`{state.name}`" in machines, state
