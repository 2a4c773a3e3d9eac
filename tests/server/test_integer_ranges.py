"""Every integer field a client sends, over its whole wire range, through one
real ``chat-server`` process (issue 11, item 1).

SQLite integers are signed 64-bit, the protocol's are unsigned: a value of
2**63 or more must neither break a batch (other users' messages lost) nor
reach the client as ``server-error``. Each test drives one message's fields
with ``st.integers`` over the field's range plus the boundary examples, and
checks that the server answers as the protocol says (the echoed ids exact,
refusals as refusals that leave the connection usable, protocol errors as
their own ``Error`` code), never with ``server-error`` or a traceback in
its log, and that messages stored in the same loop turn as the odd values
are delivered and replayed.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatproto import (
    PROTOCOL_VERSION,
    ChatMessage,
    ChatRejected,
    Error,
    Event,
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    Hello,
    Login,
    LoginAccepted,
    LoginRejected,
    Ping,
    Pong,
    SendChat,
    encode_event,
)
from chatproto.limits import HEADER_SIZE, MAX_FILE_SIZE, MIN_FRAME_SIZE, OLDEST_PROTOCOL_VERSION
from support import Closed, RawClient, ServerProcess, send_in_one_turn, server_process, upload

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux /proc (send_in_one_turn)"
)

U16, U32, U64 = 2**16 - 1, 2**32 - 1, 2**64 - 1
BOUNDARIES = (0, 1, 2**31, 2**32 - 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1)
#: Uploads up to this size are accepted: bigger ones are refused (too-large),
#: which must leave the connection usable.
MAX_UPLOAD = 200_000
#: The stored file every FetchFile example may ask for: more than one chunk
#: of the smallest frame a client may announce.
KNOWN_FILE = hashlib.sha256(b"known").digest() * (150_000 // 32)

F = TypeVar("F", bound=Callable[..., Any])


def boundaries(field: str, top: int = U64, **others: Any) -> Callable[[F], F]:
    """``@example`` for every boundary value of ``field`` up to ``top`` (and
    ``top`` itself), the other arguments fixed to ``others``."""
    values = sorted({v for v in BOUNDARIES if v <= top} | {top})

    def decorate(test: F) -> F:
        for value in values:
            test = example(**{field: value, **others})(test)
        return test

    return decorate


def u(top: int = U64) -> st.SearchStrategy[int]:
    return st.integers(0, top)


#: Enough examples to hit every magnitude; one server keeps it under a minute.
fast = settings(
    max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Chat:
    """The module's server, its logged-in clients (reconnected after a
    protocol error closed one) and the checks every example makes."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.clients: dict[str, RawClient] = {}
        self.ids = itertools.count(1)
        self._log_checked = 0
        self.known_file_id = 0
        #: Every stored file's content, by file id (all sent to everyone).
        self.files: dict[int, bytes] = {}

    def client(self, name: str) -> RawClient:
        client = self.clients.get(name)
        if client is None or client.eof:
            if client is not None:
                client.close()
            # 2**64 - 1: seen everything, no replay (events of its own only).
            client = RawClient.login_as(self.server, name, last_seen_seq=U64)
            self.clients[name] = client
        return client

    def drop(self, name: str) -> None:
        """``name``'s connection was closed by a protocol error: use a new one."""
        client = self.clients.pop(name)
        self.check_events(client)
        client.close()

    def check_events(self, client: RawClient) -> None:
        """Nothing the server sent ``client`` was a server error; then forget it."""
        for event in client.received:
            assert not (isinstance(event, Error) and event.code == "server-error"), event
            reason = getattr(event, "reason", None)
            assert reason != "server-error", event
        client.received.clear()

    def check(self) -> None:
        """No server-error to anyone, no traceback or error in the server's log."""
        for client in self.clients.values():
            self.check_events(client)
            client._pending.clear()
        lines = self.server.output().splitlines()
        fresh, self._log_checked = lines[self._log_checked :], len(lines)
        bad = [line for line in fresh if "Traceback" in line or " ERROR " in line
               or "Exception in" in line or "OverflowError" in line]
        assert not bad, "\n".join(fresh)

    def uploaded(self, announced: Event, data: bytes, upload_id: int) -> None:
        """``announced`` is the uploader's FileAvailable of ``data``."""
        assert isinstance(announced, FileAvailable), announced
        assert announced.upload_id == upload_id and announced.size == len(data)
        self.files[announced.file_id] = data

    def replay_for(self, name: str, after: int) -> list[Event]:
        """Log ``name`` in with ``last_seen_seq=after``: the entries replayed."""
        return self.login_with_replay(name, after)[1]

    def login_with_replay(
        self, name: str, after: int, epoch: int = 0
    ) -> tuple[LoginAccepted, list[Event]]:
        """Log ``name`` in with ``last_seen_seq=after`` (and ``epoch``, where
        Login has one): the verdict and the entries replayed, up to a marker
        message of its own (live, so after every replayed one)."""
        with RawClient(self.server.address) as client:
            client.hello()
            extra = {"epoch": epoch} if "epoch" in attrs.fields_dict(Login) else {}
            client.send(Login(name, "secret", after, **extra))
            accepted: Event = client.wait_for((LoginAccepted, LoginRejected))
            assert isinstance(accepted, LoginAccepted), accepted
            marker = next(self.ids)
            client.send(SendChat("marker", client_id=marker))
            client.wait_for(
                lambda e: isinstance(e, ChatMessage) and e.sender == name
                and e.client_id == marker
            )
            entries: list[Event] = [
                e for e in client.received if isinstance(e, ChatMessage | FileAvailable)
            ]
            self.check_events(client)
            client.goodbye()
        last = entries[-1]
        assert isinstance(last, ChatMessage) and last.text == "marker"
        assert isinstance(accepted, LoginAccepted)
        return accepted, entries[:-1]


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    data_dir = tmp_path_factory.mktemp("integer-ranges") / "data"
    with server_process(
        data_dir, "--flood-rate", "0", "--max-file-size", str(MAX_UPLOAD),
        "--heartbeat-interval", "300", "--heartbeat-timeout", "900",
    ) as server:
        chat = Chat(server)
        # Accounts that replay later exist before any message.
        for name in ("auditor", "replayer"):
            RawClient.login_as(server, name).goodbye()
        announced = upload(chat.client("uploader"), KNOWN_FILE, "known.bin")
        chat.uploaded(announced, KNOWN_FILE, 1)
        assert isinstance(announced, FileAvailable)
        chat.known_file_id = announced.file_id
        yield chat
        chat.check()
        for client in chat.clients.values():
            client.close()


def frame_with(event: Event, offset: int, fmt: str, *values: int) -> bytes:
    """``event``'s frame with the payload bytes at ``offset`` replaced by
    ``values`` (``struct`` format ``fmt``): for values the encoder refuses
    to send, which the server must refuse on its own."""
    data = bytearray(encode_event(event))
    struct.pack_into("!" + fmt, data, HEADER_SIZE + offset, *values)
    return bytes(data)


def chat_from(sender: str, client_id: int) -> Callable[[Event], bool]:
    """A ``wait_for`` predicate: the ChatMessage ``sender`` sent as ``client_id``."""
    return lambda e: (
        isinstance(e, ChatMessage) and e.sender == sender and e.client_id == client_id
    )


def closed_with(client: RawClient, *codes: str) -> None:
    """The server answered a protocol error with ``Error`` (one of ``codes``)
    and closed."""
    events = client.wait_closed()
    errors = [e for e in events if isinstance(e, Error)]
    assert errors and errors[-1].code in codes, events


# -- handshake and keepalive ------------------------------------------------------------


@fast
@given(version=u(U16), max_frame_size=u(U32))
@boundaries("version", U16, max_frame_size=MIN_FRAME_SIZE)
@boundaries("max_frame_size", U32, version=PROTOCOL_VERSION)
def test_hello_fields(chat: Chat, version: int, max_frame_size: int) -> None:
    with RawClient(chat.server.address) as client:
        problems = {"invalid-field"} if max_frame_size < MIN_FRAME_SIZE else set()
        problems |= {"unsupported-version"} if version < OLDEST_PROTOCOL_VERSION else set()
        if problems:  # a protocol error: Error, closed
            client.send_raw(
                frame_with(Hello(PROTOCOL_VERSION, MIN_FRAME_SIZE, "odd"), 0, "HI", version,
                           max_frame_size)
            )
            closed_with(client, *problems)
            chat.check_events(client)
        else:
            client.send(Hello(version, max_frame_size, "odd"))
            hello = client.wait_for(Hello)
            assert hello.version == min(version, PROTOCOL_VERSION)
            # The server keeps to the announced frame limit when it sends a file.
            accepted = client.login("framer")
            assert isinstance(accepted, LoginAccepted), accepted
            client.send(FetchFile(chat.known_file_id, 0))
            data = bytearray()
            event: Event
            while not isinstance(event := client.wait_for((FileChunk, FileEnd)), FileEnd):
                assert isinstance(event, FileChunk)
                assert len(encode_event(event)) - HEADER_SIZE <= max_frame_size
                data += event.data
            assert bytes(data) == KNOWN_FILE
            chat.check_events(client)
            client.goodbye()
    chat.check()


@fast
@given(nonce=u())
@boundaries("nonce")
def test_ping_and_pong_nonces(chat: Chat, nonce: int) -> None:
    client = chat.client("pinger")
    client.send(Pong(nonce))  # unasked: ignored
    client.send(Ping(nonce))
    assert client.wait_for(Pong).nonce == nonce
    chat.check()


@fast
@given(last_seen=u(), epoch=u())
@boundaries("last_seen", epoch=0)
@boundaries("epoch", last_seen=0)
def test_login_integer_fields(chat: Chat, last_seen: int, epoch: int) -> None:
    """Any values log in (``epoch`` where the protocol has it); the replay
    is in order, never past ``last_seq``, and after ``last_seen`` unless the
    server says it replays all history (``history_reset``: a seq it never
    gave out, or another history's)."""
    accepted, entries = chat.login_with_replay("replayer", last_seen, epoch)
    seqs = [e.seq for e in entries]  # type: ignore[attr-defined]
    assert seqs == sorted(set(seqs))
    assert all(seq <= accepted.last_seq for seq in seqs)
    if not getattr(accepted, "history_reset", False):
        assert all(seq > last_seen for seq in seqs)
    chat.check()


# -- chat ----------------------------------------------------------------------------


@fast
@given(client_id=u(), recipient=st.sampled_from([None, "auditor", "nobody"]))
@boundaries("client_id", recipient=None)
@example(client_id=2**63, recipient="auditor")
@example(client_id=U64, recipient="nobody")
def test_send_chat_client_id(chat: Chat, client_id: int, recipient: str | None) -> None:
    """The odd id and two other users' messages in one batch: the odd one is
    delivered with its id exact (or refused: unknown recipient), the others
    are delivered and stored whatever it did."""
    sender, alice, bob = chat.client("sender"), chat.client("alice"), chat.client("bob")
    honest = {name: next(chat.ids) for name in ("alice", "bob")}
    send_in_one_turn(chat.server, [
        (alice, SendChat("honest a", client_id=honest["alice"])),
        (sender, SendChat("odd", recipient, client_id)),
        (bob, SendChat("honest b", client_id=honest["bob"])),
    ])
    reply: Event = sender.wait_for(
        lambda e: (isinstance(e, ChatMessage) and e.sender == "sender")
        or isinstance(e, ChatRejected)
    )
    if recipient == "nobody":
        assert isinstance(reply, ChatRejected) and reply.reason == "unknown-user", reply
        assert reply.client_id == client_id
    else:
        assert isinstance(reply, ChatMessage), reply
        assert reply.client_id == client_id
    delivered: dict[str, ChatMessage] = {}
    for client in (sender, alice, bob):
        for name, cid in honest.items():
            message: ChatMessage = client.wait_for(chat_from(name, cid))
            delivered[name] = message
    first = min(m.seq for m in delivered.values())
    if isinstance(reply, ChatMessage):
        first = min(first, reply.seq)
    replayed = {
        (e.sender, e.client_id) for e in chat.replay_for("auditor", first - 1)
        if isinstance(e, ChatMessage)
    }
    assert set(honest.items()) <= replayed
    if isinstance(reply, ChatMessage):
        assert ("sender", client_id) in replayed  # broadcast or to the auditor
    chat.check()


def test_big_client_ids_do_not_take_honest_messages_with_them(chat: Chat) -> None:
    """Three users send ids of 2**63 and more while five chat, all in one
    loop turn: every message is delivered and stored, every id exact."""
    odd = {f"odd{i}": chat.client(f"odd{i}") for i in range(3)}
    honest = {f"honest{i}": chat.client(f"honest{i}") for i in range(5)}
    everyone = {**odd, **honest}
    sent: dict[tuple[str, int], str] = {}
    for round_ in range(3):
        sends: list[tuple[RawClient, Event]] = []
        for index, (name, client) in enumerate(everyone.items()):
            cid = 2**63 + round_ * 8 + index if name in odd else next(chat.ids)
            if name in odd and index == 2:
                cid = U64 - round_
            sends.append((client, SendChat(f"{name} round {round_}", client_id=cid)))
            sent[name, cid] = f"{name} round {round_}"
        send_in_one_turn(chat.server, sends)
    first = 0
    for receiver, client in everyone.items():
        got: dict[tuple[str, int], str] = {}
        deadline = time.monotonic() + 10
        for name, cid in sent:
            try:
                message: ChatMessage = client.wait_for(
                    chat_from(name, cid), timeout=max(deadline - time.monotonic(), 0.01)
                )
            except TimeoutError:
                continue
            got[name, cid] = message.text
            first = min(first or message.seq, message.seq)
        lost = sorted(set(sent) - set(got))
        assert not lost, f"{receiver} never got {len(lost)} of {len(sent)} messages: {lost}"
    replayed = {
        (e.sender, e.client_id): e.text for e in chat.replay_for("auditor", first - 1)
        if isinstance(e, ChatMessage)
    }
    assert replayed.items() >= sent.items()
    chat.check()


# -- files ---------------------------------------------------------------------------


@fast
@given(upload_id=u(), size=u())
@boundaries("upload_id", size=10)
@boundaries("size", upload_id=7)
@example(upload_id=2**63, size=0)
@example(upload_id=U64, size=MAX_UPLOAD)
@example(upload_id=1, size=MAX_UPLOAD + 1)
@example(upload_id=1, size=MAX_FILE_SIZE)
@example(upload_id=1, size=MAX_FILE_SIZE + 1)
def test_file_offer_fields(chat: Chat, upload_id: int, size: int) -> None:
    client = chat.client("offerer")
    if size > MAX_FILE_SIZE:  # beyond the protocol's limit: a protocol error
        client.send_raw(frame_with(FileOffer(upload_id, "f.bin", 0, bytes(32)), 8, "Q", size))
        closed_with(client, "invalid-field")
        chat.drop("offerer")
    elif size > MAX_UPLOAD:  # beyond the server's limit: refused, usable
        client.send(FileOffer(upload_id, "f.bin", size, bytes(32)))
        rejected = client.wait_for(FileRejected)
        assert (rejected.upload_id, rejected.reason) == (upload_id, "too-large")
    else:
        data = os.urandom(size)
        chat.uploaded(upload(client, data, "f.bin", upload_id), data, upload_id)
    client = chat.client("offerer")
    client.send(Ping(upload_id))
    assert client.wait_for(Pong).nonce == upload_id
    chat.check()


@fast
@given(transfer_id=u(), offset=u(), open_first=st.booleans())
@boundaries("transfer_id", offset=0, open_first=True)
@boundaries("offset", transfer_id=2**63, open_first=True)
@boundaries("transfer_id", offset=0, open_first=False)
def test_file_chunk_fields(chat: Chat, transfer_id: int, offset: int, open_first: bool) -> None:
    client = chat.client("chunker")
    data = b"0123456789abcdef"
    if open_first:
        client.send(FileOffer(transfer_id, "c.bin", len(data), hashlib.sha256(data).digest()))
        assert client.wait_for(FileAccepted).upload_id == transfer_id
    if open_first and offset == 0:
        client.send(FileChunk(transfer_id, offset, data))
        client.send(FileEnd(transfer_id))
        mine: Event = client.wait_for(
            lambda e: isinstance(e, FileAvailable) and e.sender == "chunker"
            and e.upload_id == transfer_id
        )
        chat.uploaded(mine, data, transfer_id)
    else:
        client.send_raw(encode_event(FileChunk(transfer_id, offset, data)))
        # No such upload, or not where the upload stands: protocol errors.
        closed_with(client, "invalid-field" if open_first else "unexpected-message")
        chat.drop("chunker")
    chat.check()


@fast
@given(transfer_id=u(), complete=st.booleans())
@boundaries("transfer_id", complete=True)
@boundaries("transfer_id", complete=False)
def test_file_end_fields(chat: Chat, transfer_id: int, complete: bool) -> None:
    client = chat.client("ender")
    if complete:
        chat.uploaded(upload(client, b"end", "e.bin", transfer_id), b"end", transfer_id)
    else:
        client.send_raw(encode_event(FileEnd(transfer_id)))
        closed_with(client, "unexpected-message")
        chat.drop("ender")
    chat.check()


@fast
@given(file_id=st.one_of(st.none(), u()), offset=u())
@boundaries("file_id", offset=0)
@boundaries("offset", file_id=None)
@example(file_id=None, offset=len(KNOWN_FILE))
@example(file_id=None, offset=len(KNOWN_FILE) + 1)
@example(file_id=None, offset=len(KNOWN_FILE) - 1)
def test_fetch_file_fields(chat: Chat, file_id: int | None, offset: int) -> None:
    """``None``: the known file; other ids are unknown unless an earlier test
    stored a file under it."""
    client = chat.client("fetcher")
    fid = chat.known_file_id if file_id is None else file_id
    client.send(FetchFile(fid, offset))
    event: Event = client.wait_for(
        lambda e: isinstance(e, FileChunk | FileEnd | FetchRejected)
        and getattr(e, "transfer_id", getattr(e, "file_id", None)) == fid
    )
    stored = chat.files.get(fid)
    if stored is None:
        assert isinstance(event, FetchRejected) and event.reason == "not-found", event
    elif offset > len(stored):
        assert isinstance(event, FetchRejected) and event.reason == "bad-offset", event
    else:
        data = bytearray()
        while isinstance(event, FileChunk):
            assert event.offset == offset + len(data)
            data += event.data
            event = client.wait_for((FileChunk, FileEnd))
        assert isinstance(event, FileEnd)
        assert bytes(data) == stored[offset:]
    client.send(Ping(1))  # still usable
    client.wait_for(Pong)
    chat.check()


def test_no_connection_was_lost_to_a_server_error(chat: Chat) -> None:
    """Last: the module's long-lived connections all still work."""
    for name, client in list(chat.clients.items()):
        try:
            client.send(Ping(2**64 - 1))
            assert client.wait_for(Pong).nonce == 2**64 - 1
        except (Closed, OSError) as exc:  # pragma: no cover - the bug
            raise AssertionError(f"{name}'s connection broke: {exc}") from None
    chat.check()
