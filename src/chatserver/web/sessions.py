"""The page's session cookie, and which WebSocket connections carry it.

A browser gets a random ``lanchat_session`` cookie with the page (HttpOnly,
SameSite=Strict, Secure over HTTPS) and sends it with its WebSocket and with
its file requests. It is not a login: it only ties an HTTP request to the
WebSocket connections of the same browser, and the request gets what one of
those logged-in connections may do (fetch what that user may see, send the
body of an upload that connection offered). Without a live logged-in
WebSocket the cookie is worth nothing, so it needs no expiry of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from typing import Protocol

COOKIE = "lanchat_session"
#: 32 random bytes, URL-safe base64: not guessable, and short enough.
_TOKEN_BYTES = 32
MAX_COOKIE_LENGTH = 64


def new_session_id() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def valid_session_id(value: str | None) -> bool:
    return (
        value is not None
        and 0 < len(value) <= MAX_COOKIE_LENGTH
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    )


def session_cookie(headers: Iterable[str]) -> str | None:
    """The valid ``lanchat_session`` value among these ``Cookie`` headers."""
    for header in headers:
        for pair in header.split(";"):
            name, _, value = pair.strip().partition("=")
            if name == COOKIE and valid_session_id(value):
                return value
    return None


class WebClient(Protocol):
    @property
    def username(self) -> str | None: ...

    @property
    def closed(self) -> bool: ...

    @property
    def transient(self) -> bool: ...


class WebSessions:
    """session id -> its open WebSocket connections."""

    def __init__(self) -> None:
        self._clients: dict[str, list[WebClient]] = {}

    def add(self, session_id: str, client: WebClient) -> None:
        self._clients.setdefault(session_id, []).append(client)

    def remove(self, session_id: str, client: WebClient) -> None:
        clients = self._clients.get(session_id)
        if clients is not None and client in clients:
            clients.remove(client)
            if not clients:
                del self._clients[session_id]

    def logged_in(self, session_id: str | None) -> Iterator[WebClient]:
        """Its live, logged-in (not transient) connections."""
        if session_id is None:
            return
        for client in self._clients.get(session_id, ()):
            if client.username is not None and not client.closed and not client.transient:
                yield client
