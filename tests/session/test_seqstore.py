"""SeqStore: the listener's memory of the last message seen."""

from __future__ import annotations

import threading
from pathlib import Path

from chatproto.session import HistoryMark, SeqStore, default_state_file


def test_save_load_per_target(tmp_path: Path) -> None:
    store = SeqStore(tmp_path / "sub" / "seq.json")
    assert store.load("h", 1, "frog") == 0
    store.save("h", 1, "frog", 5)
    store.save("h", 2, "frog", 9)
    store.save("h", 1, "개구리", 3)
    assert SeqStore(store.path).load("h", 1, "frog") == 5
    assert store.load("h", 2, "frog") == 9
    assert store.load("h", 1, "개구리") == 3
    store.save("h", 1, "frog", 4)  # never goes backwards
    assert store.load("h", 1, "frog") == 5
    assert not list(store.path.parent.glob("*.tmp"))  # no temp files left


def test_damaged_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "seq.json"
    path.write_text("{not json", encoding="utf-8")
    store = SeqStore(path)
    assert store.load("h", 1, "frog") == 0
    store.save("h", 1, "frog", 2)
    assert store.load("h", 1, "frog") == 2
    path.write_text('{"frog@h:1": "x", "toad@h:1": -4}', encoding="utf-8")
    assert store.load("h", 1, "frog") == 0 and store.load("h", 1, "toad") == 0


def test_default_location_follows_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_file() == tmp_path / "lanchat" / "last_seq.json"


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "seq.json"

    def writer(user: str) -> None:
        store = SeqStore(path)
        for seq in range(1, 41):
            store.save("h", 1, user, seq)

    threads = [threading.Thread(target=writer, args=(f"user{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    store = SeqStore(path)
    assert [store.load("h", 1, f"user{n}") for n in range(6)] == [40] * 6


def test_the_epoch_is_kept_beside_the_seq(tmp_path: Path) -> None:
    store = SeqStore(tmp_path / "seq.json")
    assert store.load_mark("h", 1, "frog") == HistoryMark(0, 0)
    store.save("h", 1, "frog", 40, epoch=7)
    assert SeqStore(store.path).load_mark("h", 1, "frog") == HistoryMark(40, 7)
    store.save("h", 1, "frog", 30, epoch=7)  # same history: never backwards
    assert store.load_mark("h", 1, "frog") == (40, 7)
    store.save("h", 1, "frog", 3, epoch=9)  # another history: its seq, whatever it is
    assert store.load_mark("h", 1, "frog") == (3, 9)
    store.save("h", 1, "frog", 5)  # no epoch given: the stored one stays
    assert store.load_mark("h", 1, "frog") == (5, 9)
    assert store.load("h", 1, "frog") == 5


def test_a_file_from_before_epochs_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "seq.json"
    path.write_text('{"frog@h:1": 12, "toad@h:1": {"seq": 3, "epoch": -1}}', encoding="utf-8")
    store = SeqStore(path)
    assert store.load_mark("h", 1, "frog") == (12, 0)
    assert store.load_mark("h", 1, "toad") == (0, 0)  # a damaged entry is ignored
    store.save("h", 1, "frog", 12, epoch=2**64 - 1)
    assert store.load_mark("h", 1, "frog") == (12, 2**64 - 1)
