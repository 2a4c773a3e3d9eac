"""Asking the user before trusting a server's certificate for the first time.

The session calls ``confirm`` on its own thread when a server presents a
certificate no CA vouches for and no pin exists yet. The question travels
to the Tk thread through the application's inbox; the answer comes back in
a future the session awaits. Nothing here holds a Tk object.
"""

from __future__ import annotations

import asyncio
import queue
import tkinter as tk
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from chatproto.session import ClientTLS, PinRequest, PinStore
from chatproto.session.tls import PIN_FILE_NAME, ConfirmPin

from .dialogs import MessageDialog
from .i18n import _

#: The inbox token of a first-contact question (real tokens are >= 0).
CONFIRM_TOKEN = -1

Inbox = queue.SimpleQueue[tuple[int, "Future[Any]"]]


def pin_confirmer(inbox: Inbox) -> ConfirmPin:
    async def confirm(request: PinRequest) -> bool:
        answer: Future[bool] = Future()
        carrier: Future[tuple[PinRequest, Future[bool]]] = Future()
        carrier.set_result((request, answer))
        inbox.put((CONFIRM_TOKEN, carrier))
        return await asyncio.wrap_future(answer)

    return confirm


def client_tls(config_folder: Any, inbox: Inbox) -> ClientTLS:
    """TLS with trust on first use, pins kept in our config folder, asking first."""
    return ClientTLS(pins=PinStore(config_folder / PIN_FILE_NAME), confirm=pin_confirmer(inbox))


def ask_pin(parent: tk.Misc, request: PinRequest, answer: Future[bool]) -> MessageDialog:
    """The question, on the Tk thread; closing the dialog answers no, and so
    does Enter (the safe choice is the default)."""

    def reply(trusted: bool) -> Callable[[], None]:
        return lambda: None if answer.done() else answer.set_result(trusted)

    message = _(
        "This is the first connection to {server}:{port}. Its certificate "
        "fingerprint is:\n\n{fingerprint}\n\nCompare it with the fingerprint in "
        "the server's start-up log. Trust this server and remember its certificate?"
    ).format(server=request.host, port=request.port, fingerprint=request.fingerprint)
    # Cancel first: the dialog's first button has the focus and Enter, and an
    # unknown certificate must take a deliberate choice, never a reflex Enter.
    dialog = MessageDialog(parent, _("New server certificate"), message, kind="trust",
                           buttons=[(_("Cancel"), reply(False)), (_("Trust"), reply(True))],
                           on_dismiss=reply(False), wraplength=480)
    dialog.buttons[_("Cancel")].configure(default="active")
    return dialog
