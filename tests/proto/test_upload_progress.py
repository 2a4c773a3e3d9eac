"""``Connection.upload_progress``: where an upload's bytes must continue, as
the state machine counts them (the browser client's HTTP uploads rely on it)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import (
    ClientConnection,
    FileAccepted,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    Hello,
    LocalProtocolError,
    Login,
    LoginAccepted,
    RemoteProtocolError,
    ServerConnection,
    UploadTicket,
    encode_event,
    iter_chunks,
)

from .support import logged_in_pair, transmit

U64 = st.integers(0, 2**64 - 1)


@given(upload_id=U64, data=st.binary(max_size=300), chunk=st.integers(1, 64))
@settings(max_examples=60, deadline=None)
def test_progress_follows_every_chunk_until_the_end(upload_id: int, data: bytes,
                                                   chunk: int) -> None:
    client, server = logged_in_pair()
    offer = FileOffer(upload_id, "f.bin", len(data), hashlib.sha256(data).digest())
    transmit(client, server, offer)
    assert server.upload_progress(upload_id) is None  # offered, not accepted yet
    transmit(server, client, FileAccepted(upload_id))
    assert server.upload_progress(upload_id) == (0, len(data))
    assert client.upload_progress(upload_id) == (0, len(data))  # both sides count
    for piece in iter_chunks([data], chunk):
        transmit(client, server, FileChunk(upload_id, piece.offset, piece.data))
        assert server.upload_progress(upload_id) == (piece.offset + len(piece.data), len(data))
    transmit(client, server, FileEnd(upload_id))
    assert server.upload_progress(upload_id) is None  # ended: no byte may come now
    assert server.upload_progress(upload_id ^ 1) is None


def test_a_refused_upload_has_no_progress() -> None:
    client, server = logged_in_pair()
    transmit(client, server, FileOffer(7, "f.bin", 3, hashlib.sha256(b"abc").digest()))
    transmit(server, client, FileRejected(7, "too-large", "no"))
    assert server.upload_progress(7) is None



# -- the ticket of an HTTP upload (version 5) ------------------------------------------------

_DIGEST = hashlib.sha256(b"abc").digest()
_TOKEN = bytes(range(32))


def _pair(version: int | None = None) -> tuple[ClientConnection, ServerConnection]:
    """Logged in; the client offers ``version`` in its Hello (None: the highest)."""
    client, server = ClientConnection(), ServerConnection()
    hello = client.hello()
    transmit(client, server, hello if version is None else Hello(version, hello.max_frame_size))
    transmit(server, client, server.hello())
    transmit(client, server, Login("frog", "secret"))
    transmit(server, client, LoginAccepted("frog", True, False, 0))
    return client, server


@given(upload_id=U64, expires=st.integers(0, 2**32 - 1), token=st.binary(min_size=32,
                                                                            max_size=32))
@settings(max_examples=40, deadline=None)
def test_a_ticket_follows_the_acceptance_even_after_every_byte(
    upload_id: int, expires: int, token: bytes,
) -> None:
    client, server = _pair()
    assert client.speaks_upload_tickets and server.speaks_upload_tickets
    transmit(client, server, FileOffer(upload_id, "f.bin", 3, _DIGEST))
    transmit(server, client, FileAccepted(upload_id))
    # The client may have sent every byte already: they cross the ticket.
    transmit(client, server, FileChunk(upload_id, 0, b"abc"))
    transmit(client, server, FileEnd(upload_id))
    ticket = UploadTicket(upload_id, token, expires)
    assert transmit(server, client, ticket) == ticket
    assert client.open_uploads == server.open_uploads == 1, "a ticket closes nothing"


def test_a_ticket_is_refused_before_acceptance_twice_unknown_or_below_version_5() -> None:
    ticket = UploadTicket(1, _TOKEN, 60_000)
    unknown = _pair()[1]
    with pytest.raises(LocalProtocolError):
        unknown.send(ticket)  # no such upload
    client, server = _pair()
    transmit(client, server, FileOffer(1, "f.bin", 3, _DIGEST))
    with pytest.raises(LocalProtocolError):
        server.send(ticket)  # before its FileAccepted
    client, server = _pair()
    transmit(client, server, FileOffer(1, "f.bin", 3, _DIGEST))
    transmit(server, client, FileAccepted(1))
    transmit(server, client, ticket)
    with pytest.raises(LocalProtocolError):
        server.send(ticket)  # a second one
    client, server = _pair(version=4)
    assert server.version == 4 and not server.speaks_upload_tickets
    transmit(client, server, FileOffer(1, "f.bin", 3, _DIGEST))
    transmit(server, client, FileAccepted(1))
    with pytest.raises(LocalProtocolError):
        server.send(ticket)  # version 4 has none
    client.receive_data(encode_event(ticket))
    with pytest.raises(RemoteProtocolError) as refused:
        client.next_event()
    assert refused.value.code == "unexpected-message"
