"""The session as an adapter: ClientState's outcomes become results and errors.

A scripted peer speaks the server side with ``chatproto.ServerConnection``
over a real loopback socket and answers in ways a real server rarely does on
cue: a history replay that carries our pending client id with other text
just before the real delivery, refusals with a detail, a fetch refused.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from chatproto import (
    NEED_DATA,
    ChatMessage,
    ChatRejected,
    Event,
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    Hello,
    Login,
    LoginAccepted,
    RejectReason,
    SendChat,
    ServerConnection,
    State,
)
from chatproto.session import NO_TLS, AsyncSession, FileRefused, MessageRefused

CONTENT = b"the bytes of a small file\n"
STORED = 9  # the file id the scripted server gives the upload
MISSING = 404


def _answers(event: Event, uploaded: bytearray) -> list[Event]:
    if isinstance(event, SendChat) and event.recipient == "nobody":
        return [ChatRejected(event.client_id, RejectReason.UNKNOWN_USER, "no such user")]
    if isinstance(event, SendChat):
        replay = ChatMessage(1, 0, event.client_id, "frog", None, "from an earlier session")
        return [replay, ChatMessage(2, 0, event.client_id, "frog", None, event.text)]
    if isinstance(event, FileOffer):
        uploaded.clear()
        return [FileAccepted(event.upload_id)]
    if isinstance(event, FileChunk):
        uploaded += event.data
        return []
    if isinstance(event, FileEnd):
        digest = hashlib.sha256(uploaded).digest()
        return [FileAvailable(3, 0, STORED, "frog", None, "notes.txt", len(uploaded), digest,
                              event.transfer_id)]
    if isinstance(event, FetchFile) and event.file_id == MISSING:
        return [FetchRejected(MISSING, RejectReason.NOT_FOUND, "gone")]
    if isinstance(event, FetchFile):
        return [FileChunk(STORED, event.offset, CONTENT[event.offset:]), FileEnd(STORED)]
    return []


async def _scripted_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conn = ServerConnection()
    uploaded = bytearray()
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data:
                break
        elif isinstance(event, Hello):
            writer.write(conn.send(conn.hello("scripted")))
        elif isinstance(event, Login):
            writer.write(conn.send(LoginAccepted(event.username, False, True, 0)))
        elif isinstance(event, Event):
            for answer in _answers(event, uploaded):
                writer.write(conn.send(answer))
            if conn.their_state in (State.CLOSED, State.ERROR):
                break
    writer.close()


def test_outcomes_become_results_and_typed_errors(tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_bytes(CONTENT)

    async def main() -> None:
        server = await asyncio.start_server(_scripted_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            session = await AsyncSession.connect("127.0.0.1", port, "frog", "pw", tls=NO_TLS)
            try:
                delivered = await session.send_chat("hello")
                assert (delivered.seq, delivered.text) == (2, "hello"), "not the replay"
                shown = [await session.next_event(), await session.next_event()]
                assert [m.seq for m in shown if isinstance(m, ChatMessage)] == [1, 2]

                with pytest.raises(MessageRefused) as refused:
                    await session.send_chat("psst", to="nobody")
                assert refused.value.code == "unknown-user"
                assert str(refused.value) == "message refused: unknown-user (no such user)"

                announced = await session.send_file(upload)
                assert (announced.file_id, announced.size) == (STORED, len(CONTENT))
                saved = await session.download(announced, tmp_path / "in")
                assert saved.read_bytes() == CONTENT

                missing = FileAvailable(4, 0, MISSING, "toad", None, "x", 1, bytes(32))
                with pytest.raises(FileRefused) as gone:
                    await session.download(missing, tmp_path / "in")
                assert gone.value.code == RejectReason.NOT_FOUND
                assert str(gone.value) == "download refused: not-found (gone)"
                assert session.last_seq == 3
            finally:
                await session.close()

    asyncio.run(asyncio.wait_for(main(), 30))
