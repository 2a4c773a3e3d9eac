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
from collections.abc import Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from .clients import BenchClient, ChatClient, IrcClient
from .engine import GeneratorError, Traffic, connect_all, settle

PROTOCOLS: dict[str, type[BenchClient]] = {"chat": ChatClient, "irc": IrcClient}


def _child(
    pipe: Connection,
    protocol: str,
    address: tuple[str, int],
    names: Sequence[str],
    cpus: set[int] | None,
    source_hosts: Sequence[str],
) -> None:
    try:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        clients, login_seconds = connect_all(
            PROTOCOLS[protocol], address, names, source_hosts=source_hosts
        )
        settle(clients)
        pipe.send(("ready", login_seconds))
        while True:
            command, options = pipe.recv()
            if command == "stop":
                break
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


class Generator:
    """``with Generator(...) as gen: gen.run("unbounded", ...)``."""

    def __init__(
        self,
        protocol: str,
        address: tuple[str, int],
        names: Sequence[str],
        cpus: set[int] | None,
        source_hosts: Sequence[str] = (),
        login_timeout: float = 300.0,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(
            target=_child,
            args=(child_end, protocol, address, list(names), cpus, list(source_hosts)),
            daemon=True,
        )
        self._process.start()
        child_end.close()
        try:
            self.login_seconds = float(self._receive("ready", login_timeout))
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

    def __enter__(self) -> Generator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
