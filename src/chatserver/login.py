"""Who may log in: the checks before a password is tried, the password itself
(hashed off the loop) or a resume token (no hash to wait for), and the limits
on failures and on new accounts.

``Logins.check`` ends with an account to admit or with the connection told
why not; admitting (presence, the participant list, the replay) is the hub's,
with the token for the next login from ``Logins.next_resume_token``.

A ``TransientLogin`` (docs/protocol.md 7.9) is checked the same way, with the
same limits on failures and registrations, but it is not a presence: the
user may be logged in elsewhere and the participant list may be full; it
holds one of the user's ``MAX_TRANSIENT_LOGINS_PER_USER`` places instead,
from before its password is checked until its connection ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Container
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import NamedTuple

from chatproto import (
    Login,
    LoginRejected,
    LoginRejectReason,
    TransientLogin,
    username_problem,
    username_skeleton,
)

from .accounts import (
    AccountNames,
    AccountRestrictions,
    FailureLimiter,
    hash_password,
    verify_password,
)
from .config import ServerConfig
from .log import log, peer_quoted
from .per_user import TransientLogins
from .ports import Account, Store, now_ms
from .presence import Participants
from .resume_tokens import ResumeTokens
from .sessions import Session

#: Password hashes computed at once. Each scrypt hash takes 16 MiB (n=2**14,
#: r=8) and a core: more at once only adds memory (the default executor ran
#: up to 6, 100 MB) while logins wait just as long.
HASH_THREADS = 2


TOO_MANY_FAILURES = "too many failed logins, try again later"
TOO_MANY_REGISTRATIONS = "too many new accounts from your address, try again later"


class Admission(NamedTuple):
    account: Account
    new_account: bool
    #: The resume token this login used (b"" for a password): used up.
    resume_token: bytes = b""


def _user_at(name: str, address: str) -> str:
    """The key of failed logins: one per account (whatever the spelling) and address."""
    return f"{username_skeleton(name)}@{address}"


class Logins:
    def __init__(
        self,
        config: ServerConfig,
        store: Store,
        accounts: AccountNames,
        sessions: Container[str],
        participants: Participants,
        transients: TransientLogins,
    ) -> None:
        self.config = config
        self.store = store
        self.accounts = accounts
        #: The logged-in users' names, and the participant list: an active
        #: user cannot log in twice, and a full list takes no one new.
        self._sessions = sessions
        self._participants = participants
        self.transients = transients
        #: Skeletons of the names whose ordinary login (or registration) is
        #: being checked: one at a time, and never two creating one account.
        self._logging_in: set[str] = set()
        self._failed_by_user = FailureLimiter(
            config.max_failed_logins_per_user, config.failed_login_window
        )
        self._failed_by_address = FailureLimiter(
            config.max_failed_logins_per_address, config.failed_login_window
        )
        self._registrations = FailureLimiter(
            config.max_registrations_per_address, config.registration_window
        )
        self._hashing = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="password-hash")
        self.resume_tokens = ResumeTokens(store, config.resume_token_lifetime)
        #: scrypt runs (hashes and checks) so far: what a login by token saves.
        self.password_hashes = 0
        #: Disabled accounts and held names (``account_watch`` fills it in).
        self.restrictions = AccountRestrictions()
        #: Told of every failed login (name, address): a cluster counts them
        #: across its nodes (``cluster.hub``).
        self.on_failed: Callable[[str, str], None] | None = None
        #: Told of every account registered, with the address it came from: a
        #: cluster counts registrations per address across its nodes.
        self.on_registered: Callable[[str], None] | None = None

    async def check(self, client: Session, login: Login | TransientLogin) -> Admission | None:
        """The account ``login`` opens (created if new), or None once
        ``client`` was told why not (or closed meanwhile). An admitted
        TransientLogin keeps its place in ``transients`` (the hub releases
        it when the connection ends)."""
        name = login.username
        transient = isinstance(login, TransientLogin)
        self.restrictions.refresh()
        reason = self._refusal(name, client.address, transient=transient)
        if reason is not None:
            self._reject(client, name, reason)
            return None
        if isinstance(login, Login) and login.resume_token:
            return self._check_token(client, name, login.resume_token)
        if not transient:
            return await self._check_password(client, name, login.password, transient=False)
        self.transients.hold(username_skeleton(name), client)
        admission = None
        try:
            admission = await self._check_password(client, name, login.password, transient=True)
        finally:  # refused, failed or cancelled with its connection: the place is free
            if admission is None:
                self.transients.release(client)
        return admission

    async def _check_password(
        self, client: Session, name: str, password: str, *, transient: bool
    ) -> Admission | None:
        # The account this name means (``Bob`` for ``bob``), or the name to register.
        registered = self.accounts.registered(name)
        now = asyncio.get_running_loop().time()
        if registered is None and self._registrations.blocked(client.address, now):
            self._reject(client, name, LoginRejectReason.RATE_LIMITED, TOO_MANY_REGISTRATIONS)
            return None
        name = registered or name
        skeleton = username_skeleton(name)
        # Transient logins of a known user may overlap anything; a registration may not.
        exclusive = not transient or registered is None
        if exclusive:
            self._logging_in.add(skeleton)
        try:
            account, new_account = await self._authenticate(name, password)
        finally:
            if exclusive:
                self._logging_in.discard(skeleton)
        if new_account:
            self._registrations.record(client.address, asyncio.get_running_loop().time())
            if self.on_registered is not None:
                self.on_registered(client.address)
        if account is None:
            self._failed(client, name, LoginRejectReason.BAD_PASSWORD)
            return None
        if client.closed:
            return None
        # The admin may have disabled or deleted it while the hash was computed.
        self.restrictions.refresh()
        late = self._admin_refusal(name, self.accounts.registered(name))
        if late is not None:
            self._reject(client, name, late)
            return None
        self._failed_by_user.forget(_user_at(name, client.address))
        return Admission(account, new_account)

    def _check_token(self, client: Session, name: str, token: bytes) -> Admission | None:
        """The account ``token`` opens for ``name``, at once: no scrypt. A
        success does not clear the name's failed logins (only the password
        does); a failure counts as one."""
        registered = self.accounts.registered(name)
        owner = self.resume_tokens.account_of(token)
        account = self.store.account(registered) if registered is not None else None
        if account is None or owner != registered:
            self._failed(client, name, LoginRejectReason.BAD_RESUME_TOKEN)
            return None
        log.info("%s logs in by resume token from %s", account.name, client.address)
        return Admission(account, False, token)

    def next_resume_token(self, admission: Admission) -> bytes:
        """The token to hand out with this admission, replacing the one it
        used; empty when tokens are off or it could not be stored (the login
        goes on: the next one takes the password)."""
        try:
            return self.resume_tokens.issue(admission.account.name, admission.resume_token)
        except Exception as exc:  # whatever the store raised: the login must not fail
            log.error("no resume token for %s: %s: %s", admission.account.name,
                      type(exc).__name__, exc)
            return b""

    def _failed(self, client: Session, name: str, reason: LoginRejectReason) -> None:
        if self.on_failed is not None:
            self.on_failed(name, client.address)
        now = asyncio.get_running_loop().time()
        self._failed_by_user.record(_user_at(name, client.address), now)
        self._failed_by_address.record(client.address, now)
        self._reject(client, name, reason)

    def _refusal(self, name: str, address: str, *, transient: bool) -> LoginRejectReason | None:
        if username_problem(name) is not None:
            return LoginRejectReason.INVALID_NAME
        now = asyncio.get_running_loop().time()
        if self._failed_by_user.blocked(
            _user_at(name, address), now
        ) or self._failed_by_address.blocked(address, now):
            return LoginRejectReason.RATE_LIMITED
        registered = self.accounts.registered(name)
        skeleton = username_skeleton(name)
        refused = self._admin_refusal(name, registered)
        if refused is not None:
            return refused
        if transient:
            # Not a presence: being logged in elsewhere and a full list do not
            # matter; only a registration of this very name under way does.
            if registered is None and skeleton in self._logging_in:
                return LoginRejectReason.ALREADY_ACTIVE
            if self.transients.full(skeleton):
                return LoginRejectReason.TOO_MANY_LOGINS
            return None
        if registered in self._sessions or skeleton in self._logging_in:
            return LoginRejectReason.ALREADY_ACTIVE
        if registered not in self._participants and self._participants.full:
            return LoginRejectReason.SERVER_FULL  # MAX_PARTICIPANTS users, all active
        return None

    def _admin_refusal(self, name: str, registered: str | None) -> LoginRejectReason | None:
        """``disabled`` for a disabled account, ``name-reserved`` for a new
        name a deleted account held (by skeleton, so no look-alike either)."""
        if registered is not None:
            return LoginRejectReason.DISABLED if registered in self.restrictions.disabled else None
        if self.restrictions.held_until(username_skeleton(name), now_ms()) is not None:
            return LoginRejectReason.NAME_RESERVED
        return None

    def _held_message(self, name: str) -> str:
        until = self.restrictions.held_until(username_skeleton(name), now_ms())
        if until is None or until < 0:
            return "this name belonged to a deleted account and is not free"
        when = datetime.fromtimestamp(until / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"this name belonged to a deleted account: it is free again after {when}"

    async def _authenticate(self, name: str, password: str) -> tuple[Account | None, bool]:
        """The account, created if new; ``(None, False)`` for a wrong password."""
        loop = asyncio.get_running_loop()
        account = self.store.account(name) if name in self.accounts else None
        self.password_hashes += 1
        log.debug("%s: scrypt (%s)", name, "new account" if account is None else "check")
        if account is None:
            hashed = await loop.run_in_executor(
                self._hashing, hash_password, password, self.config.scrypt_n
            )
            account = Account(name, hashed, self.store.last_seq)
            self.store.create_account(account, now_ms())
            self.accounts.add(name)
            return account, True
        ok = await loop.run_in_executor(
            self._hashing, verify_password, password, account.password_hash
        )
        return (account if ok else None), False

    def _reject(
        self, client: Session, name: str, reason: LoginRejectReason, message: str = ""
    ) -> None:
        # An invalid name may hold newlines or terminal escapes: log it escaped.
        shown = peer_quoted(name) if reason is LoginRejectReason.INVALID_NAME else name
        log.info("login refused for %s from %s: %s", shown, client.address, reason.value)
        messages = {
            LoginRejectReason.ALREADY_ACTIVE: f"{name} is connected right now",
            LoginRejectReason.BAD_PASSWORD: "wrong password",
            LoginRejectReason.BAD_RESUME_TOKEN: "the resume token is not valid: use the password",
            LoginRejectReason.INVALID_NAME: "invalid user name",
            LoginRejectReason.RATE_LIMITED: TOO_MANY_FAILURES,
            LoginRejectReason.SERVER_FULL: "the server has too many participants",
            LoginRejectReason.TOO_MANY_LOGINS: (
                f"{name} has {self.transients.limit} transient logins open already"
            ),
            LoginRejectReason.DISABLED: "this account is disabled by the server's administrator",
        }
        if reason is LoginRejectReason.NAME_RESERVED and not message:
            message = self._held_message(name)
        text = message or messages.get(reason, "")
        client.login_refused(LoginRejected(reason.value, text))

    def close(self) -> None:
        # Logins still hashing were cancelled with their connections.
        self._hashing.shutdown(wait=False, cancel_futures=True)
