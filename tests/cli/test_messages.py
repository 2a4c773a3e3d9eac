"""Issue 14, item 4: chat-cli's failures in the user's words, through the
real CLI against real servers (the local refusals are in test_local_checks)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from chatserver.tls import CERT_FILE, KEY_FILE
from frontends.cli import ExitCode
from support import ServerProcess, server_process

from .clitools import run_cli

FINGERPRINT = r"SHA256:(?:[0-9A-F]{2}:){31}[0-9A-F]{2}"


def one_line(result: subprocess.CompletedProcess[str], code: ExitCode) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def fingerprint_of(server: ServerProcess) -> str:
    return server.wait_for_line(FINGERPRINT).group(0)


def test_no_tls_against_a_tls_server_gets_the_hint_the_reverse_mistake_gets(
    tmp_path: Path, home: Path
) -> None:
    with server_process(tmp_path / "data", tls=True) as server:
        for command in (["send", "hi"], ["users"], ["listen"]):
            result = run_cli(server, "frog", *command, home=home, tls=("--no-tls",))
            line = one_line(result, ExitCode.CONNECTION_LOST)
            assert "during login" in line, line
            assert "if the server uses TLS" in line and "without --no-tls" in line, line
        # Nothing was pinned: no TLS was spoken.
        assert not (home / "config" / "known_servers").exists()
    with server_process(tmp_path / "plain") as plain:  # and the reverse, as before
        line = one_line(run_cli(plain, "frog", "send", "hi", home=home, tls=()),
                        ExitCode.UNREACHABLE)
        assert "connect with --no-tls too" in line


def test_a_wrong_fingerprint_is_not_told_to_pass_a_fingerprint(
    tmp_path: Path, home: Path
) -> None:
    wrong = "SHA256:" + ":".join(["AB"] * 32)
    with server_process(tmp_path / "data", tls=True) as server:
        actual = fingerprint_of(server)
        for command in (["send", "hi"], ["listen"]):
            result = run_cli(server, "frog", *command, home=home,
                             tls=("--fingerprint", wrong))
            line = one_line(result, ExitCode.CERTIFICATE_REFUSED)
            assert f"is {actual}, not {wrong} as given with --fingerprint" in line, line
            assert "pass --fingerprint" not in line and "pin file" not in line, line
            assert "start-up log" in line


def test_a_changed_pin_still_points_at_the_pin_file_and_at_fingerprint(
    tmp_path: Path, home: Path
) -> None:
    """The pinned case keeps the session's advice: there, --fingerprint helps."""
    data = tmp_path / "data"
    with server_process(data, tls=True) as server:
        port = server.port
        assert run_cli(server, "frog", "send", "pin it", home=home, tls=()).returncode == 0
    for name in (CERT_FILE, KEY_FILE):  # a reinstalled server: a new certificate
        (data / name).unlink()
    with server_process(data, "--port", str(port), tls=True) as server:
        line = one_line(run_cli(server, "frog", "send", "hi", home=home, tls=()),
                        ExitCode.CERTIFICATE_REFUSED)
        assert re.search(r"has changed: expected .* \(pinned in ", line), line
        assert "pass --fingerprint" in line
