"""A chat bot that answers "!time".  Run: python examples/time_bot.py HOST PORT USER PASSWORD"""

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable
from datetime import datetime

from chatproto import ChatMessage
from chatproto.session import SKIP_REPLAY, AsyncSession, ChatError, Disconnected, MessageRefused


async def main(host: str, port: int, user: str, password: str) -> None:
    # SKIP_REPLAY: answer live requests only, not old ones from the history.
    async with await AsyncSession.connect(host, port, user, password,
                                          last_seen_seq=SKIP_REPLAY) as chat:
        print(f"{user} is answering !time", flush=True)
        async for event in chat.events():
            if isinstance(event, ChatMessage) and event.sender != chat.username:
                if event.text.strip() == "!time":
                    # Answer in kind: a direct message privately, a public one publicly.
                    to = event.sender if event.recipient else None
                    try:
                        await chat.send_chat(f"It is {datetime.now():%H:%M:%S}.", to=to)
                    except MessageRefused as refused:  # e.g. rate-limited: skip this one
                        print(f"time bot: {refused}", file=sys.stderr)
            elif isinstance(event, Disconnected):
                sys.exit(f"time bot: {event.message}")


async def until_stopped(job: Awaitable[None]) -> None:
    """Run ``job`` until Ctrl-C or SIGTERM (even with SIGINT ignored, as in a background
    job) cancels it: leaving its ``async with`` says goodbye, so others see "left"."""
    task = asyncio.ensure_future(job)
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):  # a second signal: quit at once
        await task


if __name__ == "__main__":
    host, port, user, password = sys.argv[1:5]
    try:
        asyncio.run(until_stopped(main(host, int(port), user, password)))
    except ChatError as error:  # unreachable, bad password...: one line, no traceback
        sys.exit(f"time bot: {error}")
