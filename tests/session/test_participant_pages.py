"""The session assembles a participant list sent in pages before it reports the login.

A real chat-server pages the list only past the client's frame limit (1 MiB for
the session: some 8,000 long names), so here a small scripted peer speaks the
server side with ``chatproto.ServerConnection`` over a real socket and cuts the
list into three pages.
"""

from __future__ import annotations

import asyncio

from chatproto import (
    NEED_DATA,
    Hello,
    Login,
    LoginAccepted,
    Participant,
    ParticipantList,
    ParticipantState,
    ServerConnection,
)
from chatproto.session import NO_TLS, AsyncSession

EVERYONE = tuple(
    Participant(f"user{i}", ParticipantState.DEACTIVATED if i % 2 else ParticipantState.ACTIVE)
    for i in range(9)
)


async def _scripted_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conn = ServerConnection()
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data:
                break
        elif isinstance(event, Hello):
            writer.write(conn.send(conn.hello("scripted")))
        elif isinstance(event, Login):
            me = Participant(event.username)
            writer.write(conn.send(LoginAccepted(event.username, True, False, 0,
                                                 EVERYONE[:3], 5, False, len(EVERYONE) + 1)))
            writer.write(conn.send(ParticipantList(EVERYONE[3:7])))
            writer.write(conn.send(ParticipantList((*EVERYONE[7:], me))))
        else:
            break
    writer.close()


def test_the_session_waits_for_every_page() -> None:
    async def main() -> None:
        server = await asyncio.start_server(_scripted_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            session = await AsyncSession.connect("127.0.0.1", port, "frog", "pw", tls=NO_TLS)
            try:
                expected = {p.name: p.state for p in EVERYONE} | {"frog": "active"}
                assert session.participants == expected
                assert session.epoch == 5
            finally:
                await session.close()

    asyncio.run(main())
