"""A TCP relay in front of a server whose connections a test can break."""

from __future__ import annotations

import asyncio
import contextlib


class CuttableProxy:
    """Relays 127.0.0.1:``port`` to ``target`` on the test's loop. ``cut()``
    breaks every connection through it (resets, as a network would) and
    refuses new ones; ``mend()`` takes them again on the same port (to
    ``target``, which a test may change meanwhile). ``hold_after(n)`` lets
    ``n`` more bytes through towards the client, then holds the rest, as a
    stalled network would; ``holding`` is set then. The server behind it
    goes on serving everyone else."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.host = "127.0.0.1"
        self.port = 0
        self.tls = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[object]] = set()
        self._budget: int | None = None
        self.holding = asyncio.Event()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(self._pump(reader, up_writer),
                                 self._pump(up_reader, writer, towards_client=True))
        finally:
            self._tasks.discard(task)

    def hold_after(self, count: int) -> None:
        self._budget = count
        self.holding.clear()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                    towards_client: bool = False) -> None:
        try:
            while data := await source.read(65536):
                if towards_client and self._budget is not None:
                    data, self._budget = data[:self._budget], self._budget - len(data)
                    if self._budget <= 0:
                        self._budget = 0
                        sink.write(data)
                        self.holding.set()
                        await asyncio.Event().wait()  # until cut() cancels it
                sink.write(data)
                await sink.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            sink.close()  # EOF on one side: the other side sees it too
            self._writers.discard(sink)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            with contextlib.suppress(OSError):
                writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        self._budget = None

    async def mend(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()


__all__ = ["CuttableProxy"]
