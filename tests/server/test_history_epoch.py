"""The history epoch: a client whose seq belongs to another history is replayed everything.

Issue 11, item 6: a client whose ``last_seen_seq`` was above the server's
``last_seq`` (the server's data folder was reset or replaced) silently got
nothing. Now the database has an epoch, made with it, that LoginAccepted
carries; a Login from another epoch (or from beyond ``last_seq``) gets the
user's whole history with ``history_reset`` set.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatproto import ChatMessage, LoginAccepted, SendChat
from chatproto.limits import SKIP_REPLAY
from chatserver.app import DATABASE_NAME
from support import RawClient, ServerProcess, server_process


def _say(server: ServerProcess, user: str, *texts: str) -> int:
    """Post ``texts`` as ``user``; the seq of the last one."""
    client = RawClient.login_as(server, user)
    seq = 0
    for number, text in enumerate(texts, 1):
        client.send(SendChat(text, client_id=number))
        seq = client.wait_for(lambda e, n=number: getattr(e, "client_id", None) == n).seq
    client.goodbye()
    return seq


def _login(server: ServerProcess, user: str, seq: int, epoch: int) -> tuple[RawClient,
                                                                               LoginAccepted]:
    client = RawClient(server.address)
    accepted = client.login(user, "secret", seq, epoch)
    assert isinstance(accepted, LoginAccepted), accepted
    return client, accepted


def _replayed(client: RawClient, accepted: LoginAccepted) -> list[str]:
    texts = []
    while not texts or texts[-1] != "END":
        texts.append(client.wait_for(ChatMessage).text)
    return texts[:-1]


def test_a_reset_server_replays_everything_and_says_so(tmp_path: Path) -> None:
    with server_process(tmp_path / "old") as old:
        _say(old, "frog", "old 1", "old 2", "old 3", "old 4")
        frog, accepted = _login(old, "frog", 0, 0)
        old_epoch, old_seq = accepted.epoch, accepted.last_seq
        assert old_epoch != 0 and old_seq == 4 and not accepted.history_reset
        frog.goodbye()
    with server_process(tmp_path / "new") as new:  # the data folder was replaced
        _say(new, "frog", "new 1")  # frog registers again on the new server
        _say(new, "bob", "new 2", "END")
        frog, accepted = _login(new, "frog", old_seq, old_epoch)
        assert accepted.epoch not in (0, old_epoch)
        assert accepted.history_reset
        assert _replayed(frog, accepted) == ["new 1", "new 2"]  # was: nothing at all
        frog.goodbye()
        # A client that knows no epoch but is beyond last_seq is told as well.
        frog, accepted = _login(new, "frog", old_seq + 100, 0)
        assert accepted.history_reset
        assert _replayed(frog, accepted) == ["new 1", "new 2"]
        frog.goodbye()
        # The right epoch and a seq it has: only what came after, no reset.
        frog, accepted = _login(new, "frog", 2, accepted.epoch)
        assert not accepted.history_reset
        assert _replayed(frog, accepted) == []  # seq 3 is END itself
        frog.goodbye()
        # SKIP_REPLAY asks for nothing, whatever the epoch; the reset is still said.
        frog, accepted = _login(new, "frog", SKIP_REPLAY, old_epoch)
        assert accepted.history_reset
        frog.send(SendChat("END", client_id=99))
        assert _replayed(frog, accepted) == []


def test_the_epoch_lasts_as_long_as_the_database(tmp_path: Path) -> None:
    with server_process(tmp_path / "data") as server:
        _, first = _login(server, "frog", 0, 0)
    with server_process(tmp_path / "data") as server:
        _, again = _login(server, "frog", 0, 0)
    assert first.epoch == again.epoch != 0


def test_a_version_1_database_gets_an_epoch_and_keeps_its_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        _say(server, "frog", "kept")
    # Turn it back into the first schema: no meta table, no tokens, no rooms,
    # no index, user_version 1.
    db = sqlite3.connect(data / DATABASE_NAME)
    db.executescript("DROP TABLE resume_tokens; DROP TABLE meta; DROP INDEX accounts_by_skeleton;"
                     "DROP TABLE room_members; DROP TABLE rooms; DROP TABLE reserved_names;"
                     "DROP TABLE history_fts; DROP INDEX history_by_file;"
                     "ALTER TABLE accounts DROP COLUMN disabled;"
                     "ALTER TABLE accounts DROP COLUMN skeleton; PRAGMA user_version = 1;")
    db.close()
    with server_process(data) as server:
        frog, accepted = _login(server, "frog", 0, 0)
        assert accepted.epoch != 0 and accepted.last_seq == 1
        assert frog.wait_for(ChatMessage).text == "kept"
