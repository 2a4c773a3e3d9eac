"""TLS through the real ``chat-cli`` against the real ``chat-server`` (issue 7,
item 1): trust on first use, a changed certificate refused with exit code 11,
``--fingerprint``, ``--ca``, ``--no-tls``, and no password on the wire.

Every chat-cli process keeps its pins in the test's own config folder
(``CHAT_CONFIG_DIR``, set by ``cli_env``), never in the real home."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from chatserver.tls import CERT_FILE, KEY_FILE
from cli.clitools import Listener, cli_env, config_dir, run_cli
from frontends.cli.exitcodes import ExitCode
from support import ServerProcess, server_process

from .test_tls_server_e2e import FINGERPRINT_RE
from .tlsutil import Authority, recording_proxy

PASSWORD = "tr0ub4dor-&-3-비밀"
TLS: tuple[str, ...] = ()  # no option: the default, TLS with trust on first use


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The chat-cli processes' home, working folder and (inside) config folder."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fingerprint(server: ServerProcess) -> str:
    return server.wait_for_line(FINGERPRINT_RE).group(1)


def _pins(home: Path) -> str:
    return (config_dir(home) / "known_servers").read_text(encoding="utf-8")


def _send(server: ServerProcess, home: Path, text: str, *tls: str,
          password: str = "pw") -> subprocess.CompletedProcess[str]:
    return run_cli(server, "frog", "send", text, home=home, tls=tls, password=password)


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _new_certificate(data: Path) -> None:
    """What a reinstalled server does: its next start makes a new pair."""
    (data / CERT_FILE).unlink()
    (data / KEY_FILE).unlink()


def test_first_use_pins_and_says_so_then_the_pin_is_used_silently(
    tmp_path: Path, home: Path
) -> None:
    with server_process(tmp_path / "data", tls=True) as server:
        fp = _fingerprint(server)
        first = _send(server, home, "hello over TLS", *TLS)
        assert first.returncode == 0, first.stderr
        address = f"127.0.0.1:{server.port}"
        assert _one_line(first.stderr) == (
            f"chat-cli: pinned the certificate of {address} on first use: {fp}"
        )
        assert _pins(home) == f"{address} {fp}\n"
        with Listener(server, "watcher", "--json", home=home, tls=TLS) as watcher:
            watcher.next_json()  # logged in
            again = _send(server, home, "and again", *TLS)
            assert again.returncode == 0 and again.stderr == ""
            live = watcher.wait_json(lambda r: r["type"] == "chat")
            assert live["text"] == "and again"
            assert watcher.terminate() == 0
            assert watcher.stderr_after_exit() == [], "the pin is used without a word"
        assert _pins(home) == f"{address} {fp}\n"


def test_a_changed_certificate_is_refused_with_exit_11_naming_both(
    tmp_path: Path, home: Path
) -> None:
    data, port = tmp_path / "data", _free_port()
    with server_process(data, "--port", str(port), tls=True) as server:
        old = _fingerprint(server)
        assert _send(server, home, "first", *TLS).returncode == 0
    _new_certificate(data)
    with server_process(data, "--port", str(port), tls=True) as server:
        new = _fingerprint(server)
        assert new != old
        refused = run_cli(server, "newt", "send", "second", home=home, tls=TLS,
                          password=PASSWORD)
        assert refused.returncode == ExitCode.CERTIFICATE_REFUSED == 11
        line = _one_line(refused.stderr)
        assert line.startswith(f"chat-cli: the certificate of 127.0.0.1:{port} has changed")
        assert old in line and new in line and str(config_dir(home)) in line
        assert _pins(home).split() == [f"127.0.0.1:{port}", old], "the pin is kept"
        listen = run_cli(server, "toad", "listen", home=home, tls=TLS)
        assert listen.returncode == 11 and new in _one_line(listen.stderr)
        # Nothing reached the server: had the login gone through, "newt" would
        # now exist with PASSWORD, and this other password would be refused.
        fresh = run_cli(server, "newt", "send", "new account", home=home, password="other",
                        tls=("--fingerprint", new))
        assert fresh.returncode == 0, fresh.stderr


def test_an_explicit_fingerprint_passes_when_right_and_is_refused_when_wrong(
    tmp_path: Path, home: Path
) -> None:
    wrong = "sha256:" + "ab" * 32  # lower case, no colons: still a fingerprint
    with server_process(tmp_path / "data", tls=True) as server:
        fp = _fingerprint(server)
        refused = _send(server, home, "never sent", "--fingerprint", wrong)
        assert refused.returncode == 11
        line = _one_line(refused.stderr)
        assert "SHA256:" + ":".join(["AB"] * 32) in line and fp in line
        assert "--fingerprint" in line
        assert not (config_dir(home) / "known_servers").exists()
        right = _send(server, home, "sent", "--fingerprint", fp.removeprefix("SHA256:"))
        assert right.returncode == 0, right.stderr
        assert right.stderr == "", "a fingerprint given out of band needs no notice"
        assert _pins(home) == f"127.0.0.1:{server.port} {fp}\n"
        by_env = run_cli(server, "frog", "send", "via env", home=home, tls=(),
                         env=cli_env(home, CHAT_FINGERPRINT=wrong))
        assert by_env.returncode == 11
        typo = _send(server, home, "x", "--fingerprint", "SHA256:12:34")
        assert typo.returncode == ExitCode.USAGE and "Traceback" not in typo.stderr
        assert "not a SHA-256 fingerprint" in typo.stderr


def test_a_ca_signed_certificate_is_verified_with_ca(tmp_path: Path, home: Path) -> None:
    ca = Authority.create(tmp_path)
    leaf, key = ca.issue(tmp_path / "leaf")
    with server_process(tmp_path / "data", "--tls-cert", str(leaf), "--tls-key", str(key),
                        tls=True) as server:
        verified = _send(server, home, "signed", "--ca", str(ca.path))
        assert verified.returncode == 0, verified.stderr
        assert verified.stderr == ""
        assert not (config_dir(home) / "known_servers").exists(), "a CA needs no pin"
        by_env = run_cli(server, "frog", "send", "signed too", home=home, tls=(),
                         env=cli_env(home, CHAT_CA=str(ca.path)))
        assert by_env.returncode == 0, by_env.stderr
    (tmp_path / "stranger").mkdir()
    stranger = Authority.create(tmp_path / "stranger")
    with server_process(tmp_path / "self-signed", tls=True) as server:
        refused = _send(server, home, "x", "--ca", str(stranger.path))
        assert refused.returncode == 11
        assert "failed verification" in _one_line(refused.stderr)
    missing = _send(server, home, "x", "--ca", str(tmp_path / "no-such-ca.pem"))
    assert missing.returncode == ExitCode.USAGE and "Traceback" not in missing.stderr


def test_no_tls_against_a_no_tls_server_and_a_mismatch_is_one_line(
    tmp_path: Path, home: Path
) -> None:
    with server_process(tmp_path / "data") as plain:  # --no-tls
        assert _send(plain, home, "plain", "--no-tls").returncode == 0
        env = cli_env(home, CHAT_NO_TLS="1")
        assert run_cli(plain, "frog", "send", "env", home=home, tls=(), env=env).returncode == 0
        mismatch = _send(plain, home, "x", *TLS)
        assert mismatch.returncode == ExitCode.UNREACHABLE
        assert "--no-tls" in _one_line(mismatch.stderr)
        contradictory = _send(plain, home, "x", "--no-tls", "--fingerprint", "ab" * 32)
        assert contradictory.returncode == ExitCode.USAGE
    assert not (config_dir(home) / "known_servers").exists()


def _captured_login(tmp_path: Path, home: Path, tls: bool) -> bytes:
    with server_process(tmp_path / f"data-{tls}", tls=tls) as server, \
            recording_proxy(server.address) as proxy:
        host, port = proxy.address
        via_proxy = SimpleNamespace(host=host, port=port)
        sent = _send(via_proxy, home, "secret handshake", *(TLS if tls else ("--no-tls",)),
                     password=PASSWORD)
        assert sent.returncode == 0, sent.stderr
        return proxy.captured()


def test_the_password_never_crosses_the_wire_in_clear_with_tls(
    tmp_path: Path, home: Path
) -> None:
    captured = _captured_login(tmp_path, home, tls=True)
    assert captured[:1] == b"\x16", "a TLS handshake record comes first"
    for needle in (PASSWORD.encode(), b"tr0ub4dor", b"frog", b"secret handshake"):
        assert needle not in captured
    control = _captured_login(tmp_path, home, tls=False)
    assert PASSWORD.encode() in control and b"secret handshake" in control
    assert re.search(rb"frog", control)


def test_an_unusable_pin_file_is_one_line_and_fingerprint_still_works(
    tmp_path: Path, home: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the config folder should be\n")
    env = cli_env(home, CHAT_CONFIG_DIR=str(blocker))
    with server_process(tmp_path / "data", tls=True) as server:
        fp = _fingerprint(server)
        refused = run_cli(server, "frog", "send", "x", home=home, tls=TLS, env=env)
        assert refused.returncode == ExitCode.CERTIFICATE_REFUSED
        line = _one_line(refused.stderr)
        assert "pin file" in line and str(blocker) in line
        given = run_cli(server, "frog", "send", "y", home=home, tls=("--fingerprint", fp),
                        env=env)
        assert given.returncode == 0, given.stderr
