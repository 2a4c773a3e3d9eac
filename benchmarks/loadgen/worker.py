"""The load generator as a separate, pinned process driven over a pipe.

The parent (the benchmark script) owns the server process and reads its CPU
time around each run; the child owns the client sockets. Keeping them apart
means neither process's Python work is counted against the other.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

from .clients import BenchClient, ChatClient, IdleChatClient
from .engine import GeneratorError, Traffic, connect_all, hold, settle
from .irc import IdleIrcClient, IrcClient
from .wsclients import IdleWsChatClient, WebTarget, WsChatClient, WsEchoClient

PROTOCOLS: dict[str, type[BenchClient]] = {
    "chat": ChatClient,
    "irc": IrcClient,
    "chat-idle": IdleChatClient,
    "irc-idle": IdleIrcClient,
}
#: The same over a WebSocket (``Generator(web=...)``); ``ws-echo`` is for the
#: bare WebSocket servers of ``web_stack.py``, busy or idle.
WS_PROTOCOLS: dict[str, type[WsChatClient]] = {
    "chat": WsChatClient,
    "chat-idle": IdleWsChatClient,
    "ws-echo": WsEchoClient,
}


def _factory(protocol: str, web: WebTarget | None) -> Callable[[int, str], BenchClient]:
    if web is None:
        return PROTOCOLS[protocol]
    kind = WS_PROTOCOLS[protocol]
    return lambda index, name: kind(index, name, web)


def _child(
    pipe: Connection,
    protocol: str,
    address: tuple[str, int],
    names: Sequence[str],
    cpus: set[int] | None,
    source_hosts: Sequence[str],
    login_timeout: float,
    max_pending: int,
    partial_ok: bool,
    tls: bool,
    web: WebTarget | None,
) -> None:
    try:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        clients, login_seconds = connect_all(
            _factory(protocol, web), address, names, source_hosts=source_hosts,
            timeout=login_timeout, max_pending=max_pending, partial_ok=partial_ok, tls=tls,
        )
        settle(clients)
        pipe.send(("ready", (login_seconds, len(clients))))
        while True:
            command, options = pipe.recv()
            if command == "stop":
                break
            if command == "hold":
                hold(clients, options["seconds"])
                pipe.send(("result", {}))
                continue
            traffic = Traffic(clients, options["messages_per_client"])
            if command == "unbounded":
                result = traffic.run_unbounded(options["window"])
            else:
                result = traffic.run_paced(options["rate"])
            traffic.close()
            settle(clients)
            pipe.send(("result", result))
        for client in clients:
            if client.sock is not None:
                client.sock.close()
    except GeneratorError as exc:
        pipe.send(("error", str(exc)))
    except Exception:
        pipe.send(("error", traceback.format_exc()))


class ChildProcess:
    """A forked worker on a pipe: ``target(child_end, *args)`` answers
    ``("ready", payload)`` once, then ``("result", ...)`` for each command
    until ``("stop", ...)``; ``("error", text)`` at any point."""

    def __init__(self, target: Any, args: tuple[Any, ...], ready_timeout: float) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=target, args=(child_end, *args), daemon=True)
        self._process.start()
        child_end.close()
        try:
            self.ready: Any = self._receive("ready", ready_timeout)
        except BaseException:
            self.close()
            raise

    def _receive(self, expected: str, timeout: float) -> Any:
        if not self._pipe.poll(timeout):
            raise GeneratorError(f"the load generator did not answer within {timeout}s")
        try:
            kind, payload = self._pipe.recv()
        except EOFError:
            raise GeneratorError("the load generator died") from None
        if kind == "error":
            raise GeneratorError(payload)
        assert kind == expected, kind
        return payload

    def run(self, mode: str, timeout: float = 300.0, **options: Any) -> dict[str, Any]:
        self._pipe.send((mode, options))
        result: dict[str, Any] = self._receive("result", timeout)
        return result

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._pipe.send(("stop", {}))
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._pipe.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Generator(ChildProcess):
    """``with Generator(...) as gen: gen.run("unbounded", ...)``."""

    def __init__(
        self,
        protocol: str,
        address: tuple[str, int],
        names: Sequence[str],
        cpus: set[int] | None,
        source_hosts: Sequence[str] = (),
        login_timeout: float = 240.0,
        max_pending: int = 100,
        partial_ok: bool = False,
        tls: bool = False,
        web: WebTarget | None = None,
    ) -> None:
        """With ``web``, every client is a WebSocket to ``address`` (the web
        port) carrying ``web``'s Host, Origin and cookies."""
        super().__init__(_child, (
            protocol, address, list(names), cpus, list(source_hosts),
            login_timeout, max_pending, partial_ok, tls, web,
        ), login_timeout + 60)
        self.login_seconds, self.logged_in = self.ready


def _call(pipe: Connection, cpus: set[int] | None, function: Any, args: tuple[Any, ...]) -> None:
    try:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        pipe.send(("result", function(*args)))
    except GeneratorError as exc:
        pipe.send(("error", str(exc)))
    except Exception:
        pipe.send(("error", traceback.format_exc()))


def call_in_process(
    function: Any, cpus: set[int] | None, *args: Any, timeout: float = 300.0
) -> Any:
    """``function(*args)`` in a forked process pinned to ``cpus``; its result."""
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()
    process = context.Process(target=_call, args=(child_end, cpus, function, args), daemon=True)
    process.start()
    child_end.close()
    try:
        if not parent_end.poll(timeout):
            raise GeneratorError(f"the load generator did not finish within {timeout}s")
        kind, payload = parent_end.recv()
    except EOFError:
        raise GeneratorError("the load generator died") from None
    finally:
        if process.is_alive():
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        parent_end.close()
    if kind == "error":
        raise GeneratorError(payload)
    return payload
