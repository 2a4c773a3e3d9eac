"""A chat bot that answers "!time".  Run: python examples/time_bot.py HOST PORT USER PASSWORD"""

import asyncio
import sys
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


if __name__ == "__main__":
    host, port, user, password = sys.argv[1:5]
    try:
        asyncio.run(main(host, int(port), user, password))
    except ChatError as error:  # unreachable, bad password...: one line, no traceback
        sys.exit(f"time bot: {error}")
    except KeyboardInterrupt:
        pass  # Ctrl-C: the session has already said goodbye
