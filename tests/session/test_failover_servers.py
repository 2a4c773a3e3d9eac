"""Issue 18, client failover: reading a list of servers (``--host a:9000,b:9000``).

Pure functions, so hypothesis drives them: a formatted list reads back equal,
and no text at all makes them raise anything but ``ServerListError``."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatproto.session import (
    MAX_SERVERS,
    ServerAddress,
    ServerListError,
    format_servers,
    parse_servers,
)
from chatproto.session.servers import after, rotation

_LABEL = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?", fullmatch=True)
_NAMES = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_V4 = st.ip_addresses(v=4).map(str)
_V6 = st.ip_addresses(v=6).map(str)
_SERVER = st.builds(ServerAddress, st.one_of(_NAMES, _V4, _V6), st.integers(1, 65535))


@given(st.lists(_SERVER, min_size=1, max_size=MAX_SERVERS, unique=True), st.integers(1, 65535))
def test_a_formatted_list_reads_back_equal(
    servers: list[ServerAddress], default_port: int
) -> None:
    assert parse_servers(format_servers(servers), default_port) == tuple(servers)


@given(st.text(max_size=300), st.integers(-5, 70000))
def test_any_text_is_a_list_or_one_error(text: str, default_port: int) -> None:
    try:
        servers = parse_servers(text, default_port)
    except ServerListError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert 1 <= len(servers) <= MAX_SERVERS
        assert all(1 <= s.port <= 65535 and s.host for s in servers)


@given(st.text(alphabet=st.sampled_from("ab1:[],. 9"), max_size=60))
def test_text_made_of_the_separators_is_a_list_or_one_error(text: str) -> None:
    with contextlib.suppress(ServerListError):
        assert parse_servers(text, 9000)


def test_the_forms_of_one_server() -> None:
    assert parse_servers("chat.example", 9000) == (ServerAddress("chat.example", 9000),)
    assert parse_servers(" a:9001 , b ", 9000) == (
        ServerAddress("a", 9001), ServerAddress("b", 9000))
    assert parse_servers("[::1]:9100,[fe80::1],::2", 9000) == (
        ServerAddress("::1", 9100), ServerAddress("fe80::1", 9000), ServerAddress("::2", 9000))
    assert parse_servers("a:9000,a:9000,b", 9000) == (
        ServerAddress("a", 9000), ServerAddress("b", 9000))
    assert str(ServerAddress("::1", 9000)) == "[::1]:9000"


@pytest.mark.parametrize(("text", "says"), [
    ("", "no server"),
    ("a,,b", "empty server"),
    ("a,", "empty server"),
    ("a:", "bad port"),
    ("a:0", "bad port"),
    ("a:65536", "bad port"),
    ("a:x", "bad port"),
    ("a:٣", "bad port"),
    (":9000", "no host"),
    ("[::1", "missing ']'"),
    ("[x]:9000", "not an IPv6"),
    ("[::1]x", "unexpected text"),
    ("a:b:c", "bad server"),
    ("a b", "bad host"),
    (",".join(f"h{n}" for n in range(MAX_SERVERS + 1)), "too many servers"),
])
def test_bad_lists_are_refused_in_one_line(text: str, says: str) -> None:
    with pytest.raises(ServerListError, match=says):
        parse_servers(text, 9000)


def test_after_a_loss_the_next_server_comes_first_and_the_lost_one_last() -> None:
    a, b, c = (ServerAddress(h, 9000) for h in "abc")
    servers = (a, b, c)
    assert rotation(servers, after(servers, b)) == (c, a, b)
    assert rotation(servers, after(servers, c)) == (a, b, c)
    assert rotation(servers, after(servers, None)) == (a, b, c)
    assert rotation(servers, after(servers, ServerAddress("z", 1))) == (a, b, c)
