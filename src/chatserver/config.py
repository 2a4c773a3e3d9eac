"""The server's settings: one frozen object built by the CLI or by tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

GIB = 1024**3
MIB = 1024**2
DAY = 86_400.0


def default_data_dir() -> Path:
    """The per-user data folder: ``$XDG_DATA_HOME/lanchat`` or ``~/.local/share/lanchat``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lanchat"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@attrs.frozen
class ServerConfig:
    host: str = "0.0.0.0"
    port: int = attrs.field(default=9000)
    data_dir: Path = attrs.field(factory=default_data_dir, converter=Path)
    log_level: str = "INFO"
    #: Ping a connection after this many idle seconds...
    heartbeat_interval: float = attrs.field(default=15.0, validator=_positive)
    #: ...and deactivate it after this many seconds without a sign of life.
    heartbeat_timeout: float = attrs.field(default=45.0, validator=_positive)
    #: A connection that has not logged in after this long is closed.
    login_timeout: float = attrs.field(default=10.0, validator=_positive)
    max_file_size: int = attrs.field(default=GIB, validator=_positive)
    #: Refuse uploads that would leave less than this free in the data dir.
    min_free_space: int = 64 * MIB
    max_connections: int = attrs.field(default=1000, validator=_positive)
    max_connections_per_address: int = attrs.field(default=64, validator=_positive)
    #: A client whose unsent output exceeds this is too slow: deactivated.
    output_buffer_limit: int = attrs.field(default=4 * MIB, validator=_positive)
    #: Seconds after which a deactivated user counts as left (None: never).
    deactivated_grace: float | None = None
    #: Deactivated users kept as participants at most; past it, the one
    #: deactivated longest leaves (bounds the list under throwaway accounts).
    max_deactivated: int = attrs.field(default=1000, validator=_positive)
    #: New accounts one address may register within the window.
    max_registrations_per_address: int = attrs.field(default=50, validator=_positive)
    registration_window: float = attrs.field(default=3600.0, validator=_positive)
    #: Failed logins allowed per user name from one address / per address,
    #: within the window (so guessing one ID does not lock its owner out).
    max_failed_logins_per_user: int = 5
    max_failed_logins_per_address: int = 20
    failed_login_window: float = 60.0
    #: Chat messages a second per user, with bursts of ``flood_burst``;
    #: more are refused as ``rate-limited`` (0: no limit).
    flood_rate: float = 20.0
    flood_burst: int = 50
    #: scrypt cost for new password hashes (stored with each hash).
    scrypt_n: int = 2**14
    #: Seconds a resume token is good for from its issue (a login without the
    #: password, docs/protocol.md 7.8); 0 issues none and refuses every one.
    resume_token_lifetime: float = 30 * DAY
    #: Rooms (besides general) one account may be a member of.
    max_rooms_per_user: int = attrs.field(default=100, validator=_positive)
    #: Members one room may have.
    max_members_per_room: int = attrs.field(default=10_000, validator=_positive)
    #: Private rooms one account may create (while they exist).
    max_private_rooms_per_creator: int = attrs.field(default=20, validator=_positive)
    #: History rows read per step while replaying missed messages.
    replay_batch: int = 512
    #: TLS on by default: a self-signed certificate in the data dir
    #: unless ``tls_cert``/``tls_key`` name a real one.
    tls: bool = True
    tls_cert: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    tls_key: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    #: The browser client's port (HTTP(S) and WebSocket, ``chatserver.web``);
    #: None: no web listener. ``chat-server`` turns it on at 8080.
    web_port: int | None = None
    #: The port was asked for (not the command line's default): if it is
    #: taken the server does not start, instead of starting without the web.
    web_port_required: bool = True
    #: Seconds an upload token of the browser client lasts (docs/protocol.md
    #: 1.1): after its issue or after the last byte taken, whichever is later.
    upload_token_lifetime: float = attrs.field(default=60.0, validator=_positive)
    #: The cluster mode (docs/cluster.md): a PostgreSQL URL for what must
    #: last and a Redis URL for what moves between nodes, both or neither.
    store_url: str | None = None
    bus_url: str | None = None
    #: Prefix of every Redis key and channel of this cluster.
    bus_prefix: str = "lanchat:"
    #: This node's name in the logs (a random suffix makes its lease's id).
    node_name: str | None = None
    #: Seconds a node's presence lease lasts unrenewed: a node dead this
    #: long has its users deactivated by a survivor (within one sweep more).
    lease_time: float = attrs.field(default=5.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if not self.heartbeat_interval < self.heartbeat_timeout:
            raise ValueError("heartbeat_interval must be shorter than heartbeat_timeout")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range")
        if self.web_port is not None and not 0 <= self.web_port <= 65535:
            raise ValueError(f"web port {self.web_port} is out of range")
        if self.deactivated_grace is not None and self.deactivated_grace < 0:
            raise ValueError("deactivated_grace must not be negative")
        if (self.store_url is None) != (self.bus_url is None):
            raise ValueError("the cluster mode needs both --store and --bus")
        if self.store_url is not None and not self.store_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("--store takes a postgresql:// URL")
        if self.bus_url is not None and not self.bus_url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("--bus takes a redis:// or rediss:// URL")
        if not 0 < len(self.bus_prefix) <= 64 or any(c.isspace() for c in self.bus_prefix):
            raise ValueError("--bus-prefix must be 1 to 64 characters without spaces")
        if not self.resume_token_lifetime >= 0:  # NaN too
            raise ValueError("resume_token_lifetime must not be negative")
