"""Rendering and wording without a screen: marks, counts, catalogs, options."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from rich.console import Console

from chatproto import ChatMessage, Presence, PresenceState, participant_count_text
from cli.clitools import cli_env
from frontends import text
from frontends.cli import render as cli_render
from frontends.tui import i18n
from frontends.tui.cli import SHARED_OPTIONS, tui
from frontends.tui.render import chat_entry, presence_entry

from .terminal import tui_command
from .tuitools import fixed_clock

ROOT = Path(__file__).resolve().parents[2]


def _rendered(renderable: object, width: int = 60) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_the_cli_and_the_tui_mark_hostile_text_with_one_function() -> None:
    assert cli_render.escape is text.escape
    assert text.escape("a\x1b[2J\u202eb\r\n") == "a\\e[2J\\u202eb\\r\\n"


def test_a_message_cannot_forge_a_line_or_markup() -> None:
    message = ChatMessage(1, 0, 0, "frog", None, "[bold]hi[/bold]\x1b[31m\n12:34 toad: fake")
    shown = _rendered(chat_entry(message, "me", fixed_clock)).splitlines()
    assert shown[0].startswith("12:34 frog: [bold]hi[/bold]\\e[31m")
    assert shown[1].startswith(" " * 6) and "12:34 toad: fake" in shown[1]


@pytest.mark.parametrize("count", [0, 1, 2, 17])
def test_the_english_count_is_the_servers_phrase(count: int) -> None:
    assert i18n.participants_text(count) == participant_count_text(count)


def test_korean_presence_uses_the_originals_wording() -> None:
    i18n.use_languages(["ko"])
    shown = _rendered(presence_entry(Presence("두꺼비", PresenceState.LEFT, 2), fixed_clock))
    assert "*** [두꺼비] 접속종료중 (대화 참여자 2명)" in shown


def _compiler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_catalogs",
                                                  ROOT / "scripts" / "compile_catalogs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_string_of_the_tui_is_in_the_korean_catalog() -> None:
    compiler = _compiler()
    po = i18n.LOCALE_DIR / "ko" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    catalog = compiler.parse_po(po.read_text(encoding="utf-8"))
    tui_folder = ROOT / "src" / "frontends" / "tui"
    messages = compiler.extract_messages(tui_folder)
    assert len(messages) > 20
    assert [m for m in messages if m not in catalog] == []


def test_the_options_are_chat_clis_own() -> None:
    from frontends.cli.app import cli

    ours = {p.name: p for p in tui.params}
    theirs = {p.name: p for p in cli.params}
    for name in SHARED_OPTIONS:
        assert ours[name] is theirs[name]
    assert {"CHAT_HOST", "CHAT_PORT", "CHAT_USER", "CHAT_PASSWORD"} <= {
        getattr(p, "envvar", None) for p in tui.params}


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*tui_command(), *args], capture_output=True, text=True,
                          env=cli_env(home), stdin=subprocess.DEVNULL, timeout=30)


def test_bad_options_are_one_line_before_any_screen() -> None:
    runner = CliRunner()
    for args, says in [
        (["--user", "bad name", "--password", "pw"], "Invalid value for '--user'"),
        (["--no-tls", "--fingerprint", "ab" * 32], "--no-tls cannot be combined"),
        (["--port", "0"], "Invalid value for '--port'"),
        (["--user", "frog"], "chat-tui needs a terminal"),  # CliRunner's stdin is no tty
    ]:
        result = runner.invoke(tui, args, env={"CHAT_USER": None, "CHAT_PASSWORD": None},
                               prog_name="chat-tui")
        assert result.exit_code == 2, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and says in errors[0], result.output
        assert "Traceback" not in result.output


def test_help_names_the_environment_variables(tmp_path: Path) -> None:
    result = _run(tmp_path, "--help")
    assert result.returncode == 0
    for name in ("CHAT_HOST", "CHAT_PORT", "CHAT_USER", "CHAT_PASSWORD", "CHAT_STATE_FILE"):
        assert name in result.stdout
