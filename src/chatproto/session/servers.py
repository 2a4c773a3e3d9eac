"""Several servers for one session: the list a user types, and its order.

A cluster is several nodes behind one history; a client that knows more than
one of them can go on when one dies. The user gives them as one string, the
same everywhere (``--host``, ``CHAT_HOST``, the GUI's and the TUI's server
field): one server or a comma-separated list, each ``host`` or
``host:port`` (``[::1]:9000`` for an IPv6 address; a bare host takes the
default port). This module only reads and writes that string and says in
which order to try the servers; ``failover.py`` does the connecting.
"""

from __future__ import annotations

import ipaddress

import attrs

#: More servers than this in one list is a typing accident, not a cluster.
MAX_SERVERS = 16
#: RFC 1035's limit on a host name (and far above any address literal).
MAX_HOST_LENGTH = 253
#: Longest list string read at all: every item at its longest, plus commas.
MAX_LIST_LENGTH = MAX_SERVERS * (MAX_HOST_LENGTH + 9)


class ServerListError(ValueError):
    """A server list that cannot be read; the message is one line for the user."""


@attrs.frozen
class ServerAddress:
    """One server: ``host`` as typed (IPv6 without brackets) and ``port``."""

    host: str
    port: int

    def __str__(self) -> str:
        # As typed (no lower-casing, unlike pin keys): parse_servers reads it back equal.
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _port(text: str, item: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise ServerListError(f"bad port in {item!r}: give a number from 1 to 65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ServerListError(f"bad port in {item!r}: give a number from 1 to 65535")
    return port


def _host(text: str, item: str) -> str:
    if not text:
        raise ServerListError(f"no host in {item!r}")
    if len(text) > MAX_HOST_LENGTH:
        raise ServerListError(f"host name too long in {item[:40]!r}...")
    if not text.isprintable() or any(c.isspace() or c in "[]/@,\\" for c in text):
        raise ServerListError(f"bad host {text!r}")
    return text


def parse_server(item: str, default_port: int) -> ServerAddress:
    """One ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; a bare IPv6
    address (more than one colon, no brackets) is taken whole, on the default port."""
    item = item.strip()
    if not item:
        raise ServerListError("empty server in the list (two commas, or one at an end?)")
    if item.startswith("["):
        inside, bracket, rest = item[1:].partition("]")
        if not bracket:
            raise ServerListError(f"missing ']' in {item!r}")
        try:
            ipaddress.IPv6Address(inside)
        except ValueError:
            raise ServerListError(f"not an IPv6 address between brackets: {item!r}") from None
        if not rest:
            return ServerAddress(inside, default_port)
        if not rest.startswith(":"):
            raise ServerListError(f"unexpected text after ']' in {item!r}")
        return ServerAddress(inside, _port(rest[1:], item))
    if item.count(":") > 1:
        try:
            ipaddress.IPv6Address(item)
        except ValueError:
            raise ServerListError(
                f"bad server {item!r}: write an IPv6 address with a port as [::1]:9000"
            ) from None
        return ServerAddress(item, default_port)
    host, colon, port = item.partition(":")
    host = _host(host, item)
    return ServerAddress(host, _port(port, item) if colon else default_port)


def parse_servers(text: str, default_port: int) -> tuple[ServerAddress, ...]:
    """The servers of a list string, in order, each once (a repeat is dropped:
    it would only be tried twice in a row). Raises ``ServerListError``."""
    if not 1 <= default_port <= 65535:
        raise ServerListError(f"bad default port {default_port}: give 1 to 65535")
    if len(text) > MAX_LIST_LENGTH:
        raise ServerListError(f"server list too long (over {MAX_LIST_LENGTH} characters)")
    if not text.strip():
        raise ServerListError("no server given")
    items = text.split(",")
    if len(items) > MAX_SERVERS:
        raise ServerListError(f"too many servers: {len(items)} (at most {MAX_SERVERS})")
    servers: list[ServerAddress] = []
    for item in items:
        server = parse_server(item, default_port)
        if server not in servers:
            servers.append(server)
    return tuple(servers)


def format_servers(servers: tuple[ServerAddress, ...] | list[ServerAddress]) -> str:
    """The list string of ``servers``, which ``parse_servers`` reads back."""
    return ",".join(str(server) for server in servers)


def rotation(servers: tuple[ServerAddress, ...], start: int) -> tuple[ServerAddress, ...]:
    """``servers`` in the order to try them, from index ``start`` on, wrapping."""
    if not servers:
        return ()
    start %= len(servers)
    return servers[start:] + servers[:start]


def after(servers: tuple[ServerAddress, ...], lost: ServerAddress | None) -> int:
    """The index to start from after losing ``lost``: the next server, so a
    dead node is tried last instead of first (a node whose machine is gone
    costs a whole connect timeout)."""
    if lost is None or lost not in servers:
        return 0
    return (servers.index(lost) + 1) % len(servers)


__all__ = [
    "MAX_SERVERS",
    "ServerAddress",
    "ServerListError",
    "after",
    "format_servers",
    "parse_server",
    "parse_servers",
    "rotation",
]
