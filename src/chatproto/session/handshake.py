"""Opening a connection and logging in: Hello, Login, and the verdict.

A resume token, when the caller has one, goes in the first Login instead of
the password; if the server refuses it (``bad-resume-token``) the password,
when there is one, goes in a second Login on the same connection, so a
stale token costs one round trip, not a reconnect.

A transient login (docs/protocol.md 7.9) waits for the server's Hello, which
must say version 3: then a ``TransientLogin`` goes, with the password; a
version 2 server gets the ordinary password Login instead (``conn.transient``
tells the caller which it was).

Every failure becomes a typed ``ChatError``: the network ones
``ServerUnreachable``, a certificate that is not trusted ``CertificateRefused``
(``FingerprintMismatch`` for a changed one), another TLS failure ``TLSFailed``,
the server's refusals ``LoginRefused`` with its reason. Trust is settled
before the first byte of the protocol, so no password reaches a server whose
certificate was refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import NamedTuple

from .. import events as ev
from ..client_state import ClientState, LoginComplete
from ..connection import NEED_DATA, ClientConnection, PreparedEvent, prepare
from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import TRANSIENT_LOGIN_VERSION, username_problem
from .errors import ConnectionLost, LoginRefused, ServerUnreachable
from .tls import ClientTLS, PeerTrust, open_connection

SOFTWARE = "chatproto-session"
_READ_SIZE = 65_536


class Opened(NamedTuple):
    """A connection logged in: ``client.login`` is the whole LoginAccepted."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    conn: ClientConnection
    client: ClientState
    trust: PeerTrust
    #: The server took the resume token: no password was sent.
    by_resume_token: bool


def _logins(
    username: str, password: str, last_seen_seq: int, epoch: int, resume_token: bytes
) -> tuple[PreparedEvent, PreparedEvent | None]:
    """The Login to send first, and the password Login to send if the server
    refuses the first one's resume token (None: nothing to fall back to);
    each encoded once here, so an invalid one is refused before anything is sent."""
    seq = max(0, last_seen_seq)
    by_token = None
    # A damaged token is dropped: the password alone, as without one.
    with contextlib.suppress(LocalProtocolError):
        if resume_token:
            by_token = prepare(ev.Login(username, "", seq, epoch, resume_token))
    if by_token is not None and not password:
        return by_token, None
    try:
        by_password = prepare(ev.Login(username, password, seq, epoch))
    except LocalProtocolError as exc:
        raise LoginRefused(f"cannot log in: {exc}", "invalid-login") from None
    return (by_password, None) if by_token is None else (by_token, by_password)


def _transient_logins(
    username: str, password: str, last_seen_seq: int, epoch: int
) -> tuple[PreparedEvent, PreparedEvent]:
    """The TransientLogin, and the password Login for a version 2 server."""
    if not password:
        raise LoginRefused("cannot log in: a transient login needs the password "
                           "(it never goes by resume token)", "invalid-login")
    try:
        transient = prepare(ev.TransientLogin(username, password))
        ordinary = prepare(ev.Login(username, password, max(0, last_seen_seq), epoch))
    except LocalProtocolError as exc:
        raise LoginRefused(f"cannot log in: {exc}", "invalid-login") from None
    return transient, ordinary


async def open_and_login(
    host: str,
    port: int,
    username: str,
    password: str,
    last_seen_seq: int,
    epoch: int,
    timeout: float,
    tls: ClientTLS,
    resume_token: bytes = b"",
    *,
    transient: bool = False,
) -> Opened:
    problem = username_problem(username)
    if problem is not None:
        raise LoginRefused(
            f"invalid user name {username!r}: {problem}", ev.LoginRejectReason.INVALID_NAME
        )
    conn = ClientConnection()
    greeting = conn.send(conn.hello(SOFTWARE))
    after_hello: tuple[PreparedEvent, PreparedEvent] | None = None
    fallback: PreparedEvent | None = None
    sent_token = False
    if transient:
        # Which Login goes depends on the server's version: it waits for its Hello.
        after_hello = _transient_logins(username, password, last_seen_seq, epoch)
    else:
        first, fallback = _logins(username, password, last_seen_seq, epoch, resume_token)
        sent_token = isinstance(first.event, ev.Login) and bool(first.event.resume_token)
        greeting += conn.send(first)
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
        by_token = await asyncio.wait_for(
            _await_verdict(reader, writer, conn, client, sent_token, fallback, after_hello),
            timeout,
        )
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
    return Opened(reader, writer, conn, client, trust, by_token)


async def _await_verdict(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: ClientConnection,
    client: ClientState,
    by_token: bool,
    fallback: PreparedEvent | None,
    after_hello: tuple[PreparedEvent, PreparedEvent] | None = None,
) -> bool:
    """Until ``client`` has the server's LoginAccepted and every page of its
    participant list; what follows stays in ``conn`` for the session.
    ``by_token``: the Login sent carries a resume token; the result says
    whether the login went through by it (``fallback`` was not needed).
    ``after_hello``: nothing was sent but the Hello; the server's Hello picks
    the first of the pair (a TransientLogin) at version 3 on, else the second."""
    while True:
        try:
            event = conn.next_event()
        except RemoteProtocolError as exc:
            raise ConnectionLost(f"protocol error during login: {exc}", "protocol-error") from None
        if event is NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))
        elif isinstance(event, ev.LoginAccepted | ev.ParticipantList):
            if any(isinstance(outcome, LoginComplete) for outcome in client.receive(event)):
                return by_token
        elif (isinstance(event, ev.LoginRejected) and fallback is not None
              and event.reason == ev.LoginRejectReason.BAD_RESUME_TOKEN):
            writer.write(conn.send(fallback))
            fallback, by_token = None, False
        elif isinstance(event, ev.LoginRejected):
            detail = f": {event.message}" if event.message else ""
            raise LoginRefused(f"login refused ({event.reason}){detail}", event.reason)
        elif isinstance(event, ev.Error):
            detail = f": {event.message}" if event.message else ""
            raise LoginRefused(f"the server refused the connection ({event.code}){detail}",
                               event.code)
        elif isinstance(event, ev.Hello) and after_hello is not None:
            transient, ordinary = after_hello
            login = transient if conn.version >= TRANSIENT_LOGIN_VERSION else ordinary
            writer.write(conn.send(login))
            after_hello = None
        elif isinstance(event, ev.Ping):
            writer.write(conn.send(ev.Pong(event.nonce)))
        elif isinstance(event, ev.ConnectionClosed | ev.Goodbye):
            raise ConnectionLost("the server closed the connection during login")
