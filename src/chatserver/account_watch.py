"""What the running server does about ``chat-server admin``: it notices the
admin's commits within a second and acts on them.

``PRAGMA data_version`` on the server's own store connection changes only
when another connection committed (the server's own writes do not move
it), and reading it costs no lock and no I/O: so it is polled on the event
loop every ``POLL_PERIOD`` seconds, and also before every login is judged
(``AccountRestrictions.refresh``), so a login just after an admin command
obeys it. On a change the few things the admin can change are read again:

- disabled accounts: their live sessions (ordinary and transient) end with
  ``Error(account-disabled)`` and they leave the participant list; their
  logins are refused (``login.py``);
- deleted accounts (gone from ``accounts``): the same with
  ``account-deleted``, and the name is forgotten (messages to it are to an
  unknown user; the rooms it was in no longer count it);
- held names: registrations of their skeletons are refused.

A new password needs nothing here: logins read the hash from the database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Protocol, runtime_checkable

from chatproto import ErrorCode, Presence, PresenceState

from .context import ServerContext
from .hub import Hub
from .log import log
from .presence import count_phrase
from .sqlite_store import SqliteStore

#: Seconds between two looks at ``data_version``: "within a second" with room to spare.
POLL_PERIOD = 0.25
DISABLED_MESSAGE = "your account was disabled by the server's administrator"
DELETED_MESSAGE = "your account was deleted by the server's administrator"


@runtime_checkable
class _Endable(Protocol):
    """What the registry's connections (``client.ClientProtocol``) offer for this."""

    @property
    def username(self) -> str | None: ...

    def end_by_admin(self, code: str, message: str) -> None: ...


class AccountWatch:
    def __init__(self, store: SqliteStore, hub: Hub, ctx: ServerContext) -> None:
        self._store = store
        self._hub = hub
        self._ctx = ctx
        self._version: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_error = ""

    def start(self) -> None:
        """Read the admin's state as it is now, then keep watching."""
        restrictions = self._hub.logins.restrictions
        self._version = self._store.data_version()
        restrictions.disabled = self._store.disabled_accounts()
        restrictions.held = self._store.reserved_names()
        restrictions.refresh = self.check
        self._timer = asyncio.get_running_loop().call_later(POLL_PERIOD, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._hub.logins.restrictions.refresh = lambda: None

    def _tick(self) -> None:
        try:
            self.check()
        except Exception:  # a bug must not stop the watching for good
            log.exception("error while applying the administrator's changes")
        finally:
            if self._timer is not None:  # not stopped meanwhile
                self._timer = asyncio.get_running_loop().call_later(POLL_PERIOD, self._tick)

    def check(self) -> None:
        """Act on whatever the admin committed since the last look. A
        database error is logged (once until it changes) and tried again
        next time: the server goes on with what it knew."""
        try:
            version = self._store.data_version()
            if version == self._version:
                return
            disabled = self._store.disabled_accounts()
            held = self._store.reserved_names()
            names = set(self._store.account_names())
        except sqlite3.Error as exc:
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                log.error("cannot read the administrator's changes: %s", exc)
            return
        self._last_error = ""
        self._version = version
        hub = self._hub
        restrictions = hub.logins.restrictions
        newly_disabled = disabled - restrictions.disabled
        restrictions.disabled = disabled
        restrictions.held = held
        deleted = [name for name in hub.accounts if name not in names]
        for name in deleted:
            hub.accounts.remove(name)
            hub.requests.account_deleted(name)  # its rows went with the account; members told
            log.info("%s was deleted by the administrator", name)
            self._end(name, ErrorCode.ACCOUNT_DELETED, DELETED_MESSAGE)
        for name in sorted(newly_disabled - set(deleted)):
            log.info("%s was disabled by the administrator", name)
            self._end(name, ErrorCode.ACCOUNT_DISABLED, DISABLED_MESSAGE)

    def _end(self, name: str, code: str, message: str) -> None:
        """End every connection logged in as ``name``, and take the user off
        the participant list (a deactivated one has no connection to end)."""
        for client in list(self._ctx.registry.clients):
            if isinstance(client, _Endable) and client.username == name:
                client.end_by_admin(code, message)
        participants = self._hub.participants
        if name in participants:  # deactivated: ending a connection made the others leave
            participants.remove(name)
            log.info("%s left %s", name, count_phrase(len(participants)))
            self._hub.bus.announce(Presence(name, PresenceState.LEFT, len(participants)))
