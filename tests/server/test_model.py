"""A model check of "nothing lost": random logins, messages (public and
direct), normal exits and broken connections against a real server; every
user must receive exactly what is addressed to them, in order, live or
replayed at its next login from the last sequence number it saw."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chatproto import ChatMessage, LoginAccepted, SendChat
from support import RawClient, running_server

NAMES = ("amy", "ben", "cat")


class NothingLost(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self._server_cm = running_server(Path(self._tmp.name) / "d", scrypt_n=2**10,
                                         flood_rate=0)
        self.server = self._server_cm.__enter__()
        self.clients: dict[str, RawClient] = {}
        #: seq -> (sender, recipient, text), as committed
        self.history: dict[int, tuple[str, str | None, str]] = {}
        self.created_at: dict[str, int] = {}
        self.last_seen: dict[str, int] = {}
        self.counter = 0

    def teardown(self) -> None:
        for client in self.clients.values():
            client.close()
        self._server_cm.__exit__(None, None, None)
        self._tmp.cleanup()

    def _addressed(self, name: str, after: int) -> list[int]:
        floor = max(after, self.created_at.get(name, 0))
        return [
            seq for seq, (sender, recipient, _) in sorted(self.history.items())
            if seq > floor and (recipient is None or name in (sender, recipient))
        ]

    def _receive(self, name: str, seqs: list[int]) -> None:
        client = self.clients[name]
        got = [client.wait_for(ChatMessage) for _ in seqs]
        assert [m.seq for m in got] == seqs, (name, [m.seq for m in got], seqs)
        for message in got:
            assert self.history[message.seq] == (message.sender, message.recipient, message.text)
        if seqs:
            self.last_seen[name] = seqs[-1]

    @rule(name=st.sampled_from(NAMES))
    def log_in(self, name: str) -> None:
        if name in self.clients:
            return
        client = RawClient(self.server.address)
        reply = client.login(name, f"pw-{name}", self.last_seen.get(name, 0))
        assert isinstance(reply, LoginAccepted), reply
        if reply.new_account:
            self.created_at[name] = max(self.history, default=0)
        assert reply.last_seq == max(self.history, default=0)
        self.clients[name] = client
        self._receive(name, self._addressed(name, self.last_seen.get(name, 0)))

    @precondition(lambda self: bool(self.clients))
    @rule(data=st.data(), to_one=st.booleans())
    def chat(self, data: st.DataObject, to_one: bool) -> None:
        sender = data.draw(st.sampled_from(sorted(self.clients)))
        recipient = data.draw(st.sampled_from(sorted(self.created_at))) if to_one else None
        self.counter += 1
        text = f"{sender} #{self.counter}\n두 줄"
        self.clients[sender].send(SendChat(text, recipient, self.counter))
        echo = self.clients[sender].wait_for(ChatMessage)
        self.history[echo.seq] = (sender, recipient, text)
        self.last_seen[sender] = echo.seq
        assert echo.text == text
        for name in self.clients:
            if name != sender and (recipient is None or recipient == name):
                self._receive(name, [echo.seq])

    @precondition(lambda self: bool(self.clients))
    @rule(data=st.data(), how=st.sampled_from(["goodbye", "close", "reset"]))
    def leave(self, data: st.DataObject, how: str) -> None:
        name = data.draw(st.sampled_from(sorted(self.clients)))
        client = self.clients.pop(name)
        getattr(client, how)()
        self.server.wait_until(lambda: name not in self.server.server.hub.sessions)

    @invariant()
    def nobody_got_anything_extra(self) -> None:
        if not hasattr(self, "clients"):
            return
        for client in self.clients.values():
            pending = [e for e in client._pending if isinstance(e, ChatMessage)]
            assert not pending, pending


TestNothingLost = NothingLost.TestCase
TestNothingLost.settings = settings(
    max_examples=25, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
