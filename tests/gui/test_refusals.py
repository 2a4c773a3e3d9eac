"""What the server or the protocol refuses is reported, and nothing typed is lost."""

from __future__ import annotations

from collections.abc import Callable

from .driver import GuiClient


def test_a_refused_message_is_given_back(
    gui: Callable[[str], GuiClient], chat_server
) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    too_long = "가" * 10_000  # 30 000 bytes of UTF-8: over the protocol's limit
    frog.say(too_long)
    frog.wait_for_text("*** Message not sent: ")
    assert frog.chat.draft() == too_long  # nothing typed is lost
    assert frog.transcript().count("\n") < 10
