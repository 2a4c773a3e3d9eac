"""The client session's TLS wiring against the real ``chat-server``: the
default is TLS with trust on first use, pins land in the config folder, the
first-contact hook may take its time or decline, and plain TCP is explicit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chatproto.session import (
    NO_TLS,
    AsyncSession,
    CertificateRefused,
    ClientTLS,
    PinRequest,
    PinStore,
    Session,
    TLSFailed,
    TrustMode,
)
from support import server_process

from .test_tls_server_e2e import FINGERPRINT_RE


def test_the_default_is_tls_with_pins_in_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_CONFIG_DIR", str(tmp_path / "config"))
    with server_process(tmp_path / "data", tls=True) as server:
        fp = server.wait_for_line(FINGERPRINT_RE).group(1)
        with Session.connect(server.host, server.port, "alice", "pw") as alice:
            assert alice.trust.mode is TrustMode.NEW_PIN and alice.trust.fingerprint == fp
            assert alice.send_chat("over TLS").text == "over TLS"
        pinned = (tmp_path / "config" / "known_servers").read_text()
        assert pinned == f"{server.host}:{server.port} {fp}\n"

        async def again() -> TrustMode:
            async with await AsyncSession.connect(server.host, server.port, "bob", "pw") as bob:
                return bob.trust.mode

        assert asyncio.run(again()) is TrustMode.PINNED


def test_a_slow_answer_to_the_first_contact_question_still_logs_in(tmp_path: Path) -> None:
    """A person comparing fingerprints may take longer than the server waits
    for a login: the session connects again, checked against the new pin."""
    with server_process(tmp_path / "data", "--login-timeout", "1", tls=True) as server:
        fp = server.wait_for_line(FINGERPRINT_RE).group(1)
        asked: list[PinRequest] = []

        def slow_person(request: PinRequest) -> bool:
            asked.append(request)
            # Answer only once the server gave up on this connection.
            server.wait_for_line(r"closed: no login in time", timeout=15)
            return True

        pins = PinStore(tmp_path / "pins")
        tls = ClientTLS(pins=pins, confirm=slow_person)
        with Session.connect(server.host, server.port, "alice", "pw", tls=tls) as alice:
            assert alice.trust.mode is TrustMode.NEW_PIN
            assert alice.send_chat("made it").text == "made it"
        assert asked == [PinRequest(server.host, server.port, fp)]
        assert pins.get(server.host, server.port) == fp


def test_a_declined_first_contact_sends_nothing_and_pins_nothing(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", tls=True) as server:
        pins = PinStore(tmp_path / "pins")

        async def no(request: PinRequest) -> bool:
            return False

        async def attempt() -> None:
            await AsyncSession.connect(server.host, server.port, "alice", "secret-pw",
                                       tls=ClientTLS(pins=pins, confirm=no))

        with pytest.raises(CertificateRefused) as refused:
            asyncio.run(attempt())
        assert refused.value.code == "pin-declined" and "\n" not in str(refused.value)
        assert not pins.path.exists()
        # Had the login been sent, "alice" would exist with "secret-pw".
        with Session.connect(server.host, server.port, "alice", "another",
                             tls=ClientTLS(pins=pins)) as alice:
            assert alice.new_account


def test_plain_tcp_only_when_asked_and_a_mismatch_is_typed(tmp_path: Path) -> None:
    with server_process(tmp_path / "data") as plain:  # --no-tls
        with Session.connect(plain.host, plain.port, "alice", "pw", tls=NO_TLS) as alice:
            assert alice.trust.mode is TrustMode.PLAIN
        with pytest.raises(TLSFailed, match="--no-tls") as failed:
            Session.connect(plain.host, plain.port, "alice", "pw", timeout=5,
                            tls=ClientTLS(pins=PinStore(tmp_path / "pins")))
        assert failed.value.code == "tls-failed"
