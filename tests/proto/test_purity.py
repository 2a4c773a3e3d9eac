"""The core is sans-IO: no module of chatproto outside chatproto.session does I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chatproto

FORBIDDEN = {"socket", "threading", "asyncio", "selectors", "os", "subprocess", "time"}
PACKAGE = Path(chatproto.__file__).resolve().parent
CORE_MODULES = sorted(
    path for path in PACKAGE.rglob("*.py") if "session" not in path.relative_to(PACKAGE).parts
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "__import__"):
            found.add("__import__")
    return found


def test_the_core_modules_are_found() -> None:
    names = {path.name for path in CORE_MODULES}
    assert {"connection.py", "wire.py", "state.py", "files.py", "heartbeat.py"} <= names


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_io_imports(path: Path) -> None:
    assert imported_modules(path) & (FORBIDDEN | {"__import__"}) == set()


def test_the_core_does_not_import_the_session_or_the_apps() -> None:
    for path in CORE_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert not module.startswith(("session", "chatproto.session")), path
                assert not module.startswith(("chatserver", "frontends")), path
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("chatserver", "frontends")), path
