"""Issue 15: rooms and search through the real chat-cli against the real chat-server.

Every command runs as its own process, logged in transiently as ``send`` is;
a ``listen`` process shows what the room's members see.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from chatproto.session import NO_TLS, AsyncSession
from frontends.cli import ExitCode
from support import ServerProcess, server_command

from .clitools import TIMEOUT, Listener, run_cli


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: ExitCode) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def rooms_of(server: ServerProcess, user: str, home: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(ok(run_cli(server, user, "rooms", "--json", home=home)))
    return {row["room"]: row for row in rows}


def register(server: ServerProcess, home: Path, *users: str) -> None:
    for user in users:
        ok(run_cli(server, user, "users", home=home))


def test_create_join_send_leave_and_their_refusals(server_proc: ServerProcess,
                                                   home: Path) -> None:
    register(server_proc, home, "frog", "toad")
    ok(run_cli(server_proc, "frog", "create", "dev", home=home))
    assert rooms_of(server_proc, "frog", home)["dev"] == {
        "room": "dev", "members": 1, "private": False, "member": True}
    assert rooms_of(server_proc, "toad", home)["dev"]["member"] is False

    with Listener(server_proc, "toad", home=home) as toad:
        toad.wait_line(lambda line: "* toad joined" in line)
        # Not a member yet: a send to the room is refused as not ours.
        line = refused(run_cli(server_proc, "toad", "send", "--room", "dev", "hi", home=home),
                       ExitCode.NOT_MEMBER)
        assert "not-member" in line
        ok(run_cli(server_proc, "toad", "join", "dev", home=home))
        assert toad.wait_line(lambda line: "#dev *" in line).endswith(
            "#dev * toad joined (2 members)")
        ok(run_cli(server_proc, "frog", "send", "--room", "Dev", "hello room", home=home))
        assert toad.wait_line(lambda line: "hello room" in line).endswith(
            "] #dev <frog> hello room")
        ok(run_cli(server_proc, "frog", "send", "hello all", home=home))
        assert toad.wait_line(lambda line: "hello all" in line).endswith("] <frog> hello all")
        ok(run_cli(server_proc, "frog", "send", "--room", "general", "again", home=home))
        assert toad.wait_line(lambda line: "again" in line).endswith("] <frog> again")
        (home / "notes.txt").write_text("room file\n")
        ok(run_cli(server_proc, "frog", "send-file", "--room", "dev", "notes.txt", home=home))
        assert "(in #dev)" in toad.wait_line(lambda line: "notes.txt" in line)
        ok(run_cli(server_proc, "frog", "leave", "dev", home=home))
        assert toad.wait_line(lambda line: "#dev *" in line).endswith(
            "#dev * frog left (1 member)")

    cases = [
        (("create", "DEV"), ExitCode.ALREADY, "already-exists"),
        (("join", "nowhere"), ExitCode.NOT_FOUND, "not-found"),
        (("leave", "general"), ExitCode.REQUEST_REFUSED, "cannot-leave-general"),
        (("leave", "dev"), ExitCode.NOT_MEMBER, "not-member"),
        (("send", "--room", "nowhere", "hi"), ExitCode.NOT_FOUND, "not-found"),
        (("invite", "dev", "toad"), ExitCode.NOT_MEMBER, "not-member"),
    ]
    for args, code, reason in cases:
        line = refused(run_cli(server_proc, "frog", *args, home=home), code)
        assert line.startswith("chat-cli: ") and reason in line, (args, line)
    line = refused(run_cli(server_proc, "toad", "join", "dev", home=home), ExitCode.ALREADY)
    assert "already-member" in line


def test_private_rooms_and_invitations(server_proc: ServerProcess, home: Path) -> None:
    register(server_proc, home, "frog", "toad")
    ok(run_cli(server_proc, "frog", "create", "lab", "--private", home=home))
    assert rooms_of(server_proc, "frog", home)["lab"]["private"] is True
    assert "lab" not in rooms_of(server_proc, "toad", home)
    refused(run_cli(server_proc, "toad", "join", "lab", home=home), ExitCode.NOT_FOUND)
    refused(run_cli(server_proc, "frog", "invite", "lab", "nobody", home=home),
            ExitCode.REQUEST_REFUSED)
    ok(run_cli(server_proc, "frog", "invite", "lab", "toad", home=home))
    assert rooms_of(server_proc, "toad", home)["lab"] == {
        "room": "lab", "members": 2, "private": True, "member": True}
    text = ok(run_cli(server_proc, "toad", "rooms", home=home))
    assert any(line.startswith("#lab") and "2 members" in line and "private" in line
               and "you are a member" in line for line in text.splitlines()), text


def test_listen_json_has_rooms_and_members(server_proc: ServerProcess, home: Path) -> None:
    register(server_proc, home, "frog", "toad")
    ok(run_cli(server_proc, "frog", "create", "dev", home=home))
    with Listener(server_proc, "toad", "--json", home=home) as toad:
        toad.wait_json(lambda r: r["type"] == "presence" and r["user"] == "toad")
        ok(run_cli(server_proc, "frog", "invite", "dev", "toad", home=home))
        member = toad.wait_json(lambda r: r["type"] == "member")
        assert {k: member[k] for k in ("room", "user", "state", "members")} == {
            "room": "dev", "user": "toad", "state": "joined", "members": 2}
        for args in (("--room", "dev", "in dev"), ("in general",), ("--to", "toad", "dm")):
            ok(run_cli(server_proc, "frog", "send", *args, home=home))
        seen = [toad.wait_json(lambda r: r["type"] == "chat") for _ in range(3)]
        assert [(r["room"], r["to"], r["text"]) for r in seen] == [
            ("dev", None, "in dev"), ("general", None, "in general"), (None, "toad", "dm")]


def _send_many(server: ServerProcess, texts: list[str], room: str | None = None) -> None:
    async def main() -> None:
        async with await AsyncSession.connect(server.host, server.port, "frog", "pw",
                                              tls=NO_TLS, transient=True,
                                              keep_events=False) as frog:
            for text in texts:
                await frog.send_chat(text, room=room)

    asyncio.run(asyncio.wait_for(main(), 120))


def test_search_newest_first_narrowed_and_paged(server_proc: ServerProcess, home: Path) -> None:
    register(server_proc, home, "frog", "toad")
    ok(run_cli(server_proc, "frog", "create", "dev", home=home))
    _send_many(server_proc, [f"needle {i}" for i in range(130)])
    _send_many(server_proc, ["안녕하세요 여러분", "needle in dev"], room="dev")
    ok(run_cli(server_proc, "toad", "send", "Needle from toad", home=home))

    hits = json.loads(ok(run_cli(server_proc, "frog", "search", "needle", "--limit", "150",
                                 "--json", home=home)))
    assert len(hits) == 132  # every match: more than one request's 100
    seqs = [hit["seq"] for hit in hits]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    assert (hits[0]["from"], hits[0]["room"]) == ("toad", "general")
    assert hits[1]["room"] == "dev" and hits[1]["text"] == "needle in dev"

    in_dev = json.loads(ok(run_cli(server_proc, "frog", "search", "needle", "--room", "dev",
                                   "--json", home=home)))
    assert [hit["text"] for hit in in_dev] == ["needle in dev"]
    by_toad = json.loads(ok(run_cli(server_proc, "frog", "search", "needle", "--from", "toad",
                                    "--json", home=home)))
    assert [hit["text"] for hit in by_toad] == ["Needle from toad"]
    korean = ok(run_cli(server_proc, "frog", "search", "안녕", home=home))
    assert "#dev <frog> 안녕하세요 여러분" in korean and "(seq " in korean
    # toad is not in dev: its messages are not for toad's eyes.
    assert "needle in dev" not in ok(run_cli(server_proc, "toad", "search", "needle",
                                             "--limit", "200", home=home))
    few = run_cli(server_proc, "frog", "search", "needle", "--limit", "3", home=home)
    assert len(ok(few).splitlines()) == 3 and "older results exist" in few.stderr
    refused(run_cli(server_proc, "frog", "search", "hi", "--room", "nowhere", home=home),
            ExitCode.NOT_FOUND)
    refused(run_cli(server_proc, "frog", "search", "!!!", home=home), ExitCode.REQUEST_REFUSED)


def _admin(server: ServerProcess, data_dir: Path, *args: str) -> None:
    done = subprocess.run(server_command("admin", *args, "--data-dir", str(data_dir)),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr


def test_a_disabled_account_ends_listen_and_is_told_at_login(
    server_proc: ServerProcess, home: Path, data_dir: Path
) -> None:
    register(server_proc, home, "toad")
    with Listener(server_proc, "toad", home=home) as toad:
        toad.wait_line(lambda line: "* toad joined" in line)
        _admin(server_proc, data_dir, "disable", "toad")
        assert toad.proc.wait(TIMEOUT) == ExitCode.ACCOUNT_DISABLED
        errors = toad.stderr_after_exit()
        assert any("your account was disabled" in line for line in errors), errors
        assert not any("reconnecting" in line for line in errors), errors
    line = refused(run_cli(server_proc, "toad", "send", "hi", home=home),
                   ExitCode.ACCOUNT_DISABLED)
    assert "the account 'toad' is disabled" in line
    _admin(server_proc, data_dir, "delete-user", "toad")
    line = refused(run_cli(server_proc, "toad", "send", "hi", home=home),
                   ExitCode.LOGIN_REFUSED)
    assert "belonged to a deleted account" in line
