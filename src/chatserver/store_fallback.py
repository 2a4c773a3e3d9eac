"""What the hub does when a batch cannot be committed at once: commit each
entry on its own, and tell the senders of those that still fail.

This is out of ``hub.py`` to keep that module short; it is the rarely-run
side of a commit (``Hub._commit_batch`` calls it only after ``Store.commit``
raised), so being free functions costs the per-message path nothing. The
pending-entry types and the helpers both sides share live here too, so that
``hub`` imports this module and not the reverse (no import cycle).
"""

from __future__ import annotations

from chatproto import ChatRejected, FileAvailable, RejectReason, SendChat

from .log import log
from .ports import ChatRow, Store
from .sessions import Session

#: A chat message waiting for its commit: the message, its sender, and the
#: connection it came from (which the echo goes to, if it is transient).
PendingChat = tuple[SendChat, str, Session]
#: A verified upload waiting for its commit, its stored name and its origin.
PendingFile = tuple[FileAvailable, str, Session]

#: The entries stored one by one, each list with the origins of its entries:
#: rows, their origins, announcements, their origins.
Stored = tuple[list[ChatRow], list[Session], list[tuple[FileAvailable, str]], list[Session]]


def announced_as(
    pending: FileAvailable, seq: int, timestamp: int, file_id: int
) -> FileAvailable:
    """A verified upload's announcement, with its place in history."""
    return FileAvailable(
        seq, timestamp, file_id, pending.sender, pending.recipient, pending.name,
        pending.size, pending.sha256, pending.upload_id,
    )


def failure_line(exc: Exception) -> str:
    """One line for the log: what went wrong, no traceback."""
    return f"{type(exc).__name__}: {exc}"


def store_one_by_one(
    store: Store, chats: list[PendingChat], files: list[PendingFile], timestamp: int,
) -> Stored:
    """Commit each entry in its own transaction, taking the next seq (and
    file id) only when it is stored, so history stays gapless; refuse the
    entries that fail. Returns the rows and announcements stored, each
    list with the origins of its entries."""
    rows: list[ChatRow] = []
    origins: list[Session] = []
    announcements: list[tuple[FileAvailable, str]] = []
    file_origins: list[Session] = []
    failed_chats: list[PendingChat] = []
    failed_files: list[PendingFile] = []
    failure: Exception | None = None
    for pending_chat in chats:
        chat, sender, origin = pending_chat
        row = (store.last_seq + 1, timestamp, sender, chat.recipient, chat.client_id, chat.text)
        try:
            store.commit((row,), ())
        except Exception as exc:
            failed_chats.append(pending_chat)
            failure = failure or exc
            continue
        store.last_seq += 1
        rows.append(row)
        origins.append(origin)
    for pending_file in files:
        pending, stored_name, origin = pending_file
        final = announced_as(pending, store.last_seq + 1, timestamp, store.last_file_id + 1)
        try:
            store.commit((), ((final, stored_name),))
        except Exception as exc:
            failed_files.append(pending_file)
            failure = failure or exc
            continue
        store.last_seq += 1
        store.last_file_id += 1
        announcements.append((final, stored_name))
        file_origins.append(origin)
    if failure is not None:
        log.error(
            "could not store %d of %d entries (%s); their senders are told",
            len(failed_chats) + len(failed_files), len(chats) + len(files),
            failure_line(failure),
        )
        refuse_unstored(failed_chats, failed_files)
    return rows, origins, announcements, file_origins


def refuse_unstored(chats: list[PendingChat], files: list[PendingFile]) -> None:
    """Tell senders these messages and uploads were not stored (nor
    delivered), on the connection each came from (closed: nobody to tell)."""
    for chat, _, origin in chats:
        origin.queue(ChatRejected(chat.client_id, RejectReason.SERVER_ERROR, "not stored"))
    for pending, _, origin in files:
        origin.file_unstored(pending.upload_id)
