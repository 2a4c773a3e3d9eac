"""The main states of the screen, as SVG snapshots (``snapshots.py`` says how
to update them). No server and no clock: the events are made here, every
line says 12:34, so the frames are the same on every run and machine."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from chatproto import ChatMessage, FileAvailable, ParticipantState, Presence, PresenceState
from chatproto.session import NO_TLS
from frontends.tui import i18n
from frontends.tui.app import ChatApp, Launch
from frontends.tui.screens import ChatScreen, LoginForm

from .snapshots import assert_snapshot, screen_text
from .tuitools import chat, fixed_clock, still_cursor, until

ACTIVE, DEACTIVATED = ParticipantState.ACTIVE, ParticipantState.DEACTIVATED
#: Documentation addresses (RFC 5737): shown, never contacted.
SERVER = "192.0.2.10"


def _app(user: str = "개구리", password: str = "") -> ChatApp:
    form = LoginForm(SERVER, "9000", user, password, False)
    return ChatApp(Launch(form, NO_TLS, Path("/nonexistent/downloads")), clock=fixed_clock)


def _message(seq: int, sender: str, text: str, to: str | None = None) -> ChatMessage:
    return ChatMessage(seq, 1_700_000_000_000 + seq, 0, sender, to, text)


async def _chat(app: ChatApp, me: str, states: dict[str, ParticipantState]) -> ChatScreen:
    app.chat = ChatScreen(me, f"{SERVER}:9000")
    await app.switch_screen(app.chat)
    await app.chat.ready.wait()
    app.states = dict(states)
    app.chat.show_participants(states, len(states))
    return app.chat


def _shoot(name: str, tmp_path: Path, scene: Callable[[ChatApp], Awaitable[None]],
           app: ChatApp | None = None, size: tuple[int, int] = (80, 24)) -> list[str]:
    app = app or _app()

    async def run() -> list[str]:
        async with app.run_test(size=size) as pilot:
            await scene(app)
            await pilot.pause()
            still_cursor(app)
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            svg = app.export_screenshot(title="chat-tui")
            assert_snapshot(app, name, tmp_path)
            return screen_text(svg)

    return asyncio.run(run())


def test_login(tmp_path: Path) -> None:
    async def scene(app: ChatApp) -> None:
        pass

    text = _shoot("login", tmp_path, scene)
    assert any("LAN chat — login" in row for row in text)


async def _conversation(app: ChatApp) -> None:
    chat = await _chat(app, "개구리", {"개구리": ACTIVE, "frog": ACTIVE, "두꺼비": ACTIVE})
    app.notice("Encrypted connection (TLS), certificate SHA256:3F:A2:…:9C", "presence")
    app.link_event(Presence("frog", PresenceState.JOINED, 3))
    app.link_event(_message(1, "frog", "hello everyone"))
    app.link_event(_message(2, "개구리", "안녕하세요! 반갑습니다"))
    app.link_event(_message(3, "frog", "a message with\na second line, and a third one long "
                                       "enough to wrap in the transcript column"))
    app.link_event(_message(4, "두꺼비", "just for you", to="개구리"))
    app.link_event(FileAvailable(5, 1_700_000_000_005, 7, "frog", None, "report.pdf",
                                 1_258_291, hashlib.sha256(b"x").digest()))
    chat.set_recipient("frog")
    chat.composer.load_text("a draft")


def test_chatting(tmp_path: Path) -> None:
    text = _shoot("chatting", tmp_path, _conversation)
    assert any("3 participants" in row for row in text)


def test_participants_with_a_deactivated_user(tmp_path: Path) -> None:
    async def scene(app: ChatApp) -> None:
        await _chat(app, "개구리", {"개구리": ACTIVE, "frog": ACTIVE, "toad": ACTIVE})
        app.link_event(_message(1, "toad", "my train enters a tunnel"))
        app.link_event(Presence("toad", PresenceState.DEACTIVATED, 3))
        app.link_event(Presence("frog", PresenceState.LEFT, 2))

    text = _shoot("deactivated", tmp_path, scene)
    assert any("toad" in row and "deactivated" in row for row in text)
    assert not any(row.strip().startswith("frog") for row in text[2:6])  # left: not listed


HOSTILE = "ev\x1b[2Jil\u202eexe.txt"


def test_hostile_text_is_shown_with_marks(tmp_path: Path) -> None:
    async def scene(app: ChatApp) -> None:
        await _chat(app, "개구리", {"개구리": ACTIVE, HOSTILE: ACTIVE})
        app.link_event(Presence(HOSTILE, PresenceState.JOINED, 2))
        app.link_event(_message(1, HOSTILE, "\x1b[31mred\x1b[0m\rover\x07 [bold]not markup[/]"
                                            "\n12:34 frog: a forged line?"))

    text = _shoot("hostile", tmp_path, scene)
    joined = "\n".join(text)
    assert "ev\\e[2Jil\\u202eexe.txt" in joined
    assert "\\e[31mred\\e[0m\\rover\\x07" in joined
    assert "[bold]not markup[/]" in joined
    assert "\x1b" not in joined and "\u202e" not in joined
    # The forged line sits in the text column, never where a time starts.
    assert not any(row.startswith("12:34 frog") for row in text)


def test_korean(tmp_path: Path) -> None:
    i18n.use_languages(["ko"])

    async def scene(app: ChatApp) -> None:
        await _chat(app, "개구리", {"개구리": ACTIVE, "두꺼비": ACTIVE, "frog": DEACTIVATED})
        app.link_event(Presence("두꺼비", PresenceState.JOINED, 3))
        app.link_event(_message(1, "두꺼비", "안녕하세요, 개구리님! 회의는 세 시에 시작합니다."))
        app.link_event(_message(2, "개구리", "네, 알겠습니다", to="두꺼비"))
        app.link_event(Presence("frog", PresenceState.DEACTIVATED, 3))

    text = _shoot("korean", tmp_path, scene, _app())
    joined = "\n".join(text)
    assert "대화 참여자 3명" in joined
    assert "두꺼비님이 입장하셨습니다" in joined
    assert "비활성" in joined


def test_a_narrow_terminal_keeps_the_transcript(tmp_path: Path) -> None:
    text = _shoot("narrow", tmp_path, _conversation, size=(50, 20))
    assert not any(row.endswith("3 participants") for row in text)  # the list gives way


def test_a_resize_wraps_the_transcript_again() -> None:
    app = _app()

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _conversation(app)
            await pilot.pause()
            transcript = chat(app).transcript
            narrow = len(transcript.plain_lines())
            await pilot.resize_terminal(140, 30)
            await until(pilot, lambda: len(transcript.plain_lines()) < narrow, "the re-wrap")
            assert any("a second line, and a third one long enough to wrap in the transcript"
                       in line for line in transcript.plain_lines())
            await pilot.resize_terminal(80, 24)
            await until(pilot, lambda: len(transcript.plain_lines()) == narrow, "the re-wrap")

    asyncio.run(run())
