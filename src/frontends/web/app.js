// The browser client of the LAN chat: the login form, then the chat. It speaks
// the protocol's own binary frames over a WebSocket of the page's origin
// (session.js, chatproto.js); this module wires the parts together and turns each
// event the server sends into what the page shows.
"use strict";

import { LIMITS, usernameProblem, usernameSkeleton } from "./chatproto.js";
import { Conversations, GENERAL_KEY } from "./conversations.js";
import { Files } from "./files.js";
import { t, translatePage } from "./i18n.js";
import { Notifier } from "./notify.js";
import { People } from "./people.js";
import { Rooms, membershipText } from "./rooms.js";
import { showPanel, wireDrop, wirePanels } from "./layout.js";
import { HISTORY_RESET, INVALID_NAME, PLAIN, chatRefused, disconnectReason, loginSentence,
  presenceText } from "./sentences.js";
import { Session } from "./session.js";
import * as store from "./store.js";
import { clean, mentions } from "./text.js";
import { appendLine, scrollToEnd, setScroller } from "./transcript.js";

const $ = (id) => document.getElementById(id);

function skeleton(name) {
  try {
    return usernameSkeleton(name);
  } catch {
    return String(name);
  }
}

class App {
  constructor() {
    translatePage(document);
    setScroller($("transcript"));
    this.me = "";
    this.nextClientId = 1n;
    this.pendingChats = new Map();
    this.lastLoss = null;
    this.session = new Session({
      status: (state, detail) => this.status(state, detail),
      accepted: (event, info) => this.accepted(event, info),
      event: (event) => this.event(event),
      lost: (why) => this.lost(why),
      refused: (why) => this.refused(why),
    });
    this.conversations = new Conversations({ transcript: $("transcript"), rooms: $("rooms"),
      directs: $("directs"), directsHeading: $("directs-heading"), to: $("to"),
      title: $("conversation-title") },
    (conversation) => this.selected(conversation));
    this.people = new People({ list: $("participants"), count: $("participant-count"),
      before: $("participant-before"), after: $("participant-after"), badge: $("people-badge") },
    (name) => this.conversations.select(this.conversations.direct(name).key));
    this.lines = {
      notice: (conversation, text, tone) => this.notice(conversation, text, tone),
      member: (event) => {
        const room = this.conversations.room(event.room);
        appendLine(room.pane, { kind: "member", room: room.name, text: membershipText(event),
          sender: event.user });
      },
    };
    this.rooms = new Rooms({ session: this.session, conversations: this.conversations,
      lines: this.lines, people: () => this.people.names(), el: {
        section: $("room-section"), create: $("create-room"), join: $("join-room"),
        leave: $("leave-room"), invite: $("invite"), form: $("room-form"),
        title: $("room-form-title"), hint: $("room-form-hint"), name: $("room-name"),
        privateRow: $("room-private-row"), privateBox: $("room-private"),
        userRow: $("invite-user-row"), user: $("invite-user"), submit: $("room-submit"),
        cancel: $("room-cancel"), error: $("room-error"), roomNames: $("room-names"),
        peopleNames: $("people-names") } });
    this.files = new Files({ session: this.session, conversations: this.conversations,
      lines: this.lines, el: { input: $("file-input"), uploads: $("uploads") } });
    this.notifier = new Notifier($("notify-button"), (key) => this.conversations.select(key));
    this.#wire();
    this.#resume();
  }

  // -- the page's own controls ------------------------------------------------------

  #wire() {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.login();
    });
    $("compose").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat();
    });
    $("message").addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a new line; Enter that ends an input method's
      // composition (Korean, Japanese...) only ends the composition.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) {
        return;
      }
      event.preventDefault();
      this.sendChat();
    });
    $("logout-button").addEventListener("click", () => this.logout());
    wirePanels();
    wireDrop((files) => this.files.send(files));
  }

  // -- logging in and out -------------------------------------------------------------

  /** After a reload: the tab's resume token logs in again without the password. */
  #resume() {
    const name = store.tabUser();
    if (name && store.loadToken(name)) {
      $("username").value = name;
      this.#showChat();
      this.session.start(name, null);
    } else {
      this.#showLogin();
    }
  }

  login() {
    const username = $("username").value.trim();
    const password = $("password").value;
    let problem = null;
    if (!username) problem = t("Please enter your ID.");
    else if (!password) problem = t("Please enter your password.");
    else if (usernameProblem(username) !== null) problem = t(INVALID_NAME);
    else if (new TextEncoder().encode(password).length > LIMITS.MAX_PASSWORD_BYTES) {
      problem = t("The password is too long (at most 1024 bytes).");
    }
    this.#loginError(problem);
    if (problem) return;
    $("login-button").disabled = true;
    const progress = $("login-progress");
    progress.textContent = t("Connecting to {server}:{port}\u2026", server());
    progress.hidden = false;
    this.session.start(username, password);
  }

  #loginError(text) {
    const element = $("login-error");
    element.textContent = text || "";
    element.hidden = !text;
  }

  logout() {
    this.session.stop();
    this.#clear();
    this.#showLogin();
  }

  #clear() {
    this.files.cancel();
    this.rooms.lost();
    this.conversations.reset();
    this.people.clear();
    this.pendingChats.clear();
    this.me = "";
    this.notifier.setName("");
  }

  #showLogin() {
    $("chat-view").hidden = true;
    $("login-view").hidden = false;
    $("login-button").disabled = false;
    $("login-progress").hidden = true;
    $("password").value = "";
    ($("username").value ? $("password") : $("username")).focus();
  }

  #showChat() {
    $("login-view").hidden = true;
    $("chat-view").hidden = false;
  }

  // -- the session's news ---------------------------------------------------------------

  status(state, detail) {
    const element = $("status");
    element.dataset.state = state;
    let text;
    if (state === "connected") {
      text = t("Connected as {user}", { user: clean(this.me, true) });
    } else if (state === "connecting") {
      text = this.lastLoss ? t("Reconnecting\u2026") : t("Connecting to {server}:{port}\u2026",
        server());
    } else {
      text = this.lastLoss ? disconnectReason(this.lastLoss) : "";
      if (detail.retryIn) text += (text ? " \u2014 " : "") + t("Reconnecting in {seconds} s\u2026",
        { seconds: detail.retryIn });
    }
    element.textContent = text;
    const connected = state === "connected";
    $("send-button").disabled = !connected;
    $("file-input").disabled = !connected;
    $("file-button").classList.toggle("disabled", !connected);
  }

  accepted(event, { reset, reconnected }) {
    const newUser = skeleton(event.username) !== skeleton(this.me);
    if (newUser && this.me) this.#clear();
    this.me = event.username;
    this.conversations.me = event.username;
    this.notifier.setName(clean(event.username, true));
    this.#showChat();
    this.#loginError(null);
    this.people.reset(event.username, event.participants, event.participant_count);
    this.conversations.setPeople(this.people.names(), this.me);
    const general = this.conversations.general;
    if (reconnected && !newUser) {
      this.noticeEverywhere(t("Reconnected."), "good");
    } else if (location.protocol !== "https:") {
      this.notice(general, t(PLAIN), "warning");
    } else {
      this.notice(general, t("Encrypted connection (TLS)"), "good");
    }
    if (reset) this.noticeEverywhere(t(HISTORY_RESET));
    this.lastLoss = null;
    this.rooms.opened(Boolean(this.session.conn && this.session.conn.speaksRooms));
    this.files.opened();
  }

  lost(why) {
    this.lastLoss = why;
    this.people.markUnknown();
    this.files.lost();
    this.rooms.lost();
    this.pendingChats.clear();
    this.noticeEverywhere(t("Connection to the server lost: {reason}",
      { reason: disconnectReason(why) }), "warning");
  }

  refused(why) {
    const hadChat = !$("chat-view").hidden;
    if (hadChat) this.#clear();
    this.lastLoss = null;
    this.#showLogin();
    this.#loginError(loginSentence(why));
  }

  /** Every event the server sends after the login; each is shown, or ignored on
   * purpose (the connection checked that it was allowed). */
  event(event) {
    if (this.files.handle(event) || this.rooms.handle(event)) return;
    switch (event.type) {
      case "ParticipantList":
        this.people.add(event.participants);
        this.conversations.setPeople(this.people.names(), this.me);
        break;
      case "Presence":
        this.people.apply(event);
        this.conversations.setPeople(this.people.names(), this.me);
        appendLine(this.conversations.general.pane, { kind: "presence", room: "general",
          sender: event.user, text: presenceText(event),
          tone: event.state === "deactivated" ? "deactivated" : undefined });
        break;
      case "ChatMessage":
        this.#chat(event);
        break;
      case "ChatRejected":
        this.#chatRejected(event);
        break;
      case "FileAvailable":
        this.#file(event);
        break;
      default:
        break; // nothing else reaches an active web client (no fetches, no search)
    }
  }

  #entry(event, kind) {
    const conversation = this.conversations.of(event, this.me);
    const own = skeleton(event.sender) === skeleton(this.me);
    const direct = conversation.kind === "direct";
    const who = direct ? t("{sender} \u2192 {recipient} (direct)", {
      sender: clean(event.sender, true), recipient: clean(event.recipient, true) })
      : clean(event.sender, true);
    return { conversation, own, entry: { kind: kind || (direct ? "direct" : "chat"),
      seq: event.seq, sender: event.sender, own, timestampMs: event.timestamp_ms, who,
      room: direct ? undefined : (event.recipient ? event.recipient.slice(1) : "general"),
      peer: direct ? conversation.name : undefined } };
  }

  #chat(event) {
    if (own(event, this.me)) this.pendingChats.delete(event.client_id.toString());
    if (!this.session.isNew(event.seq)) return;
    const { conversation, own: mine, entry } = this.#entry(event);
    entry.text = event.text;
    entry.links = true;
    if (!mine && mentions(event.text, skeleton(this.me), skeleton)) entry.tone = "mention";
    appendLine(conversation.pane, entry);
    if (!mine) this.#arrived(conversation, event.sender, event.text);
  }

  #file(event) {
    if (!this.session.isNew(event.seq)) return;
    const { conversation, own: mine, entry } = this.#entry(event, "file");
    entry.text = "";
    const line = appendLine(conversation.pane, entry);
    this.files.describe(line, event);
    if (!mine) {
      this.#arrived(conversation, event.sender, t("{user} sent a file",
        { user: clean(event.sender, true) }) + ": " + clean(event.name, true));
    }
  }

  #arrived(conversation, sender, text) {
    this.conversations.arrived(conversation);
    const title = conversation.key === GENERAL_KEY || conversation.kind === "direct"
      ? clean(sender, true) : `${clean(sender, true)} (#${clean(conversation.name, true)})`;
    this.notifier.arrived(title, clean(text).slice(0, 200), conversation.key);
  }

  #chatRejected(event) {
    const key = event.client_id.toString();
    const pending = this.pendingChats.get(key);
    this.pendingChats.delete(key);
    const conversation = pending ? pending.conversation : this.conversations.current;
    this.notice(conversation, t("Message not sent: {reason}",
      { reason: chatRefused(event.reason, event.message) }), "warning");
    if (pending && !$("message").value) $("message").value = pending.text; // their words back
  }

  // -- writing ----------------------------------------------------------------------

  sendChat() {
    const box = $("message");
    const text = box.value;
    if (!text.trim()) return;
    const conversation = this.conversations.current;
    if (new TextEncoder().encode(text).length > LIMITS.MAX_TEXT_BYTES) {
      this.notice(conversation, t("Message not sent: {reason}",
        { reason: t("the message is too long") }), "warning");
      return;
    }
    const clientId = this.nextClientId;
    this.nextClientId += 1n;
    let sent;
    try {
      sent = this.session.send({ type: "SendChat", client_id: clientId,
        recipient: this.conversations.recipient(conversation), text });
    } catch (error) {
      this.notice(conversation, t("Message not sent: {reason}",
        { reason: clean(error.message, true) }), "warning");
      return;
    }
    if (!sent) {
      this.notice(conversation, t("Not connected: nothing was sent."), "warning");
      return;
    }
    this.pendingChats.set(clientId.toString(), { text, conversation });
    box.value = "";
    box.focus();
  }

  // -- lines of our own ------------------------------------------------------------------

  notice(conversation, text, tone) {
    const entry = { kind: "notice", text, tone };
    if (conversation.kind === "room") {
      entry.room = conversation.key === GENERAL_KEY ? "general" : conversation.name;
    } else {
      entry.peer = conversation.name;
    }
    appendLine(conversation.pane, entry);
  }

  /** A notice about the connection: in general, and in the conversation on screen
   * if it is another, so the user sees it wherever they are (chat_view.notice). */
  noticeEverywhere(text, tone) {
    this.notice(this.conversations.general, text, tone);
    if (this.conversations.current !== this.conversations.general) {
      this.notice(this.conversations.current, text, tone);
    }
  }

  selected(conversation) {
    if (!this.conversations) return; // the first selection, made while starting
    if (this.rooms) this.rooms.close();
    showPanel(null);
    $("message").placeholder = conversation.key === GENERAL_KEY ? t("Message")
      : `${t("Message")} \u2192 ${this.conversations.label(conversation)}`;
    scrollToEnd();
  }
}

/** The page's server, for "Connecting to {server}:{port}…". */
function server() {
  return { server: location.hostname,
    port: location.port || (location.protocol === "https:" ? "443" : "80") };
}

function own(event, me) {
  return skeleton(event.sender) === skeleton(me);
}

new App();
