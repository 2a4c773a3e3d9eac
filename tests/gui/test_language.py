"""English by default, Korean (the original's wording) under a Korean locale."""

from __future__ import annotations

import gettext
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatproto import Presence, PresenceState
from frontends.gui import i18n
from frontends.gui.lines import presence_line
from support import RawClient

from .driver import GuiClient, wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPILER = ROOT / "scripts" / "compile_catalogs.py"


def _compiler():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("compile_catalogs", COMPILER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def korean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    i18n.use_languages(None)  # from the environment, as at start-up
    yield
    i18n.use_languages(["en"])


def test_compiled_catalogs_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(COMPILER), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_string_of_the_gui_is_translated_to_korean() -> None:
    compiler = _compiler()
    po = i18n.LOCALE_DIR / "ko" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    catalog = compiler.parse_po(po.read_text(encoding="utf-8"))
    missing = [m for m in compiler.extract_messages() if m not in catalog]
    assert missing == []


def test_compiler_output_is_what_gettext_reads(tmp_path: Path) -> None:
    compiler = _compiler()
    po_text = '\n'.join([
        'msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"', '',
        'msgid "a \\"quoted\\"\\n"', 'msgstr "ㄱ \\"인용\\"\\n"', '',
        '#, fuzzy', 'msgid "fuzzy one"', 'msgstr "ignored"', '',
        'msgid "{n} file"', 'msgid_plural "{n} files"', 'msgstr[0] "one"', 'msgstr[1] "many"',
        '', 'msgid "long"', 'msgstr ""', '"joined "', '"string"', '',
    ])
    mo = tmp_path / "t.mo"
    mo.write_bytes(compiler.make_mo(compiler.parse_po(po_text)))
    with mo.open("rb") as stream:
        translations = gettext.GNUTranslations(stream)
    assert translations.gettext('a "quoted"\n') == 'ㄱ "인용"\n'
    assert translations.gettext("fuzzy one") == "fuzzy one"
    assert translations.ngettext("{n} file", "{n} files", 1) == "one"
    assert translations.ngettext("{n} file", "{n} files", 5) == "many"
    assert translations.gettext("long") == "joined string"


def test_english_is_the_default(english: None) -> None:
    line = presence_line(Presence("개구리", PresenceState.JOINED, 2))
    assert line[1][0] == "*** 개구리 has entered (2 participants)"


def test_korean_presence_lines(korean: None) -> None:
    def text(state: PresenceState) -> str:
        return presence_line(Presence("개구리", state, 3))[1][0]

    assert text(PresenceState.JOINED) == "*** 개구리님이 입장하셨습니다 (대화 참여자 3명)"
    assert text(PresenceState.LEFT) == "*** [개구리] 접속종료중 (대화 참여자 3명)"
    assert text(PresenceState.DEACTIVATED) == "*** 개구리 이 비활성되었습니다 (대화 참여자 3명)"
    assert text(PresenceState.REJOINED) == "*** 개구리님이 재입장하셨습니다 (대화 참여자 3명)"


def test_korean_login_window_and_id_in_use_dialog(
    display: str, korean: None, chat_server, tmp_path: Path
) -> None:
    client = GuiClient(tmp_path / "cfg", tmp_path / "dl")
    try:
        view = client.app.login_view
        assert view is not None
        assert view.login_button.cget("text") == "로그인"
        assert view.cancel_button.cget("text") == "취소"
        with RawClient.login_as(chat_server, "개구리", "pw"):
            client.fill_login(chat_server.host, chat_server.port, "개구리", "pw")
            view.login_button.invoke()
            wait_until(client.dialogs, what="the refusal dialog")
            (dialog,) = client.dialogs()
            assert dialog.message == "이미 존재하는 아이디입니다"
            dialog.buttons["확인"].invoke()
    finally:
        client.destroy()



def _picker_texts(client: GuiClient) -> dict[str, str]:
    """Open the real file picker with the File button, read its labels and
    cancel it, as a user would; it is closed by the deadline whatever happens."""
    import time

    from .driver import FILE_DIALOG, TIMEOUT

    tcl = client.root.tk
    seen: dict[str, str] = {}
    deadline = time.monotonic() + TIMEOUT

    def read_and_cancel() -> None:
        shown = bool(tcl.getboolean(tcl.call("winfo", "exists", FILE_DIALOG))) and bool(
            tcl.getboolean(tcl.call("winfo", "ismapped", FILE_DIALOG)))
        if not shown:
            if time.monotonic() < deadline:
                client.root.after(20, read_and_cancel)
            return
        for part in ("ok", "cancel"):
            seen[part] = str(tcl.call(f"{FILE_DIALOG}.contents.f2.{part}", "cget", "-text"))
        seen["title"] = str(tcl.call("wm", "title", FILE_DIALOG))
        tcl.call(f"{FILE_DIALOG}.contents.f2.cancel", "invoke")

    client.root.after(20, read_and_cancel)
    client.chat.file_button.invoke()  # returns when the picker has closed
    return seen


def test_korean_sizes_goodbye_reasons_and_file_picker(
    display: str, korean: None, tmp_path: Path
) -> None:
    from support import running_server, upload

    client = GuiClient(tmp_path / "cfg", tmp_path / "dl")
    try:
        with running_server(tmp_path / "data", scrypt_n=2**10) as server:
            client.login(server.host, server.port, "개구리")
            with RawClient.login_as(server, "두꺼비", "pw") as toad:
                upload(toad, b"x" * 17, name="memo.txt")
                client.wait_for_text("memo.txt")
            line = next(x for x in client.transcript().splitlines() if "memo.txt" in x)
            assert "(17바이트)" in line and "bytes" not in line

            # Tk ships no Korean messages: its picker gets ours.
            texts = _picker_texts(client)
            assert texts == {"ok": "열기(O)", "cancel": "취소(C)", "title": "파일 보내기"}
        # The server stopped: its goodbye is told in Korean, not quoted in English.
        client.wait_for_text(
            "서버와의 연결이 끊어졌습니다: 서버가 종료되거나 다시 시작되는 중입니다")
        assert "said goodbye" not in client.transcript()
        assert "shutting down" not in client.transcript()
    finally:
        client.destroy()
