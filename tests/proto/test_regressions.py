"""Regression tests for the framing defects of the original student program.

The original sent raw strings and assumed one send() arrived as one recv(). Each
test below replays one of its bugs against the protocol layer.
"""

from __future__ import annotations

import hashlib

import pytest

from chatproto import (
    NEED_DATA,
    ErrorCode,
    LocalProtocolError,
    RemoteProtocolError,
    ServerConnection,
    State,
    encode_event,
    username_problem,
    wire,
)
from chatproto import events as ev
from chatproto.limits import HEADER_SIZE, MAX_TEXT_BYTES, PROTOCOL_VERSION
from chatproto.wire import HEADER

from .support import drain, feed, logged_in_pair, transmit

KOREAN = "안녕하세요 여러분, 개구리입니다. "


def test_header_and_body_merged_in_one_read() -> None:
    client, _ = logged_in_pair()
    frames = [ev.ChatMessage(i, 0, 0, "bob", None, f"msg {i}") for i in range(1, 4)]
    assert feed(client, [b"".join(encode_event(f) for f in frames)]) == frames


def test_header_split_across_reads() -> None:
    client, _ = logged_in_pair()
    frame = encode_event(ev.ChatMessage(1, 0, 0, "bob", None, "hi"))
    for cut in range(1, HEADER_SIZE):
        client, _ = logged_in_pair()
        client.receive_data(frame[:cut])
        assert client.next_event() is NEED_DATA
        assert feed(client, [frame[cut:]]) == [ev.ChatMessage(1, 0, 0, "bob", None, "hi")]


def test_end_of_one_frame_and_start_of_the_next_in_one_read() -> None:
    client, _ = logged_in_pair()
    a = encode_event(ev.ChatMessage(1, 0, 0, "bob", None, "first"))
    b = encode_event(ev.ChatMessage(2, 0, 0, "bob", None, "second"))
    stream = a + b
    got = feed(client, [stream[:7], stream[7 : len(a) + 3], stream[len(a) + 3 :]])
    assert [e.text for e in got if isinstance(e, ev.ChatMessage)] == ["first", "second"]


@pytest.mark.parametrize("text", ["x" * 1025, KOREAN * 200, "가" * (MAX_TEXT_BYTES // 3)])
def test_messages_over_1024_bytes_arrive_whole(text: str) -> None:
    client, server = logged_in_pair()
    assert len(text.encode()) > 1024
    sent = ev.ChatMessage(1, 0, 0, "bob", None, text)
    data = server.send(sent)
    assert feed(client, [data[i : i + 1024] for i in range(0, len(data), 1024)]) == [sent]


def test_a_cut_inside_a_multibyte_character_keeps_the_connection() -> None:
    client, server = logged_in_pair()
    sent = ev.SendChat("개구리 " * 300)
    data = client.send(sent)
    text_start = len(data) - len(sent.text.encode())
    cuts = [text_start + 1, text_start + 2, text_start + 1025]  # inside "개" (3 bytes), etc.
    pieces = [data[: cuts[0]], data[cuts[0] : cuts[1]], data[cuts[1] : cuts[2]], data[cuts[2] :]]
    assert feed(server, pieces) == [sent]
    assert server.our_state is State.ACTIVE
    assert transmit(client, server, ev.SendChat("still here")) == ev.SendChat("still here")


def test_file_bytes_are_counted_not_reads_and_leftovers_are_the_next_frame() -> None:
    client, server = logged_in_pair()
    content = bytes(range(256)) * 40
    offer = ev.FileOffer(1, "a,b.bin", len(content), hashlib.sha256(content).digest())
    transmit(client, server, offer)
    transmit(server, client, ev.FileAccepted(1))
    stream = b"".join(client.send(ev.FileChunk(1, off, content[off : off + 1000]))
                      for off in range(0, len(content), 1000))
    stream += client.send(ev.FileEnd(1)) + client.send(ev.SendChat("after the file"))
    # Reads of a size that matches nothing in the stream.
    got = feed(server, [stream[i : i + 777] for i in range(0, len(stream), 777)])
    chunks = [e for e in got if isinstance(e, ev.FileChunk)]
    assert b"".join(c.data for c in chunks) == content
    assert got[-2:] == [ev.FileEnd(1), ev.SendChat("after the file")]


def test_a_negative_or_oversized_size_cannot_be_sent() -> None:
    client, _ = logged_in_pair()
    for size in (-1, 2**64):
        with pytest.raises(LocalProtocolError):
            client.send(ev.FileOffer(1, "x", size, bytes(32)))
    assert client.our_state is State.ACTIVE  # an invalid field is refused, nothing broke


def test_a_false_size_is_a_protocol_error_not_a_desync() -> None:
    client, server = logged_in_pair()
    transmit(client, server, ev.FileOffer(1, "x", 3, bytes(32)))
    transmit(server, client, ev.FileAccepted(1))
    # The peer announced 3 bytes but sends 4: the receiver refuses the chunk.
    server.receive_data(encode_event(ev.FileChunk(1, 0, b"abcd")))
    with pytest.raises(RemoteProtocolError) as info:
        server.next_event()
    assert info.value.code == ErrorCode.INVALID_FIELD


def test_ending_before_the_announced_size_is_a_protocol_error() -> None:
    client, server = logged_in_pair()
    transmit(client, server, ev.FileOffer(1, "x", 3, bytes(32)))
    transmit(server, client, ev.FileAccepted(1))
    transmit(client, server, ev.FileChunk(1, 0, b"ab"))
    server.receive_data(encode_event(ev.FileEnd(1)))
    with pytest.raises(RemoteProtocolError):
        server.next_event()


def test_a_length_field_larger_than_the_frame_is_malformed() -> None:
    _, server = logged_in_pair()
    good = encode_event(ev.SendChat("hello"))
    bad = bytearray(good)
    bad[HEADER_SIZE + 9 : HEADER_SIZE + 13] = (99).to_bytes(4, "big")  # text length 99, not 5
    server.receive_data(bytes(bad))
    with pytest.raises(RemoteProtocolError) as info:
        server.next_event()
    assert info.value.code == ErrorCode.MALFORMED


def test_a_frame_cut_by_the_end_of_the_stream_is_truncated() -> None:
    _, server = logged_in_pair()
    server.receive_data(encode_event(ev.SendChat("hello"))[:-2])
    assert server.next_event() is NEED_DATA
    server.receive_data(b"")
    with pytest.raises(RemoteProtocolError) as info:
        server.next_event()
    assert info.value.code == ErrorCode.TRUNCATED


def test_a_file_name_with_a_comma_is_kept_whole() -> None:
    client, server = logged_in_pair()
    offer = ev.FileOffer(1, "report, final, v2.txt", 0, hashlib.sha256().digest())
    assert transmit(client, server, offer).name == "report, final, v2.txt"  # type: ignore[attr-defined]


def test_newlines_are_data_and_cannot_forge_a_second_message() -> None:
    client, server = logged_in_pair()
    text = "hello\n[bob] I owe alice money\r\nbob: really\n"
    events = feed(client, [server.send(ev.ChatMessage(5, 0, 0, "mallory", None, text))])
    assert events == [ev.ChatMessage(5, 0, 0, "mallory", None, text)]


def test_a_user_name_with_a_slash_arrives_as_data_for_the_server_to_refuse() -> None:
    """The original split 'id/password' on '/'; a name with a slash crashed its accept loop.

    Here the name is a length-prefixed field: a slash in it or in the password cannot shift
    anything. The name in a Login is only length-checked on the wire so that the server can
    answer ``LoginRejected(invalid-name)`` (tested end to end in tests/server) instead of
    breaking the connection; ``username_problem`` is the rule it applies."""
    assert encode_event(ev.Login("bob", "pa/ss/word"))  # slashes in passwords are fine
    server = ServerConnection()
    hello = encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576))
    login = bytearray(encode_event(ev.Login("abc", "pw")))
    name_at = HEADER_SIZE + wire.LAYOUT_BY_CLASS[ev.Login].fixed_size
    login[name_at + 1] = ord("/")  # username "a/c" on the wire
    assert feed(server, [hello])[0] == ev.Hello(PROTOCOL_VERSION, 1_048_576)
    server.send(server.hello())
    server.receive_data(bytes(login))
    event = server.next_event()
    assert event == ev.Login("a/c", "pw")
    assert username_problem("a/c") is not None
    server.send(ev.LoginRejected("invalid-name", "invalid user name"))


def test_a_name_in_any_other_field_is_still_checked_on_the_wire() -> None:
    with pytest.raises(LocalProtocolError):
        encode_event(ev.SendChat("hi", recipient="a/b"))
    client, server = logged_in_pair()
    frame = bytearray(server.send(ev.Presence("abc", ev.PresenceState.JOINED, 1)))
    frame[-2] = ord("/")  # user "a/c"
    client.receive_data(bytes(frame))
    with pytest.raises(RemoteProtocolError) as info:
        client.next_event()
    assert info.value.code == ErrorCode.INVALID_FIELD


def test_a_peer_that_sends_nothing_blocks_nothing() -> None:
    server = ServerConnection()
    assert server.next_event() is NEED_DATA
    server.receive_data(HEADER.pack(0x01, 16)[:3])
    assert server.next_event() is NEED_DATA  # the caller is never blocked by the core


def test_a_cleanly_closed_peer_is_reported_once_and_for_all() -> None:
    """The original spun at 100% CPU on recv() == b''; here the close is an event."""
    client, server = logged_in_pair()
    server.receive_data(client.send(ev.Goodbye("bye")))
    server.receive_data(b"")
    assert drain(server) == [ev.Goodbye("bye"), ev.ConnectionClosed(clean=True)]
    assert server.next_event() == ev.ConnectionClosed(clean=True)
    with pytest.raises(LocalProtocolError):
        server.receive_data(b"more")


def test_an_unclean_close_is_reported_as_such() -> None:
    _, server = logged_in_pair()
    server.receive_data(b"")
    assert server.next_event() == ev.ConnectionClosed(clean=False)
