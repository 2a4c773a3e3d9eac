"""Issue 14, item 6: one server has one pin however it is named.

Real ``chat-server`` processes over TLS and the real ``chat-cli``: a
certificate that changed on ``127.0.0.1`` is refused when the same server is
then reached as ``localhost`` (it used to be pinned silently as a first use),
the same certificate under a second name is accepted without a first-use
notice, and a really new server at another address is still pinned as one."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from chatproto.session.pins import PinStore, address_port
from chatserver.tls import CERT_FILE, KEY_FILE
from cli.clitools import config_dir, run_cli
from frontends.cli.exitcodes import ExitCode
from support import ServerProcess, server_process

from .test_tls_server_e2e import FINGERPRINT_RE

TLS: tuple[str, ...] = ()  # the default: TLS, trust on first use
FIRST_USE = "on first use"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def pins_of(home: Path) -> PinStore:
    return PinStore(config_dir(home) / "known_servers")


def fingerprint_of(server: ServerProcess) -> str:
    return server.wait_for_line(FINGERPRINT_RE).group(1)


def named(host: str, port: int) -> SimpleNamespace:
    """The server as ``run_cli`` reaches it, under the name given."""
    return SimpleNamespace(host=host, port=port)


def send(host: str, port: int, home: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return run_cli(named(host, port), "frog", *options, "send", "hello", home=home, tls=TLS)


def refused_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == ExitCode.CERTIFICATE_REFUSED, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@contextmanager
def reinstalled(data: Path, port: int) -> Iterator[ServerProcess]:
    """The server of ``data`` started again on ``port`` with a new certificate."""
    for name in (CERT_FILE, KEY_FILE):
        (data / name).unlink()
    with server_process(data, "--port", str(port), tls=True) as server:
        yield server


def test_a_changed_certificate_met_under_a_second_name_is_refused(home: Path,
                                                                  tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server_process(data, tls=True) as server:
        port, old_fp = server.port, fingerprint_of(server)
        first = send("127.0.0.1", port, home)
        assert first.returncode == 0 and FIRST_USE in first.stderr, first.stderr
    pinned = pins_of(home).path.read_text()
    with reinstalled(data, port) as server:
        new_fp = fingerprint_of(server)
        assert new_fp != old_fp
        line = refused_line(send("localhost", port, home))
        assert f"localhost:{port}" in line and f"as 127.0.0.1:{port}" in line, line
        assert old_fp in line and new_fp in line, line
        assert "remove the line of 127.0.0.1" in line and "--fingerprint" in line, line
        assert pins_of(home).path.read_text() == pinned, "nothing may be pinned"

        # The way out the message gives: the known fingerprint, given explicitly.
        accepted = send("localhost", port, home, "--fingerprint", new_fp)
        assert accepted.returncode == 0, accepted.stderr
        assert pins_of(home).get("localhost", port) == new_fp
        server.wait_for_line(r"frog logged in")
        logins = [line for line in server.output().splitlines() if "frog logged in" in line]
        assert len(logins) == 1, "the refused attempt must not have logged in"
        # The old name's pin is still the old one: still refused, as before.
        line = refused_line(send("127.0.0.1", port, home))
        assert "has changed" in line and old_fp in line, line


def test_a_changed_certificate_met_by_address_after_a_name_is_refused(home: Path,
                                                                      tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server_process(data, tls=True) as server:
        port = server.port
        assert send("localhost", port, home).returncode == 0
    # A name proves no address: the pin keeps where the name led.
    pin = pins_of(home).find("localhost", port)
    assert pin is not None and pin.address == f"127.0.0.1:{port}"
    with reinstalled(data, port):
        line = refused_line(send("127.0.0.1", port, home))
        assert f"as localhost:{port}" in line and pin.fingerprint in line, line
        assert pins_of(home).get("127.0.0.1", port) is None

        # Removing the old server's line, as the message says, makes this a
        # first use again: pinned, with the notice.
        assert pins_of(home).forget("localhost", port)
        again = send("127.0.0.1", port, home)
        assert again.returncode == 0 and FIRST_USE in again.stderr, again.stderr


def test_the_same_certificate_under_a_second_name_is_accepted_silently(
    home: Path, tmp_path: Path
) -> None:
    with server_process(tmp_path / "data", tls=True) as server:
        port, fp = server.port, fingerprint_of(server)
        assert send("127.0.0.1", port, home).returncode == 0
        second = send("localhost", port, home)
        assert second.returncode == 0, second.stderr
        assert FIRST_USE not in second.stderr, "a known certificate is no first use"
        assert pins_of(home).get("localhost", port) == fp
        third = send("localhost", port, home)
        assert third.returncode == 0 and third.stderr == "", third.stderr


def test_another_server_at_another_address_on_the_same_port_is_a_first_use(
    home: Path, tmp_path: Path
) -> None:
    with server_process(tmp_path / "one", tls=True) as one:
        port = one.port
        assert send("127.0.0.1", port, home).returncode == 0
        # A second machine, same port: 127.0.0.2 is another loopback address.
        with server_process(tmp_path / "two", "--host", "127.0.0.2", "--port", str(port),
                            tls=True) as two:
            other_fp = fingerprint_of(two)
            result = send("127.0.0.2", port, home)
            assert result.returncode == 0 and FIRST_USE in result.stderr, result.stderr
            assert pins_of(home).get("127.0.0.2", port) == other_fp


def test_the_pin_file_keeps_two_fields_for_addresses_and_three_for_names(
    tmp_path: Path,
) -> None:
    store = PinStore(tmp_path / "known_servers")
    fp = "SHA256:" + ":".join(["AB"] * 32)
    store.add("127.0.0.1", 9000, fp, address_port("127.0.0.1", 9000))
    store.add("Server.LAN.", 9000, fp, address_port("::ffff:10.0.0.5", 9000))
    store.add("::1", 9000, fp, address_port("[::1]", 9000))
    assert store.path.read_text().splitlines() == [
        f"127.0.0.1:9000 {fp}",
        f"server.lan:9000 {fp} 10.0.0.5:9000",
        f"[::1]:9000 {fp}",
    ]
    assert [pin.is_at("10.0.0.5:9000") for pin in store.pins()] == [False, True, False]
    assert store.pins()[2].is_at("[::1]:9000")
    assert address_port("localhost", 9000) is None
