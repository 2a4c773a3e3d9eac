"""The blocking Session: events, progress and the final notice on a queue."""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

import pytest

from chatproto import ChatMessage, FileAvailable, Presence
from chatproto.session import (
    ConnectionLost,
    Disconnected,
    FileRefused,
    LoginRefused,
    MessageRefused,
    Progress,
    Session,
)
from chatproto.session.tls import NO_TLS
from support import running_server

TIMEOUT = 10.0


def take(events: queue.Queue, kind: type, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(deadline - time.monotonic(), 0.001))
        if isinstance(event, kind):
            return event
        assert not isinstance(event, Disconnected), event


def test_blocking_chat_and_events(server) -> None:
    with Session.connect(server.host, server.port, "개구리", "pw", tls=NO_TLS) as frog:
        assert frog.username == "개구리" and frog.new_account
        with Session.connect(server.host, server.port, "toad", "pw", tls=NO_TLS) as toad:
            message = frog.send_chat("안녕하세요")
            assert isinstance(message, ChatMessage) and message.text == "안녕하세요"
            assert take(toad.events, ChatMessage) == message
            future = toad.send_chat_async("reply", to="개구리")
            direct = future.result(TIMEOUT)
            assert direct.recipient == "개구리"
            assert take(frog.events, ChatMessage) == message
            assert take(frog.events, ChatMessage) == direct
            assert frog.last_seq == direct.seq
            assert set(frog.participants) == {"개구리", "toad"}
            with pytest.raises(MessageRefused):
                frog.send_chat("?", to="nobody")
            failed = frog.send_chat_async("?", to="nobody")
            assert isinstance(failed.exception(TIMEOUT), MessageRefused)
        left = take(frog.events, Presence)
        while left.user != "toad" or left.state.value != "left":
            left = take(frog.events, Presence)
    final = take(frog.events, Disconnected)
    assert final.by_us
    assert not frog.connected


def test_calls_from_many_threads_do_not_interleave(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", flood_rate=0) as server, \
         Session.connect(server.host, server.port, "frog", "pw", tls=NO_TLS) as frog:
        results: list[ChatMessage] = []
        lock = threading.Lock()

        def chatter(index: int) -> None:
            for n in range(20):
                message = frog.send_chat(f"{index}-{n}")
                with lock:
                    results.append(message)

        threads = [threading.Thread(target=chatter, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(results) == 80
        assert len({m.seq for m in results}) == 80


def test_files_with_progress_on_the_queue(server, tmp_path: Path) -> None:
    content = os.urandom(1_000_000)
    source = tmp_path / "data.bin"
    source.write_bytes(content)
    with Session.connect(server.host, server.port, "frog", "pw", tls=NO_TLS) as frog, \
         Session.connect(server.host, server.port, "toad", "pw", tls=NO_TLS) as toad:
        announced = frog.send_file_async(source).result(30)
        assert isinstance(announced, FileAvailable)
        ups = []
        while True:
            notice = take(frog.events, Progress)
            ups.append(notice)
            if notice.done == notice.total:
                break
        assert all(p.direction == "upload" and p.name == "data.bin" for p in ups)
        seen = take(toad.events, FileAvailable)
        saved = toad.download(seen, tmp_path / "in")
        assert saved.read_bytes() == content
        last = take(toad.events, Progress)
        while last.done != last.total:
            last = take(toad.events, Progress)
        assert last.direction == "download" and last.key == str(seen.file_id)
        with pytest.raises(FileRefused):
            frog.send_file(tmp_path / "missing")


def test_blocking_connect_errors(server) -> None:
    Session.connect(server.host, server.port, "frog", "pw", tls=NO_TLS).close()
    with pytest.raises(LoginRefused) as error:
        Session.connect(server.host, server.port, "frog", "nope", tls=NO_TLS)
    assert error.value.code == "bad-password"
    for _ in range(3):
        with pytest.raises(LoginRefused):
            Session.connect(server.host, server.port, "frog", "nope", tls=NO_TLS)
    # No session thread is left behind by failed connects.
    assert not [t for t in threading.enumerate() if t.name == "chat-session"]


def test_a_dead_server_reaches_the_queue_as_disconnected(server_proc) -> None:
    with Session.connect(server_proc.host, server_proc.port, "frog", "pw", tls=NO_TLS) as frog:
        take(frog.events, Presence)
        server_proc.proc.kill()
        final = _final(frog.events)
        assert not final.by_us and not final.clean
        assert not frog.connected
        failed = frog.send_chat_async("anyone?")
        assert isinstance(failed.exception(TIMEOUT), ConnectionLost)


def _final(events: queue.Queue) -> Disconnected:
    deadline = time.monotonic() + TIMEOUT
    while True:
        event = events.get(timeout=max(deadline - time.monotonic(), 0.001))
        if isinstance(event, Disconnected):
            return event
