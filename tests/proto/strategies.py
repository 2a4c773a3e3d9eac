"""Hypothesis strategies that build valid protocol events (every field within its limits)."""

from __future__ import annotations

import itertools
import unicodedata
from typing import Any

from hypothesis import strategies as st

from chatproto import events as ev
from chatproto.limits import (
    MAX_FILE_SIZE,
    MAX_FILENAME_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_PASSWORD_BYTES,
    MAX_QUERY_BYTES,
    MAX_SEARCH_LIMIT,
    MAX_SOFTWARE_BYTES,
    MAX_TEXT_BYTES,
    MAX_USERNAME_CHARS,
    MIN_FRAME_SIZE,
    OLDEST_PROTOCOL_VERSION,
    RESUME_TOKEN_BYTES,
    is_valid_token,
    is_valid_username,
)
from chatproto.targets import is_general

U16 = st.integers(0, 2**16 - 1)
U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, 2**64 - 1)
SHA256 = st.binary(min_size=32, max_size=32)
#: Fields whose range the protocol narrows (rules.py): the whole valid range, edges included.
VERSIONS = st.integers(OLDEST_PROTOCOL_VERSION, 2**16 - 1)
FRAME_LIMITS = st.integers(MIN_FRAME_SIZE, 2**32 - 1)
FILE_SIZES = st.integers(0, MAX_FILE_SIZE) | st.sampled_from([0, MAX_FILE_SIZE])

KOREAN_NAMES = ("개구리", "김철수", "이영희", "박_지성", "한글-이름", "가" * MAX_USERNAME_CHARS)
_NAME_CHARS = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No")) | (
    st.sampled_from("_-")
)
#: Letters, digits, '_' and '-', NFC, 1 to 32 characters, Korean included.
usernames = st.one_of(
    st.sampled_from(KOREAN_NAMES),
    st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1,
            max_size=MAX_USERNAME_CHARS),
    st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True),
    st.text(_NAME_CHARS, min_size=1, max_size=MAX_USERNAME_CHARS).map(
        lambda s: unicodedata.normalize("NFC", s)
    ),
).filter(is_valid_username)
optional_usernames = st.none() | usernames
#: Room names: user names whose skeleton is not general's.
rooms = usernames.filter(lambda name: not is_general(name))
#: A recipient (targets.py): general (None), a user, or a ``#room``.
recipients = st.none() | usernames | rooms.map(lambda room: "#" + room)
optional_rooms = st.none() | usernames


def utf8_text(max_bytes: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any Unicode except lone surrogates, at most ``max_bytes`` of UTF-8."""
    return st.text(min_size=min_size, max_size=max_bytes // 2).filter(
        lambda s: len(s.encode("utf-8")) <= max_bytes
    )


def _exactly(max_bytes: int) -> list[str]:
    # Strings that fill a limit to the byte, with a multi-byte character at the edge.
    three, rest = divmod(max_bytes, 3)
    return ["가" * three + "a" * rest, "a" * max_bytes]


texts = st.one_of(utf8_text(MAX_TEXT_BYTES), st.sampled_from(_exactly(MAX_TEXT_BYTES)),
                  st.sampled_from(["", "안녕하세요", "line1\nline2\r\n[bob] forged", "a,b/c|d"]))
messages = utf8_text(MAX_MESSAGE_BYTES) | st.sampled_from(_exactly(MAX_MESSAGE_BYTES))
software = utf8_text(MAX_SOFTWARE_BYTES)
passwords = utf8_text(MAX_PASSWORD_BYTES, min_size=1) | st.sampled_from(["비밀번호", "x"])
filenames = st.one_of(
    utf8_text(MAX_FILENAME_BYTES, min_size=1).filter(lambda s: "\x00" not in s),
    st.sampled_from(["a,b.txt", "../../x", "/etc/passwd", "C:\\x", "사진.png", "가" * 85]),
)
tokens = st.one_of(
    st.sampled_from([r.value for r in ev.LoginRejectReason] + [r.value for r in ev.RejectReason]),
    st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True),
).filter(is_valid_token)
participants = st.lists(
    st.builds(ev.Participant, usernames, st.sampled_from(ev.ParticipantState)), max_size=40
).map(tuple)
chunk_data = st.binary(max_size=4096)
queries = utf8_text(MAX_QUERY_BYTES, min_size=1) | st.sampled_from(
    ["안녕", "hello", '"quoted" OR *', "a" * MAX_QUERY_BYTES]
)
room_infos = st.lists(
    st.builds(ev.RoomInfo, usernames, U32, st.booleans(), st.booleans()), max_size=20
).map(tuple)
#: Any 256 bits, the all-zero and all-one tokens drawn often.
resume_tokens = st.binary(min_size=RESUME_TOKEN_BYTES, max_size=RESUME_TOKEN_BYTES) | (
    st.sampled_from([bytes(RESUME_TOKEN_BYTES), b"\xff" * RESUME_TOKEN_BYTES])
)


@st.composite
def logins(draw: st.DrawFn) -> ev.Login:
    """A Login by password or, with the password empty, by resume token."""
    if draw(st.booleans()):
        password, token = draw(passwords), b""
    else:
        password, token = "", draw(resume_tokens)
    return ev.Login(draw(usernames), password, draw(U64), draw(U64), token)


@st.composite
def logins_accepted(draw: st.DrawFn) -> ev.LoginAccepted:
    """A LoginAccepted whose first page holds some or all of ``participant_count``."""
    listed = draw(participants)
    count = draw(st.integers(len(listed), 65_535) | st.just(len(listed)))
    return ev.LoginAccepted(
        draw(usernames), draw(st.booleans()), draw(st.booleans()), draw(U64), listed,
        draw(U64), draw(st.booleans()), count, draw(st.just(b"") | resume_tokens),
    )


EVENT_STRATEGIES: dict[type[ev.Event], st.SearchStrategy[Any]] = {
    ev.Hello: st.builds(ev.Hello, VERSIONS, FRAME_LIMITS, software),
    ev.Login: logins(),
    ev.TransientLogin: st.builds(ev.TransientLogin, usernames, passwords),
    ev.LoginAccepted: logins_accepted(),
    ev.ParticipantList: st.builds(ev.ParticipantList, participants.filter(bool)),
    ev.LoginRejected: st.builds(ev.LoginRejected, tokens, messages),
    ev.Ping: st.builds(ev.Ping, U64),
    ev.Pong: st.builds(ev.Pong, U64),
    ev.Goodbye: st.builds(ev.Goodbye, messages),
    ev.Error: st.builds(ev.Error, tokens, messages),
    ev.SendChat: st.builds(ev.SendChat, texts, recipients, U64),
    ev.ChatMessage: st.builds(ev.ChatMessage, U64, U64, U64, usernames, recipients, texts),
    ev.ChatRejected: st.builds(ev.ChatRejected, U64, tokens, messages),
    ev.Presence: st.builds(ev.Presence, usernames, st.sampled_from(ev.PresenceState), U32),
    ev.FileOffer: st.builds(ev.FileOffer, U64, filenames, FILE_SIZES, SHA256, recipients),
    ev.FileAccepted: st.builds(ev.FileAccepted, U64),
    ev.FileRejected: st.builds(ev.FileRejected, U64, tokens, messages),
    ev.FileChunk: st.builds(ev.FileChunk, U64, U64, chunk_data),
    ev.FileEnd: st.builds(ev.FileEnd, U64),
    ev.FileAvailable: st.builds(ev.FileAvailable, U64, U64, U64, usernames, recipients,
                                filenames, FILE_SIZES, SHA256, U64),
    ev.FetchFile: st.builds(ev.FetchFile, U64, U64),
    ev.FetchRejected: st.builds(ev.FetchRejected, U64, tokens, messages),
    ev.UploadTicket: st.builds(ev.UploadTicket, U64, SHA256, U32),
    ev.CreateRoom: st.builds(ev.CreateRoom, U64, usernames, st.booleans()),
    ev.JoinRoom: st.builds(ev.JoinRoom, U64, usernames),
    ev.LeaveRoom: st.builds(ev.LeaveRoom, U64, usernames),
    ev.InviteToRoom: st.builds(ev.InviteToRoom, U64, usernames, usernames),
    ev.ListRooms: st.builds(ev.ListRooms, U64),
    ev.SearchHistory: st.builds(ev.SearchHistory, U64, queries,
                                st.integers(1, MAX_SEARCH_LIMIT), U64, optional_rooms,
                                optional_usernames),
    ev.RequestDone: st.builds(ev.RequestDone, U64),
    ev.RequestRejected: st.builds(ev.RequestRejected, U64, tokens, messages),
    ev.RoomList: st.builds(ev.RoomList, U64, room_infos, st.booleans()),
    ev.SearchHit: st.builds(ev.SearchHit, U64, U64, U64, usernames, recipients, texts),
    ev.SearchDone: st.builds(ev.SearchDone, U64, st.booleans()),
    ev.Membership: st.builds(ev.Membership, rooms, usernames,
                             st.sampled_from(ev.MembershipState), U32),
}

any_event = st.one_of(*EVENT_STRATEGIES.values())

#: What a logged-in client may receive at any time, with no transfer open.
server_broadcasts = st.one_of(
    EVENT_STRATEGIES[ev.ChatMessage],
    EVENT_STRATEGIES[ev.ChatRejected],
    EVENT_STRATEGIES[ev.Presence],
    EVENT_STRATEGIES[ev.FileAvailable],
    EVENT_STRATEGIES[ev.Ping],
    EVENT_STRATEGIES[ev.Pong],
    EVENT_STRATEGIES[ev.Membership],
)


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random places into non-empty pieces (``b""`` would mean "closed")."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=min(len(data), 40))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
