"""``Connection.upload_progress``: where an upload's bytes must continue, as
the state machine counts them (the browser client's HTTP uploads rely on it)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import FileAccepted, FileChunk, FileEnd, FileOffer, FileRejected, iter_chunks

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
