"""The rooms of ``src/`` and the arrows between them, checked on the source.

    chatproto (the sans-IO core)  <-  chatproto.session (the socket adapter)
          ^                                   ^
          |                                   |
      chatserver                          frontends

The core imports nothing of ours; the session imports the core; the server
imports the core but not the session; the frontends import the core and the
session; the server and the frontends never import each other. And no import
cycle anywhere, counting imports under ``TYPE_CHECKING`` and inside
functions: a cycle hidden from the interpreter is still one for the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
OURS = ("chatproto", "chatserver", "frontends")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of a relative import inside ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_of(path: Path, module: str, known: Iterable[str]) -> set[str]:
    """Every module of ours that ``path`` imports, wherever the statement is."""
    known = set(known)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = _resolve(module, is_package, node.level, node.module)
            # ``from . import events`` names a module; ``from .x import y``
            # names something inside ``.x`` unless ``.x.y`` is a module.
            names = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            # The deepest module of ours the name points at.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py") if p.parts[-2] != "__pycache__"}
    files = {m: p for m, p in files.items() if m.split(".")[0] in OURS}
    return {m: imports_of(p, m, files) for m, p in files.items()}


def room_of(module: str) -> str:
    if module == "chatproto.session" or module.startswith("chatproto.session."):
        return "session"
    return {"chatproto": "core", "chatserver": "server", "frontends": "frontends"}[
        module.split(".")[0]
    ]


ALLOWED: Mapping[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "session": frozenset({"core", "session"}),
    "server": frozenset({"core", "server"}),
    "frontends": frozenset({"core", "session", "frontends"}),
}


def arrows_against_the_rooms(graph: Mapping[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} ({room_of(module)}) imports {target} ({room_of(target)})"
        for module, targets in graph.items()
        for target in targets
        if room_of(target) not in ALLOWED[room_of(module)]
    )


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_import_follows_the_arrows() -> None:
    assert arrows_against_the_rooms(import_graph(SRC)) == []


def test_no_import_cycle_anywhere_in_src() -> None:
    assert cycles(import_graph(SRC)) == []


def test_the_graph_sees_every_room() -> None:
    graph = import_graph(SRC)
    assert {room_of(m) for m in graph} == set(ALLOWED)
    assert "chatproto.events" in graph["chatserver.client"] | graph["chatproto.connection"]


# -- the checker itself can fail ---------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    def write(name: str, text: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    write("chatproto/__init__.py", "from .a import A\n")
    write(
        "chatproto/a.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nA = 1\n",
    )
    write("chatproto/b.py", "def f():\n    from . import a\n    return a\n")
    write("chatproto/session/__init__.py", "from ..a import A\n")
    write("chatserver/__init__.py", "import chatproto.session\nfrom frontends import x\n")
    write("frontends/__init__.py", "")
    write("frontends/x.py", "from chatproto.session import A\n")
    return tmp_path


def test_a_cycle_hidden_under_type_checking_and_in_a_function_is_found(tree: Path) -> None:
    assert cycles(import_graph(tree)) == [["chatproto.a", "chatproto.b"]]


def test_an_arrow_against_the_rooms_is_found(tree: Path) -> None:
    assert arrows_against_the_rooms(import_graph(tree)) == [
        "chatserver (server) imports chatproto.session (session)",
        "chatserver (server) imports frontends.x (frontends)",
    ]
