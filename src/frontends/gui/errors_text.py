"""One clear, translated sentence for each failure a user can meet."""

from __future__ import annotations

from chatproto.session import ChatError, LoginRefused, ServerUnreachable

from .i18n import _
from .safetext import clean


def login_error(error: BaseException, server: str, port: int) -> str:
    if isinstance(error, ServerUnreachable):
        return _("The server {server}:{port} cannot be reached. Check the address and "
                 "the port, and that the server is running.").format(server=server, port=port)
    if isinstance(error, LoginRefused):
        code = error.code
        if code == "already-active":
            return _("This ID is already in use.")
        if code == "bad-password":
            return _("Wrong password for this ID.")
        if code == "rate-limited":
            return _("Too many login attempts. Wait a minute, then try again.")
        if code == "invalid-name":
            return _("An ID may contain only letters, digits, '_' and '-' (at most 32).")
        if code == "server-full":
            return _("The server is full. Try again later.")
    return _("Login failed: {reason}").format(reason=describe(error))


def describe(error: BaseException) -> str:
    if isinstance(error, ChatError):
        return clean(error.message, single_line=True)
    return clean(str(error) or type(error).__name__, single_line=True)
