"""The clients of ``reconnect.py``: users that log in, follow the stream, and log in
again at once when the server goes away, each in a worker process.

``FrameClient`` speaks the login on the wire and skips by header what it does not need
(the others' Presence frames, the participant pages), so one core of them keeps up with
the server they measure; ``SessionClient`` is the real ``AsyncSession``, every frame
decoded, for comparison. Both reconnect with their resume token or their password.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
from multiprocessing.queues import Queue
from typing import Any

from chatproto import (
    PROTOCOL_VERSION,
    ChatMessage,
    Error,
    Goodbye,
    Hello,
    Login,
    LoginAccepted,
    LoginRejected,
    Ping,
    Pong,
    Presence,
    encode_event,
)
from chatproto._codec import decode_payload
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE
from chatproto.session import AsyncSession, ChatError, Disconnected, LoginRefused
from chatproto.wire import LAYOUT_BY_CLASS, LAYOUT_BY_CODE

PASSWORD = "storm-password"
#: Refusals a client waits out and tries again, as a person would press "Reconnect".
RETRIED = {"already-active", "rate-limited", "server-full", "timeout", "too-many-connections"}
#: Per attempt: long enough for the password row's queue of scrypt hashes, so that
#: it measures the hashing rather than clients giving up and adding to the queue.
LOGIN_TIMEOUT = 600.0


class Client:
    """One user: logs in, follows the stream, and after a loss logs in again."""

    def __init__(self, name: str, token: bytes, plan: dict[str, Any]) -> None:
        self.name, self.token, self.plan = name, token, plan
        self.lost = asyncio.Event()
        self.replayed = asyncio.Event()

    async def connect(self, mode: str) -> tuple[int, bool]:
        """Log in, retrying while the server is away; (attempts, by resume token)."""
        for attempt in range(1, 100_000):
            try:
                by_token = await self._login(mode)
            except LoginRefused as exc:
                if exc.code not in RETRIED:
                    raise
            except (ChatError, OSError, EOFError):
                pass  # not listening yet, or the connection broke: try again
            else:
                return attempt, by_token
            await asyncio.sleep(0.02 + random.random() * 0.03)
        raise RuntimeError("unreachable")

    async def _login(self, mode: str) -> bool:
        raise NotImplementedError

    async def storm(self, mode: str) -> dict[str, Any]:
        await self.lost.wait()
        self.lost.clear()
        self.replayed.clear()
        attempts, by_token = await self.connect(mode)
        back = time.monotonic()
        await self.replayed.wait()
        return {"back": back, "replayed": time.monotonic(), "attempts": attempts,
                "by_token": by_token}

    async def close(self) -> None:
        raise NotImplementedError


class SessionClient(Client):
    """The real client: ``AsyncSession``, every event decoded and kept, as the GUI's."""

    session: AsyncSession | None = None

    async def _login(self, mode: str) -> bool:
        plan = self.plan
        session = await AsyncSession.connect(
            plan["host"], plan["port"], self.name, PASSWORD if mode == "password" else "",
            resume_token=self.token if mode == "token" else None,
            last_seen_seq=plan["last_seq"] - plan["missed"], epoch=plan["epoch"],
            timeout=LOGIN_TIMEOUT, tls=plan["tls"],
        )
        self.session, self.token = session, session.resume_token or b""
        asyncio.get_running_loop().create_task(self._follow(session))
        return session.by_resume_token

    async def _follow(self, session: AsyncSession) -> None:
        async for event in session.events():
            if isinstance(event, ChatMessage) and event.seq >= self.plan["last_seq"]:
                self.replayed.set()
            elif isinstance(event, Disconnected):
                self.lost.set()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


class FrameClient(Client):
    """The same Hello, Login and verdict on the wire, but of what follows only the
    replayed ChatMessages' seq is read (from their first 8 bytes), and Pings are
    answered: the thousand Presence frames of the others' arrivals are skipped by
    their header. So one core of clients keeps up with the server it measures."""

    writer: asyncio.StreamWriter | None = None

    async def _login(self, mode: str) -> bool:
        plan = self.plan
        reader, writer = await asyncio.open_connection(plan["host"], plan["port"],
                                                       ssl=plan["ssl"])
        password, token = (PASSWORD, b"") if mode == "password" else ("", self.token)
        login = Login(self.name, password, plan["last_seq"] - plan["missed"], plan["epoch"],
                      token)
        writer.write(encode_event(Hello(PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "storm"))
                     + encode_event(login))
        buffer = b""
        while True:
            verdict, buffer = await self._frame(reader, buffer)
            if verdict is not None:
                break
        event = decode_payload(LAYOUT_BY_CODE[verdict[0]], verdict[1])
        if isinstance(event, LoginRejected):
            writer.close()
            raise LoginRefused(event.message, event.reason)
        assert isinstance(event, LoginAccepted)
        self.writer, self.token = writer, event.resume_token
        asyncio.get_running_loop().create_task(self._follow(reader, writer, buffer))
        return bool(token)

    async def _frame(self, reader: asyncio.StreamReader,
                     buffer: bytes) -> tuple[tuple[int, bytes] | None, bytes]:
        """The next verdict frame (LoginAccepted, LoginRejected), or None for another."""
        while len(buffer) < HEADER_SIZE or len(buffer) < HEADER_SIZE + _length(buffer):
            data = await reader.read(65_536)
            if not data:
                raise EOFError("the server closed the connection during login")
            buffer += data
        end = HEADER_SIZE + _length(buffer)
        code, payload = buffer[0], buffer[HEADER_SIZE:end]
        if code in (_ACCEPTED, _REJECTED):
            return (code, payload), buffer[end:]
        if code in (_GOODBYE, _ERROR):
            raise EOFError("the server ended the connection during login")
        return None, buffer[end:]

    async def _follow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      buffer: bytes) -> None:
        last_seq = self.plan["last_seq"]
        # One frame at a time, a million of them in a storm of 1,000: the
        # loop's names are locals, and the frames to skip are tested first.
        header, seq_of, header_size = _HEADER.unpack_from, _SEQ.unpack_from, HEADER_SIZE
        presence, chat, ping, goodbye, error = _PRESENCE, _CHAT, _PING, _GOODBYE, _ERROR
        try:
            while True:
                pos, size = 0, len(buffer)
                while size - pos >= header_size:
                    code, length = header(buffer, pos)
                    end = pos + header_size + length
                    if end > size:
                        break
                    if code == presence:
                        pass
                    elif code == chat:
                        if seq_of(buffer, pos + header_size)[0] >= last_seq:
                            self.replayed.set()
                    elif code == ping:
                        writer.write(encode_event(Pong(seq_of(buffer, pos + header_size)[0])))
                    elif code in (goodbye, error):
                        return
                    pos = end
                data = await reader.read(262_144)
                if not data:
                    return
                buffer = buffer[pos:] + data
        except OSError:
            return
        finally:
            writer.close()
            self.lost.set()

    async def close(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(encode_event(Goodbye()))
            self.writer.close()


def _length(buffer: bytes) -> int:
    return int.from_bytes(buffer[1:HEADER_SIZE], "big")


_SEQ = struct.Struct("!Q")
_HEADER = struct.Struct("!BI")
_ACCEPTED, _REJECTED, _CHAT, _PING, _GOODBYE, _ERROR, _PRESENCE = (
    LAYOUT_BY_CLASS[cls].type_code
    for cls in (LoginAccepted, LoginRejected, ChatMessage, Ping, Goodbye, Error, Presence)
)


async def _work(names: list[str], tokens: list[bytes], plan: dict[str, Any],
                results: Queue[Any]) -> None:
    kind = SessionClient if plan["client"] == "session" else FrameClient
    clients = [kind(n, t, plan) for n, t in zip(names, tokens, strict=True)]
    gate = asyncio.Semaphore(50)  # the first logins, not measured: no need to storm

    async def first(client: Client) -> None:
        async with gate:
            _, by_token = await client.connect("token")
            assert by_token, f"{client.name}: the seeded token was refused"
            await client.replayed.wait()

    await asyncio.gather(*(first(c) for c in clients))
    results.put(("ready", len(clients)))
    for mode in plan["modes"]:
        cpu = time.process_time()
        rows = await asyncio.gather(*(c.storm(mode) for c in clients))
        results.put(("back", (rows, time.process_time() - cpu)))
    await asyncio.gather(*(c.close() for c in clients))
    results.put(("done", None))


def worker(names: list[str], tokens: list[bytes], plan: dict[str, Any],
           results: Queue[Any]) -> None:
    try:
        asyncio.run(_work(names, tokens, plan, results))
    except BaseException as exc:  # the parent waits on the queue: tell it
        results.put(("failed", f"{type(exc).__name__}: {exc}"))
        raise


__all__ = ["LOGIN_TIMEOUT", "PASSWORD", "worker"]
