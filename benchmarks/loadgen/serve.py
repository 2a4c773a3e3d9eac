"""Run the real server with settings the CLI does not expose (the scrypt cost).

    python benchmarks/loadgen/serve.py '{"host": "127.0.0.1", "port": 0, ...}'

The keys are ``chatserver.config.ServerConfig`` fields. Only the benchmarks
use this: logging 10,000 users in at the production scrypt cost would take
7 minutes of hashing on one core and measure nothing but scrypt.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from chatserver.app import ChatServer
from chatserver.config import ServerConfig
from chatserver.log import setup_logging


async def serve(config: ServerConfig) -> None:
    server = ChatServer(config)
    await server.start()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(server.stop()))
    await server.serve_forever()


def main() -> None:
    config = ServerConfig(**json.loads(sys.argv[1]))
    setup_logging(config.log_level)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
