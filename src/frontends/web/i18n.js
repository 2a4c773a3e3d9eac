// The page's words in English and Korean, chosen by navigator.languages.
//
// Message ids are the English texts, as in the GUI's gettext catalog
// (src/frontends/gui/locale/ko/LC_MESSAGES/lanchat-gui.po): the Korean of every
// phrase the GUI also shows is copied from there, so both clients say the same.
"use strict";

const KO = {
  // -- login (the GUI's words) --
  "LAN chat": "LAN 채팅",
  "LAN chat \u2014 login": "LAN 채팅 \u2014 로그인",
  "ID": "아이디",
  "Password": "비밀번호",
  "Login": "로그인",
  "Please enter your ID.": "아이디를 입력하세요.",
  "Please enter your password.": "비밀번호를 입력하세요.",
  "An ID may contain only letters, digits, '_' and '-' (at most 32); accents are fine, mixing alphabets is not.":
    "아이디에는 문자, 숫자, '_', '-'만 쓸 수 있습니다 (최대 32자). 악센트는 괜찮지만 여러 문자 체계를 섞을 수는 없습니다.",
  // The GUI's refusals, made one sentence each (the page's form shows one).
  "This ID is already active on another connection.": "이 아이디는 이미 다른 곳에서 접속 중입니다.",
  "Wrong password for this ID.": "비밀번호가 틀렸습니다",
  "Too many login attempts: wait a minute, then try again.":
    "로그인 시도가 너무 많으니 잠시 후 다시 시도하세요.",
  "The server is full: try again later.": "서버가 가득 찼으니 나중에 다시 시도하세요.",
  "This ID has been disabled by the server's administrator; ask them to enable it again.":
    "이 아이디는 서버 관리자가 비활성화했으니 관리자에게 다시 활성화해 달라고 요청하세요.",
  "This ID belonged to a deleted account and nobody can take it yet: choose another one.":
    "이 아이디는 삭제된 계정의 것이라 아직 아무도 쓸 수 없으니 다른 아이디를 고르세요.",
  "Login failed: {reason}": "로그인하지 못했습니다: {reason}",
  "Connecting to {server}:{port}\u2026": "{server}:{port}에 연결하는 중\u2026",
  "Connected WITHOUT encryption: passwords and messages cross the network in clear.":
    "암호화 없이 연결되었습니다: 비밀번호와 메시지가 그대로 네트워크를 지나갑니다.",
  "Encrypted connection (TLS)": "암호화 연결 (TLS)",
  // -- login (the page's own) --
  "Log in": "로그인",
  "Log out": "로그아웃",
  "The first login with a new ID registers it with this password.":
    "새 아이디로 처음 로그인하면 이 비밀번호로 아이디가 등록됩니다.",
  "The server cannot be reached: check that it is running, then try again.":
    "서버에 연결할 수 없으니 서버가 실행 중인지 확인한 뒤 다시 시도하세요.",
  "Your session has ended: please log in again.": "접속이 끝났습니다. 다시 로그인하세요.",
  "The password is too long (at most 1024 bytes).": "비밀번호가 너무 깁니다 (최대 1024바이트).",
  // -- connection (the GUI's words) --
  "Connection to the server lost: {reason}": "서버와의 연결이 끊어졌습니다: {reason}",
  "Reconnecting\u2026": "다시 연결하는 중\u2026",
  "Reconnected.": "다시 연결되었습니다.",
  "Reconnect": "다시 연결",
  "The server's message history was reset or replaced since your last visit: everything it has for you is shown again from the start.":
    "지난 접속 이후 서버의 대화 기록이 초기화되었거나 바뀌었습니다. 받을 수 있는 기록을 처음부터 다시 보여 줍니다.",
  "the server is shutting down or restarting": "서버가 종료되거나 다시 시작되는 중입니다",
  "the connection was lost": "연결이 끊어졌습니다",
  "the connection timed out": "연결 시간이 초과되었습니다",
  "this client fell too far behind the server": "이 프로그램이 서버를 따라가지 못했습니다",
  "an error on the server": "서버에 오류가 발생했습니다",
  "the server has too many connections": "서버의 접속자가 너무 많습니다",
  "an error in this program": "이 프로그램에 오류가 발생했습니다",
  "the server ended the session (\u201c{text}\u201d)": "서버가 접속을 끝냈습니다 (\u201c{text}\u201d)",
  "the server and this program did not understand each other ({code})":
    "서버와 이 프로그램이 서로의 메시지를 이해하지 못했습니다 ({code})",
  "the server's administrator disabled your account": "서버 관리자가 계정을 비활성화했습니다",
  "the server's administrator deleted your account": "서버 관리자가 계정을 삭제했습니다",
  "Not connected: nothing was sent.": "연결되어 있지 않습니다. 아무것도 보내지 않았습니다.",
  // -- connection (the page's own) --
  "Connected as {user}": "{user}(으)로 연결됨",
  "Reconnecting in {seconds} s\u2026": "{seconds}초 후에 다시 연결합니다\u2026",
  // -- chat (the GUI's words) --
  "Everyone": "모두",
  "Send": "보내기",
  "File\u2026": "파일\u2026",
  "To:": "받는 사람:",
  "Message": "메시지",
  "Message not sent: {reason}": "메시지를 보내지 못했습니다: {reason}",
  "File not sent: {reason}": "파일을 보내지 못했습니다: {reason}",
  "{sender} \u2192 {recipient} (direct)": "{sender} \u2192 {recipient} (귓속말)",
  "sent the file {name} ({size})": "파일 {name} ({size})을(를) 보냈습니다",
  // The GUI says "has entered" and "has re-entered"; the page says joined and
  // rejoined, the protocol's words, with the GUI's Korean.
  "{user} has joined": "{user}님이 입장하셨습니다",
  "{user} has left": "[{user}] 접속종료중",
  "{user} was deactivated": "{user} 이 비활성되었습니다",
  "{user} has rejoined": "{user}님이 재입장하셨습니다",
  "active": "접속 중",
  "deactivated": "비활성",
  "unknown": "알 수 없음",
  "Participants: unknown": "참여자: 알 수 없음",
  "Alert on new messages": "새 메시지 알림",
  "done": "완료",
  "failed": "실패",
  "Downloads": "다운로드",
  "Download": "다운로드",
  // -- chat (the page's own) --
  "Participants": "참여자",
  "Direct messages": "귓속말",
  "(you)": "(나)",
  "Drop files here to send them.": "여기에 파일을 놓으면 보냅니다.",
  "Checking\u2026": "확인하는 중\u2026",
  "Sending\u2026": "보내는 중\u2026",
  "Waiting\u2026": "기다리는 중\u2026",
  "the message is too long": "메시지가 너무 깁니다",
  "you are sending too fast; wait a moment": "너무 빨리 보내고 있습니다. 잠시 기다리세요",
  "the file is larger than the server accepts": "파일이 서버가 받는 크기보다 큽니다",
  "nothing usable is left of the file name": "쓸 수 있는 파일 이름이 남지 않았습니다",
  "the server has no room left for the file": "서버에 파일을 저장할 공간이 없습니다",
  "the file changed or was damaged on the way": "파일이 전송 중에 바뀌었거나 손상되었습니다",
  "the upload was refused (HTTP {status})": "업로드가 거부되었습니다 (HTTP {status})",
  "the upload was interrupted": "업로드가 중단되었습니다",
  "the file could not be read": "파일을 읽을 수 없습니다",
  "{name} is not shown: its bytes do not match the server's checksum":
    "{name}: 서버의 체크섬과 맞지 않아 표시하지 않았습니다",
  "Desktop notifications": "데스크톱 알림",
  "The browser blocks notifications from this page.": "브라우저가 이 페이지의 알림을 막았습니다.",
  "Show the conversations": "대화 목록 보기",
  "Show the participants": "참여자 보기",
  "New messages": "새 메시지",
  "{user} sent a file": "{user}님이 파일을 보냈습니다",
  "not a member": "멤버 아님",
  // -- rooms (the GUI's words) --
  "there is no such room (or it is private)": "그런 방이 없습니다(또는 비공개 방입니다)",
  "a room with that name exists already": "같은 이름의 방이 이미 있습니다",
  "a room name may contain only letters, digits, '_' and '-' (at most 32)":
    "방 이름에는 글자, 숫자, '_', '-'만 쓸 수 있습니다(최대 32자)",
  "you are not a member of that room": "그 방의 멤버가 아닙니다",
  "already a member of that room": "이미 그 방의 멤버입니다",
  "nobody can leave general": "general 방은 누구도 나갈 수 없습니다",
  "you are in as many rooms as the server allows": "서버가 허용하는 최대 개수의 방에 이미 들어가 있습니다",
  "the room has as many members as the server allows": "방의 멤버 수가 서버가 허용하는 최대치입니다",
  "you created as many private rooms as the server allows":
    "서버가 허용하는 최대 개수의 비공개 방을 이미 만들었습니다",
  "there is no user with that ID": "그 아이디의 사용자가 없습니다",
  "there is no word to search for": "검색할 단어가 없습니다",
  "too many requests; wait a moment": "요청이 너무 많습니다. 잠시 기다리세요",
  "this server has no rooms and no search (an older version)":
    "이 서버에는 방과 검색 기능이 없습니다(이전 버전)",
  "{user} joined #{room}": "{user}님이 #{room} 방에 들어왔습니다",
  "{user} left #{room}": "{user}님이 #{room} 방을 나갔습니다",
  "Type the room's name.": "방 이름을 입력하세요.",
  "A room name may contain only letters, digits, '_' and '-' (at most 32); accents are fine, mixing alphabets is not.":
    "방 이름에는 글자, 숫자, '_', '-'만 쓸 수 있습니다(최대 32자). 악센트는 괜찮지만 여러 문자 체계를 섞을 수는 없습니다.",
  "New room": "새 방",
  "Create": "만들기",
  "Join a room": "방에 들어가기",
  "Join": "들어가기",
  "Invite": "초대",
  "Private: only members see it; they invite others": "비공개: 멤버만 볼 수 있고, 멤버가 다른 사람을 초대합니다",
  "Room name:": "방 이름:",
  "ID:": "아이디:",
  "They become a member of #{room} at once.": "초대된 사람은 바로 #{room} 방의 멤버가 됩니다.",
  "Type the ID of the person to invite.": "초대할 사람의 아이디를 입력하세요.",
  "Room #{room} not created:": "#{room} 방을 만들지 못했습니다:",
  "Could not join #{room}:": "#{room} 방에 들어가지 못했습니다:",
  "Could not leave #{room}:": "#{room} 방을 나가지 못했습니다:",
  "{user} not invited into #{room}:": "{user}님을 #{room} 방에 초대하지 못했습니다:",
  "Invite into #{room}": "#{room} 방에 초대",
  "Leave #{room}": "#{room} 방 나가기",
  "Leave #{room}? Its messages stop reaching you.": "#{room} 방을 나갈까요? 이 방의 메시지를 더 받지 않게 됩니다.",
  "Leave": "나가기",
  "Cancel": "취소",
  "Conversations": "대화",
  "Unread": "안 읽음",
  "New room\u2026": "새 방\u2026",
  "Join\u2026": "들어가기\u2026",
  "Invite\u2026": "초대\u2026",
  "The list of rooms is not available: {reason}": "방 목록을 가져올 수 없습니다: {reason}",
  "You left #{room}.": "#{room}에서 나갔습니다.",
  "member": "멤버",
  "private": "비공개",
};

// Plural forms: Korean has one (the .po's "nplurals=1"), English two.
const KO_PLURALS = {
  "{count} participant": "대화 참여자 {count}명",
  "{count} member": "멤버 {count}명",
  "{count} byte": "{count}바이트",
  "{count} unread": "안 읽음 {count}개",
};

/** The first of the browser's languages we have words for ("en" if none). */
export function pickLanguage(languages) {
  for (const tag of languages || []) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (primary === "ko" || primary === "en") return primary;
  }
  return "en";
}

export const language = pickLanguage(
  typeof navigator === "undefined" ? [] : navigator.languages || [navigator.language]);

function fill(text, params) {
  if (!params) return text;
  // One pass, so a value containing "{x}" (a peer's text) is never expanded.
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
}

/** ``msgid`` in the page's language, with ``{name}`` fields filled. */
export function t(msgid, params) {
  const text = language === "ko" && Object.prototype.hasOwnProperty.call(KO, msgid)
    ? KO[msgid] : msgid;
  return fill(text, params);
}

/** ``singular``/``plural`` for ``count``, with ``{count}`` and ``params`` filled. */
export function nt(singular, plural, count, params) {
  let text;
  if (language === "ko" && Object.prototype.hasOwnProperty.call(KO_PLURALS, singular)) {
    text = KO_PLURALS[singular];
  } else {
    text = Number(count) === 1 ? singular : plural;
  }
  return fill(text, { ...params, count });
}

/** Translate the static page: ``data-i18n`` (text), ``data-i18n-placeholder``,
 * ``data-i18n-title`` and ``data-i18n-label`` (aria-label) hold message ids. */
export function translatePage(root) {
  document.documentElement.lang = language;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const [attribute, target] of [["i18nPlaceholder", "placeholder"],
    ["i18nTitle", "title"], ["i18nLabel", "aria-label"]]) {
    const selector = `[data-${attribute.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}]`;
    for (const element of root.querySelectorAll(selector)) {
      element.setAttribute(target, t(element.dataset[attribute]));
    }
  }
}

/** ``17 bytes`` in the page's language; ``2.0 KiB``, ``3.4 MiB``, ``1.0 GiB`` as the
 * GUI writes them (src/frontends/units.py), the same in every language. */
export function sizeText(size) {
  const n = Number(size);
  if (n < 1024) return nt("{count} byte", "{count} bytes", n);
  let value = n;
  for (const unit of ["KiB", "MiB", "GiB"]) {
    value /= 1024;
    if (value < 1024 || unit === "GiB") return `${value.toFixed(1)} ${unit}`;
  }
  return "";
}
