"""Issue 14, item 12: the README states what a fresh machine needs, and what
it says of the first command's server holds for the real ``chat-server``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import ServerProcess, server_command

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FIRST_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/chat-server\n",
    "bash scripts/test.sh\n",
)


def _prerequisites() -> str:
    start = README.index("**Prerequisites**")
    return README[start:README.index("```", start)]


def test_the_prerequisites_come_before_the_first_commands() -> None:
    part = _prerequisites()
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=3.11" and "Python >= 3.11" in part
    for package in ("python3-venv", "python3-tk", "fonts-nanum", "fonts-noto-cjk"):
        assert re.search(rf"\b{package}\b", part), package
    block = README[README.index("```sh"):]
    block = block[:block.index("```\n", 5)]
    assert all(command in block for command in FIRST_COMMANDS)
    assert README.index("**Prerequisites**") < README.index(FIRST_COMMANDS[0])


def test_the_missing_tkinter_line_names_the_readmes_package() -> None:
    from frontends.gui import TK_MISSING

    assert "python3-tk" in TK_MISSING and "install python3-tk" in _prerequisites()


def _chat_server() -> list[str]:
    script = shutil.which("chat-server", path=str(Path(sys.executable).parent))
    return [script] if script else server_command()


@contextmanager
def started(data: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The address the real chat-server says it listens on."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    full_env.update(PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen([*_chat_server(), "--port", "0", "--data-dir", str(data),
                             "--no-tls", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=full_env)
    server = ServerProcess(proc)
    try:
        yield server.wait_for_line(r"listening on (\S+):(\d+)", timeout=30).group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            server.wait()
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.parametrize(("args", "env", "address"), [
    ((), None, "0.0.0.0"),
    (("--host", "127.0.0.1"), None, "127.0.0.1"),
    ((), {"CHAT_SERVER_HOST": "127.0.0.1"}, "127.0.0.1"),
], ids=["default", "--host", "CHAT_SERVER_HOST"])
def test_the_server_listens_where_the_readme_says(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str] | None, address: str
) -> None:
    said = re.search(r"listens on every interface \(`([\d.]+)`\)", README)
    assert said is not None and said.group(1) == "0.0.0.0"
    assert "`--host 127.0.0.1`" in README and "`CHAT_SERVER_HOST=127.0.0.1`" in README
    with started(tmp_path / "data", *args, env=env) as listening:
        assert listening == address
