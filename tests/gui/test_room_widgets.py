"""The room list, the per-conversation transcripts, the search window and the
room forms, as real Tk widgets on the test display, without a server."""

from __future__ import annotations

import gc
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatproto import (
    ChatMessage,
    ErrorCode,
    FileAvailable,
    LoginRejectReason,
    ParticipantState,
    RoomInfo,
    SearchHit,
)
from chatproto.session import Disconnected, LoginRefused, MessageRefused, RequestRefused
from frontends.gui import errors_text, i18n
from frontends.gui.chat_view import ChatActions, ChatView
from frontends.gui.conversations import GENERAL, conversation_of, direct, ordered, room
from frontends.gui.lines import chat_line
from frontends.gui.room_dialogs import CreateRoomDialog, InviteDialog, JoinRoomDialog
from frontends.gui.rooms import RoomActions
from frontends.gui.search_view import SearchWindow


@pytest.fixture
def root(display: str, english: None) -> Iterator[tk.Tk]:
    window = tk.Tk()
    yield window
    window.destroy()
    gc.collect()  # free the Tk objects on this thread


def pump(widget: tk.Misc) -> None:
    """Let Tk deliver what is queued (virtual events, mapping, redraws)."""
    widget.update()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.files: list[str] = []
        self.asked: list[str] = []


@pytest.fixture
def view(root: tk.Tk, tmp_path: Path) -> Iterator[tuple[ChatView, Recorder]]:
    seen = Recorder()

    def send(text: str, where: object) -> bool:
        seen.sent.append((text, getattr(where, "key", "")))
        return True

    actions = ChatActions(
        send, lambda where: seen.files.append(where.key), lambda: None, lambda: None,
        lambda: None, rooms=RoomActions(lambda: seen.asked.append("create"),
                                        lambda: seen.asked.append("join"),
                                        lambda c: seen.asked.append("leave " + c.key),
                                        lambda c: seen.asked.append("invite " + c.key)),
        search=lambda query: seen.asked.append("search " + query))
    chat = ChatView(root, actions, tmp_path)
    chat.pack(fill="both", expand=True)
    chat.participants.reset("frog", {"frog": ParticipantState.ACTIVE,
                                     "toad": ParticipantState.ACTIVE,
                                     "newt": ParticipantState.ACTIVE})
    chat.refresh_recipients()
    pump(root)
    yield chat, seen


def message(seq: int, sender: str, recipient: str | None, text: str) -> ChatMessage:
    return ChatMessage(seq, 1_700_000_000_000, 0, sender, recipient, text)


def test_every_message_has_one_conversation() -> None:
    assert conversation_of(message(1, "toad", None, "hi"), "frog") == GENERAL
    assert conversation_of(message(2, "toad", "#Dev", "hi"), "frog") == room("dev")
    assert conversation_of(message(3, "toad", "frog", "psst"), "frog") == direct("toad")
    assert conversation_of(message(4, "frog", "toad", "psst"), "frog") == direct("toad")
    file = FileAvailable(5, 0, 1, "toad", "#dev", "a.txt", 3, b"\0" * 32, 0)
    assert conversation_of(file, "frog") == room("dev")
    # Names are one by skeleton, as on the server; general in any spelling is general.
    assert room("GENERAL") is GENERAL and room("개발") == room("개발")
    assert room("dev") != direct("dev")
    assert GENERAL.room is None and GENERAL.to is None
    assert room("dev").room == "dev" and direct("toad").to == "toad"
    assert [c.key for c in ordered([direct("bob"), room("zoo"), GENERAL, room("Art")])] == [
        "#general", "#art", "#zoo", "@bob"]
    # A room message is shown as the sender's, not as a direct one.
    line = chat_line(message(6, "toad", "#dev", "hi"), "frog")
    assert "".join(chunk for chunk, _tags in line).endswith("] toad: hi")
    assert all("direct" not in tags for _chunk, tags in line)


def test_one_transcript_per_conversation_with_unread_counts(view) -> None:
    chat, seen = view
    chat.set_rooms_supported(True)
    dev, zoo = room("dev"), room("zoo")
    chat.append(GENERAL, chat_line(message(1, "toad", None, "in general"), "frog"))
    for number, where in enumerate((dev, dev, zoo), 2):
        chat.append(where, chat_line(message(number, "toad", "#" + where.name,
                                             f"in {where.name} {number}"), "frog"))
        chat.rooms.arrived(where)
    chat.append(direct("toad"), chat_line(message(9, "toad", "frog", "psst"), "frog"))
    chat.rooms.arrived(direct("toad"))
    pump(chat)
    assert chat.rooms.rows() == [("# general", 0), ("# dev", 2), ("# zoo", 1), ("@ toad", 1)]
    assert chat.rooms.tree.tag_has("unread", dev.key)
    assert "in general" in chat.transcript.content()
    assert "in dev" not in chat.transcript.content()

    # Selecting a room shows its own transcript, clears its count, and To: follows.
    chat.rooms.tree.selection_set(dev.key)
    pump(chat)
    assert chat.rooms.current == dev and chat.rooms.unread_count(dev) == 0
    assert "in dev 2" in chat.transcript.content() and "in dev 3" in chat.transcript.content()
    assert "in general" not in chat.transcript.content() and "zoo" not in chat.transcript.content()
    assert chat.recipient.get() == "#dev"
    assert chat.rooms.tree.winfo_ismapped() and chat.transcript.winfo_ismapped()
    assert not chat.transcripts[GENERAL.key].winfo_ismapped()
    # A message arriving in the room on screen is not unread.
    chat.rooms.arrived(dev)
    assert chat.rooms.unread_count(dev) == 0
    # Enter sends to the conversation on screen; so does File.
    chat.entry.insert("1.0", "hello dev")
    chat.submit()
    chat.file_button.invoke()
    assert seen.sent == [("hello dev", dev.key)] and seen.files == [dev.key]

    # Picking on the To: line selects that conversation, opening a new direct one.
    assert list(chat.recipient.cget("values")) == [
        "Everyone", "#dev", "#zoo", "newt", "toad"]
    chat.recipient.set("newt")
    chat.recipient.event_generate("<<ComboboxSelected>>")
    pump(chat)
    assert chat.rooms.current == direct("newt") and chat.transcript.content() == ""
    assert ("@ newt", 0) in chat.rooms.rows()
    chat.address_to(None)
    assert chat.rooms.current == GENERAL and chat.recipient.get() == "Everyone"

    # A room left goes from the list with its transcript; general stays.
    chat.rooms.select(zoo)
    chat.drop_room(zoo)
    chat.drop_room(GENERAL)
    assert chat.rooms.current == GENERAL
    assert [label for label, _n in chat.rooms.rows()] == ["# general", "# dev", "@ newt",
                                                           "@ toad"]
    assert zoo.key not in chat.transcripts and "#zoo" not in chat.recipient.cget("values")


def test_room_buttons_and_search_only_where_the_server_has_rooms(view) -> None:
    chat, seen = view
    pump(chat)
    # An old server: just general (and direct conversations), no room buttons, no search.
    assert not chat.rooms.create_button.winfo_ismapped()
    assert not chat.search_box.winfo_ismapped()
    assert chat.rooms.rows() == [("# general", 0)]
    chat.set_rooms_supported(True)
    pump(chat)
    assert chat.rooms.create_button.winfo_ismapped() and chat.search_box.winfo_ismapped()
    # Nobody leaves general or is invited into it.
    assert chat.rooms.leave_button.instate(["disabled"])
    assert chat.rooms.invite_button.instate(["disabled"])
    chat.rooms.select(room("dev"))
    assert chat.rooms.leave_button.instate(["!disabled"])
    for button in (chat.rooms.create_button, chat.rooms.join_button, chat.rooms.leave_button,
                   chat.rooms.invite_button):
        button.invoke()
    chat.search_box.query.set("  안녕 ")
    chat.search_box.entry.focus_force()
    pump(chat)
    chat.search_box.entry.event_generate("<Return>")
    pump(chat)
    assert seen.asked == ["create", "join", "leave #dev", "invite #dev", "search 안녕"]


def test_search_results_newest_first_with_room_sender_and_time(root: tk.Tk) -> None:
    picked: list[str] = []
    more: list[int] = []
    window = SearchWindow(root, "frog", on_pick=lambda c: picked.append(c.key),
                          on_more=lambda: more.append(1))
    window.start("안녕")
    assert window.more_button.instate(["disabled"])
    base = 1_700_000_000_000
    window.add([SearchHit(1, 90, base + 90_000, "toad", "#dev", "안녕하세요 여러분"),
                SearchHit(1, 70, base + 70_000, "frog", "toad", "안녕 \x1b[31m"),
                SearchHit(1, 50, base, "newt", None, "안녕!")], more=True)
    rows = window.rows()
    assert [row[1:3] for row in rows] == [("# dev", "toad"), ("@ toad", "frog"),
                                          ("# general", "newt")]
    assert rows[0][3] == "안녕하세요 여러분" and "\x1b" not in rows[1][3]
    assert rows[2][0].count(":") == 1 and rows[2][0].startswith("20")  # date and time
    assert window.status.cget("text") == "3 messages found (older ones: More)"
    window.more_button.invoke()
    assert more == [1]
    window.add([SearchHit(1, 10, base, "toad", "newt", "안녕")], more=False)
    assert len(window.rows()) == 4 and window.more_button.instate(["disabled"])
    window.pick(0)
    window.pick(3)
    assert picked == ["#dev", "@toad"]
    window.start("nothing")
    window.add([], more=False)
    assert window.rows() == [] and window.status.cget("text") == "Nothing found."
    window.destroy()


def test_room_forms(root: tk.Tk) -> None:
    created: list[tuple[str, bool]] = []
    form = CreateRoomDialog(root, lambda name, private: created.append((name, private)))
    form.name.set("no spaces")
    form.submit()
    assert form.winfo_exists() and "letters, digits" in form.problem.cget("text")
    form.name.set("개발")
    form.private.set(True)
    form.ok_button.invoke()
    assert created == [("개발", True)] and not form.winfo_exists()

    joined: list[str] = []
    join = JoinRoomDialog(root, joined.append)
    assert join.ok_button.instate(["disabled"])
    join.show_rooms([RoomInfo("zoo", 2), RoomInfo("mine", 5, True, True), RoomInfo("art", 1)])
    assert join.room_names() == ["art", "zoo"]  # not the rooms one is in already
    assert join.tree.item("zoo", "values") == ("2",)
    join.tree.selection_set("zoo")
    join.ok_button.invoke()
    assert joined == ["zoo"]
    empty = JoinRoomDialog(root, joined.append)
    empty.show_rooms([RoomInfo("mine", 5, False, True)])
    assert empty.status.cget("text") == "There is no other public room yet."
    empty.destroy()

    invited: list[tuple[str, str]] = []
    invite = InviteDialog(root, "dev", ["newt", "toad"],
                          lambda name, user: invited.append((name, user)))
    assert invite.title() == "Invite into #dev"
    invite.submit()
    assert invite.winfo_exists() and invite.problem.cget("text")
    invite.user.set("newt")
    invite.ok_button.invoke()
    assert invited == [("dev", "newt")]


def _ended(code: str) -> Disconnected:
    return Disconnected(code, f"the server ended the session: {code}", False)


def test_refusals_and_admin_texts(english: None) -> None:
    pin = Path("/nowhere/pins")
    disabled = LoginRefused("login refused: disabled", LoginRejectReason.DISABLED)
    assert errors_text.login_error(disabled, "h", 1, pin) == (
        "This ID has been disabled by the server's administrator. Ask them to enable it again.")
    reserved = LoginRefused("login refused", LoginRejectReason.NAME_RESERVED)
    assert "deleted" in errors_text.login_error(reserved, "h", 1, pin)
    assert errors_text.disconnect_reason(_ended(ErrorCode.ACCOUNT_DISABLED)) == (
        "the server's administrator disabled your account")
    assert errors_text.disconnect_reason(_ended(ErrorCode.ACCOUNT_DELETED)) == (
        "the server's administrator deleted your account")
    assert errors_text.describe(RequestRefused("cannot-leave-general", "x")) == (
        "nobody can leave general")
    assert errors_text.describe(RequestRefused("room-full", "x")) == (
        "the room has as many members as the server allows")
    assert errors_text.describe(MessageRefused("no", "not-member")) == (
        "you are not a member of that room")
    # A reason this program does not know yet: the session's own words.
    assert errors_text.describe(RequestRefused("brand-new", "join: brand-new")) == (
        "join: brand-new")


def test_refusals_in_korean() -> None:
    i18n.use_languages(["ko"])
    try:
        disabled = LoginRefused("login refused", LoginRejectReason.DISABLED)
        assert "비활성화" in errors_text.login_error(disabled, "h", 1, Path("/p"))
        assert errors_text.describe(RequestRefused("not-found", "x")) == (
            "그런 방이 없습니다(또는 비공개 방입니다)")
    finally:
        i18n.use_languages(["en"])
