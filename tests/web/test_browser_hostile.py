"""Hostile text from peers stays text: nothing it holds becomes an element,
runs, opens a dialog or logs an error in the page."""

from __future__ import annotations

from collections.abc import Callable

from chatproto import ChatMessage, SendChat, sanitize_filename
from chatproto.limits import MAX_TEXT_BYTES
from support import RawClient, ServerProcess, upload

from .browser import WebUser
from .conftest import url_of

HOSTILE = [
    '<img src=x onerror="window.__pwned = 1; alert(1)">',
    "<script>window.__pwned = 2; alert(2)</script>",
    '<a href="javascript:window.__pwned = 3; alert(3)">click me</a>',
    "javascript:window.__pwned = 4",
    "<iframe src=\"javascript:alert(5)\"></iframe><svg onload=alert(6)>",
    "<style>body { display: none }</style><b>bold?</b>",
    "&lt;b&gt;entities stay&lt;/b&gt; &amp; &#60;script&#62;",
    "{{constructor.constructor('window.__pwned = 7')()}} ${window.__pwned = 8}",
    "\u202egnp.exe \u2066isolated\u2069 \u200fmark \u061c arabic \u200b zero width",
    "line one\nline two\n\tindented \x07 bell \x1b[2J escape",
    "\ufeffbom \u2028 line separator \u2029 paragraph",
]
#: The longest text a chat may carry (16 KiB of UTF-8): markup all the way.
LONGEST = ("<b>x</b>" * (MAX_TEXT_BYTES // 8))[:MAX_TEXT_BYTES]

#: Nothing a message brings may end up as an element: ``.text`` holds text only.
_INJECTED = """() => ({
    inText: document.querySelectorAll('#transcript .text *').length,
    scripts: document.scripts.length,
    frames: document.querySelectorAll('iframe, object, embed').length,
    pwned: window.__pwned ?? null,
    title: document.title,
    bodyShown: getComputedStyle(document.body).display !== 'none',
})"""


def test_hostile_text_is_shown_as_text(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    alice = browser_user(url_of(web_server))
    alice.login("alice")
    before = alice.page.evaluate(_INJECTED)
    with RawClient.login_as(web_server, "mallory", "pw") as mallory:
        for text in [*HOSTILE, LONGEST]:
            mallory.send(SendChat(text))
            mallory.wait_for(lambda e, t=text: isinstance(e, ChatMessage) and e.text == t)
        mallory.send(SendChat("direct <img src=x onerror=alert(9)>", recipient="alice"))
        for text in HOSTILE:
            line = alice.wait_chat(text)
            assert line.sender == "mallory"
        assert alice.wait_chat(LONGEST).text == LONGEST
        alice.wait_chat("direct <img src=x onerror=alert(9)>", kind="direct")

        # The same through the page: what alice types is sent as typed.
        typed = '<img src=x onerror="window.__pwned = 10">\n<script>alert(11)</script>'
        alice.send(typed)
        event = mallory.wait_for(lambda e: isinstance(e, ChatMessage) and e.sender == "alice")
        assert event.text == typed
        assert alice.wait_chat(typed).own

    after = alice.page.evaluate(_INJECTED)
    assert after["inText"] == 0, after
    assert after["scripts"] == before["scripts"], (before, after)
    assert after["frames"] == 0 and after["pwned"] is None, after
    assert after["title"] == before["title"] and after["bodyShown"], after
    assert alice.dialogs == [], alice.dialogs
    assert alice.console_errors == [], alice.console_errors
    assert alice.page_errors == [], alice.page_errors


def test_hostile_file_names_are_text_and_sanitised_for_saving(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    alice = browser_user(url_of(web_server))
    alice.login("alice")
    names = [
        '<img src=x onerror="window.__pwned = 20">.txt',
        "..\\..\\windows\\evil\u202etxt.exe",
        '../../etc/"quoted" name.sh',
    ]
    with RawClient.login_as(web_server, "mallory", "pw") as mallory:
        for index, name in enumerate(names, start=1):
            upload(mallory, b"payload %d" % index, name=name, upload_id=index)
    for name in names:
        safe = sanitize_filename(name)
        line = alice.file_line(safe)
        assert line.locator(".text *").count() == 0
        assert line.locator("img, script, iframe").count() == 0
    after = alice.page.evaluate(_INJECTED)
    assert after["pwned"] is None and after["inText"] == 0, after
    assert alice.dialogs == [] and alice.console_errors == [], (alice.dialogs,
                                                                alice.console_errors)


def test_a_text_over_the_limit_is_refused_by_the_page_and_it_goes_on(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    alice = browser_user(url_of(web_server))
    alice.login("alice")
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        alice.send("\u00e9" * 32_768)  # 64 KiB of UTF-8: four times the limit
        alice.send("short one")
        event = bob.wait_for(ChatMessage)
        assert (event.sender, event.text) == ("alice", "short one")
        alice.wait_chat("short one")
        alice.page.locator('#status[data-state="connected"]').wait_for(state="attached")
    assert alice.page_errors == [] and alice.dialogs == []
