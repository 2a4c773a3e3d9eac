"""Opening a connection and logging in: Hello, Login, and the verdict.

Every failure becomes a typed ``ChatError``: the network ones
``ServerUnreachable``, a certificate that is not trusted ``CertificateRefused``
(``FingerprintMismatch`` for a changed one), another TLS failure ``TLSFailed``,
the server's refusals ``LoginRefused`` with its reason. Trust is settled
before the first byte of the protocol, so no password reaches a server whose
certificate was refused.
"""

from __future__ import annotations

import asyncio
import os
import socket

from .. import events as ev
from ..client_state import ClientState, LoginComplete
from ..connection import NEED_DATA, ClientConnection
from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import username_problem
from .errors import ConnectionLost, LoginRefused, ServerUnreachable
from .tls import ClientTLS, PeerTrust, open_connection

SOFTWARE = "chatproto-session"
_READ_SIZE = 65_536

#: The client state comes logged in: its ``login`` is the whole LoginAccepted.
Opened = tuple[
    asyncio.StreamReader, asyncio.StreamWriter, ClientConnection, ClientState, PeerTrust
]


async def open_and_login(
    host: str,
    port: int,
    username: str,
    password: str,
    last_seen_seq: int,
    epoch: int,
    timeout: float,
    tls: ClientTLS,
) -> Opened:
    problem = username_problem(username)
    if problem is not None:
        raise LoginRefused(
            f"invalid user name {username!r}: {problem}", ev.LoginRejectReason.INVALID_NAME
        )
    conn = ClientConnection()
    try:
        greeting = conn.send(conn.hello(SOFTWARE)) + conn.send(
            ev.Login(username, password, max(0, last_seen_seq), epoch)
        )
    except LocalProtocolError as exc:
        raise LoginRefused(f"cannot log in: {exc}", "invalid-login") from None
    try:
        # No wait_for around it: ``timeout`` bounds each connection attempt,
        # not a person answering the first-contact confirmation.
        reader, writer, trust = await open_connection(host, port, tls, timeout)
    except TimeoutError:
        message = f"cannot reach {host}:{port}: timed out after {timeout:g}s"
        raise ServerUnreachable(message) from None
    except (OSError, UnicodeError, ValueError) as exc:
        errno = getattr(exc, "errno", None)
        if isinstance(exc, socket.gaierror):
            reason = f"unknown host ({exc.strerror})"
        elif errno:
            reason = os.strerror(errno).lower()
        else:
            reason = str(exc) or type(exc).__name__
        raise ServerUnreachable(f"cannot reach {host}:{port}: {reason}") from None
    try:
        writer.write(greeting)
        client = ClientState(last_seen_seq=last_seen_seq)
        await asyncio.wait_for(_await_verdict(reader, writer, conn, client), timeout)
    except TimeoutError:
        writer.close()
        raise ServerUnreachable(
            f"{host}:{port} did not answer the login within {timeout:g}s"
        ) from None
    except (OSError, EOFError) as exc:
        writer.close()
        raise ConnectionLost(f"connection lost during login: {exc}") from None
    except BaseException:
        writer.close()
        raise
    return reader, writer, conn, client, trust


async def _await_verdict(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: ClientConnection,
    client: ClientState,
) -> None:
    """Until ``client`` has the server's LoginAccepted and every page of its
    participant list; what follows stays in ``conn`` for the session."""
    while True:
        try:
            event = conn.next_event()
        except RemoteProtocolError as exc:
            raise ConnectionLost(f"protocol error during login: {exc}", "protocol-error") from None
        if event is NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))
        elif isinstance(event, ev.LoginAccepted | ev.ParticipantList):
            if any(isinstance(outcome, LoginComplete) for outcome in client.receive(event)):
                return
        elif isinstance(event, ev.LoginRejected):
            detail = f": {event.message}" if event.message else ""
            raise LoginRefused(f"login refused ({event.reason}){detail}", event.reason)
        elif isinstance(event, ev.Error):
            detail = f": {event.message}" if event.message else ""
            raise LoginRefused(f"the server refused the connection ({event.code}){detail}",
                               event.code)
        elif isinstance(event, ev.Ping):
            writer.write(conn.send(ev.Pong(event.nonce)))
        elif isinstance(event, ev.ConnectionClosed | ev.Goodbye):
            raise ConnectionLost("the server closed the connection during login")
