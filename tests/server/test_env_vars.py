"""Issue 14, item 5: the server's environment variables are ``CHAT_SERVER_*``;
the client's ``CHAT_HOST``, ``CHAT_PORT``... no longer move the server, and an
old name found set is a line of the start-up log, not a setting."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import click

from chatserver.cli import main, old_variables
from support import RawClient, ServerProcess, server_command


def test_help_names_every_variable() -> None:
    result = subprocess.run(server_command("--help"), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    shown = " ".join(result.stdout.split())  # as one line, however click wrapped it
    options = [param for param in main.params if isinstance(param, click.Option)]
    for option in options:
        if option.name != "help":
            assert option.envvar == f"CHAT_SERVER_{(option.name or '').upper()}"
            assert f"env var: {option.envvar}" in shown, option.envvar
    assert len(options) > 20
    assert "CHAT_HOST, CHAT_PORT and the other CHAT_* names are chat-cli's" in shown


def test_old_names_are_found_only_without_their_new_one() -> None:
    environ = {"CHAT_PORT": "1", "CHAT_HOST": "x", "CHAT_SERVER_HOST": "y", "CHAT_USER": "frog"}
    assert old_variables(main, environ) == [("CHAT_PORT", "CHAT_SERVER_PORT")]
    assert old_variables(main, {}) == []


def test_client_variables_do_not_move_the_server_and_are_named_in_its_log(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(
        PYTHONUNBUFFERED="1",
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        CHAT_SERVER_HOST="127.0.0.1",
        CHAT_SERVER_PORT="0",
        CHAT_SERVER_WEB_PORT="0",  # the browser client on a free port, not 8080
        # What a user exported for chat-cli; none of it may reach the server.
        CHAT_HOST="192.0.2.10",  # overridden by CHAT_SERVER_HOST: not even a warning
        CHAT_NO_TLS="1",
        CHAT_DATA_DIR=str(tmp_path / "old-name"),
        CHAT_LOGIN_TIMEOUT="not a number",  # read, it would stop the start
    )
    proc = subprocess.Popen(server_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    server = ServerProcess(proc)
    try:
        listening = server.wait_for_line(r"listening on 127\.0\.0\.1:(\d+) \(data in (.*)\)")
        assert Path(listening.group(2)) == tmp_path / "xdg" / "lanchat"
        server.wait_for_line(r"TLS on")  # CHAT_NO_TLS was not applied
        server.wait_for_line(r"web client at https://127\.0\.0\.1:(?!8080/)\d+/")
        warnings = [line for line in server.lines if " WARNING " in line]
        assert len(warnings) == 3, warnings
        for old, new in [("CHAT_NO_TLS", "CHAT_SERVER_NO_TLS"),
                         ("CHAT_DATA_DIR", "CHAT_SERVER_DATA_DIR"),
                         ("CHAT_LOGIN_TIMEOUT", "CHAT_SERVER_LOGIN_TIMEOUT")]:
            line = next(line for line in warnings if f" {old} " in line)
            assert re.search(rf"{old} is set but not applied: .* set {new} instead$", line)
        assert not any("CHAT_HOST" in line for line in server.lines)
        assert not (tmp_path / "old-name").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert server.wait() == 0
        assert proc.stdout is not None
        proc.stdout.close()


def test_the_new_names_configure_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(PYTHONUNBUFFERED="1", CHAT_SERVER_HOST="127.0.0.1", CHAT_SERVER_PORT="0",
               CHAT_SERVER_NO_TLS="1", CHAT_SERVER_DATA_DIR=str(tmp_path / "data"),
               CHAT_SERVER_NO_WEB="1")
    proc = subprocess.Popen(server_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    server = ServerProcess(proc)
    try:
        server.port = int(server.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        RawClient.login_as(server, "toad").goodbye()  # plain TCP: --no-tls came from the env
        assert (tmp_path / "data" / "chat.sqlite3").exists()
        assert not any(" WARNING " in line for line in server.lines)
        assert not any("web client" in line for line in server.lines)  # CHAT_SERVER_NO_WEB
    finally:
        proc.send_signal(signal.SIGTERM)
        assert server.wait() == 0
        assert proc.stdout is not None
        proc.stdout.close()
