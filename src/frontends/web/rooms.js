// Rooms (protocol version 4): the requests behind the room buttons, their small
// inline form (no prompt()), the room list from ListRooms and the Membership
// events. A refusal is one sentence in the form, in the GUI's words
// (gui/room_flow.py, gui/errors_text.py).
"use strict";

import { GENERAL_ROOM, isGeneral, usernameProblem } from "./chatproto.js";
import { nt, t } from "./i18n.js";
import { clean } from "./text.js";
import { GENERAL_KEY } from "./conversations.js";

/** A room request's refusal, in the page's language (errors_text.request_refused). */
export function requestRefused(reason, message) {
  const texts = {
    "not-found": "there is no such room (or it is private)",
    "already-exists": "a room with that name exists already",
    "invalid-name": "a room name may contain only letters, digits, '_' and '-' (at most 32)",
    "not-member": "you are not a member of that room",
    "already-member": "already a member of that room",
    "cannot-leave-general": "nobody can leave general",
    "too-many-rooms": "you are in as many rooms as the server allows",
    "room-full": "the room has as many members as the server allows",
    "too-many-private-rooms": "you created as many private rooms as the server allows",
    "unknown-user": "there is no user with that ID",
    "bad-query": "there is no word to search for",
    "rate-limited": "too many requests; wait a moment",
    "server-error": "an error on the server",
    "not-supported": "this server has no rooms and no search (an older version)",
  };
  if (Object.prototype.hasOwnProperty.call(texts, reason)) return t(texts[reason]);
  return clean(message || reason, true);
}

function isGeneralName(name) {
  try {
    return isGeneral(name);
  } catch {
    return false;
  }
}

export class Rooms {
  /**
   * ``session``; ``conversations``; ``lines``: {notice(conversation, text),
   * member(event)}; ``people()``: the participants' names; ``el``: the buttons
   * (create, join, leave, invite), the form and its parts (form, title, hint,
   * name, privateRow, privateBox, userRow, user, submit, cancel, error) and the
   * datalists (roomNames, peopleNames); ``section``: what rooms-only UI hides.
   */
  constructor({ session, conversations, lines, people, el }) {
    this.session = session;
    this.conversations = conversations;
    this.lines = lines;
    this.people = people;
    this.el = el;
    this.pending = new Map();
    this.nextId = 1n;
    this.kind = null;
    this.supported = false;
    el.create.addEventListener("click", () => this.open("create"));
    el.join.addEventListener("click", () => this.open("join"));
    el.leave.addEventListener("click", () => this.open("leave"));
    el.invite.addEventListener("click", () => this.open("invite"));
    el.cancel.addEventListener("click", () => this.close());
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    el.name.addEventListener("input", () => this.#retitle());
    el.form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
  }

  /** Logged in: rooms exist on this server or not; ask for the list if they do. */
  opened(speaksRooms) {
    this.supported = speaksRooms;
    this.el.section.hidden = !speaksRooms;
    if (!speaksRooms) {
      this.close();
      return;
    }
    this.#request({ type: "ListRooms" }, { kind: "list" });
  }

  /** The connection is gone: no answer will come to what was asked on it. */
  lost() {
    this.pending.clear();
    this.el.submit.disabled = false;
  }

  // -- the form -----------------------------------------------------------------

  open(kind) {
    const { el } = this;
    this.kind = kind;
    const current = this.conversations.current;
    const inRoom = current.kind === "room" && current.key !== GENERAL_KEY;
    el.name.value = kind === "leave" || kind === "invite" ? (inRoom ? current.name : "") : "";
    el.privateBox.checked = false;
    el.user.value = "";
    el.privateRow.hidden = kind !== "create";
    el.userRow.hidden = kind !== "invite";
    el.submit.textContent = t({ create: "Create", join: "Join", leave: "Leave",
      invite: "Invite" }[kind]);
    el.submit.disabled = false;
    this.#error("");
    this.#retitle();
    el.form.hidden = false;
    this.#fillNames();
    if (kind === "join") this.#request({ type: "ListRooms" }, { kind: "list" });
    (kind === "invite" && el.name.value ? el.user : el.name).focus();
  }

  close() {
    this.kind = null;
    this.el.form.hidden = true;
  }

  #retitle() {
    const { el } = this;
    const room = clean(el.name.value.trim(), true);
    const titles = { create: t("New room"), join: t("Join a room"),
      leave: t("Leave #{room}", { room }), invite: t("Invite into #{room}", { room }) };
    el.title.textContent = titles[this.kind] || "";
    let hint = "";
    if (this.kind === "leave" && room) hint = t("Leave #{room}? Its messages stop reaching you.", { room });
    if (this.kind === "invite" && room) hint = t("They become a member of #{room} at once.", { room });
    el.hint.textContent = hint;
    el.hint.hidden = !hint;
  }

  #error(text) {
    this.el.error.textContent = text;
    this.el.error.hidden = !text;
  }

  #fillNames() {
    const rooms = [...this.conversations.all.values()].filter((c) => c.kind === "room"
      && c.key !== GENERAL_KEY && (this.kind === "join" ? !c.member : c.member));
    this.el.roomNames.replaceChildren(...rooms.map((c) => {
      const option = document.createElement("option");
      option.value = c.name;
      return option;
    }));
    this.el.peopleNames.replaceChildren(...this.people().map((name) => {
      const option = document.createElement("option");
      option.value = name;
      return option;
    }));
  }

  #submit() {
    const { el } = this;
    const kind = this.kind;
    const room = el.name.value.trim();
    const user = el.user.value.trim();
    const shown = clean(room, true);
    if (!room) {
      this.#error(t("Type the room's name."));
      return;
    }
    if (kind === "create" && usernameProblem(room) !== null) {
      this.#error(t("A room name may contain only letters, digits, '_' and '-' (at most 32); accents are fine, mixing alphabets is not."));
      return;
    }
    if (kind === "invite" && !user) {
      this.#error(t("Type the ID of the person to invite."));
      el.user.focus();
      return;
    }
    if (kind === "leave" && isGeneralName(room)) {
      this.#error(t("Could not leave #{room}:", { room: shown }) + " "
        + requestRefused("cannot-leave-general"));
      return;
    }
    const events = {
      create: { type: "CreateRoom", room, private: el.privateBox.checked },
      join: { type: "JoinRoom", room },
      leave: { type: "LeaveRoom", room },
      invite: { type: "InviteToRoom", room, user },
    };
    const problem = usernameProblem(room) !== null || (kind === "invite"
      && usernameProblem(user) !== null);
    if (problem) {
      // The server would refuse it as not found; a name no room can have is that.
      this.#refused({ kind, room, user }, kind === "invite" && usernameProblem(user) !== null
        ? "unknown-user" : "not-found", "");
      return;
    }
    this.#error("");
    if (this.#request(events[kind], { kind, room, user, private: el.privateBox.checked })) {
      el.submit.disabled = true;
    }
  }

  // -- requests and answers ------------------------------------------------------

  #request(event, what) {
    const id = this.nextId;
    this.nextId += 1n;
    let sent;
    try {
      sent = this.session.send({ ...event, request_id: id });
    } catch (error) {
      // Too many requests open at once, or a field the protocol refuses.
      if (what.kind !== "list") this.#error(clean(error.message, true));
      return false;
    }
    if (!sent) {
      if (what.kind !== "list") this.#error(t("Not connected: nothing was sent."));
      return false;
    }
    this.pending.set(id, { ...what, rooms: [] });
    return true;
  }

  /** ``event`` if it is a room event: handled, true; otherwise false. */
  handle(event) {
    switch (event.type) {
      case "RequestDone":
        this.#done(event.request_id);
        return true;
      case "RequestRejected": {
        const what = this.pending.get(event.request_id);
        this.pending.delete(event.request_id);
        if (what) this.#refused(what, event.reason, event.message);
        return true;
      }
      case "RoomList":
        this.#listed(event);
        return true;
      case "Membership":
        this.#membership(event);
        return true;
      case "SearchHit":
      case "SearchDone":
        return true; // the page asks for no search; nothing to show
      default:
        return false;
    }
  }

  #done(id) {
    const what = this.pending.get(id);
    this.pending.delete(id);
    if (!what) return;
    const { conversations } = this;
    if (what.kind === "create" || what.kind === "join") {
      const room = conversations.room(what.room, what.kind === "create"
        ? { member: true, private: what.private } : { member: true });
      conversations.select(room.key);
    } else if (what.kind === "leave") {
      const room = conversations.room(what.room);
      conversations.dropRoom(what.room, { keepListed: !room.private });
      this.lines.notice(conversations.general, t("You left #{room}.",
        { room: clean(room.name, true) }));
    }
    if (this.kind === what.kind) this.close();
  }

  #refused(what, reason, message) {
    const room = clean(what.room || "", true);
    if (what.kind === "list") {
      this.lines.notice(this.conversations.general, t("The list of rooms is not available: {reason}",
        { reason: requestRefused(reason, message) }));
      return;
    }
    const lead = {
      create: t("Room #{room} not created:", { room }),
      join: t("Could not join #{room}:", { room }),
      leave: t("Could not leave #{room}:", { room }),
      invite: t("{user} not invited into #{room}:", { user: clean(what.user, true), room }),
    }[what.kind];
    const sentence = `${lead} ${requestRefused(reason, message)}`;
    if (this.kind === what.kind && !this.el.form.hidden) {
      this.#error(sentence);
      this.el.submit.disabled = false;
    } else {
      this.lines.notice(this.conversations.current, sentence);
    }
  }

  #listed(event) {
    const what = this.pending.get(event.request_id);
    if (!what) return;
    what.rooms.push(...event.rooms);
    if (event.more) return;
    this.pending.delete(event.request_id);
    this.conversations.setPublicRooms(what.rooms.filter((r) => !isGeneralName(r.name)));
    const general = what.rooms.find((r) => isGeneralName(r.name));
    if (general) this.conversations.room(GENERAL_ROOM, { memberCount: general.member_count });
    if (!this.el.form.hidden) this.#fillNames();
  }

  #membership(event) {
    const { conversations } = this;
    const mine = event.user === this.session.username;
    if (mine && event.state === "left") {
      const room = conversations.room(event.room);
      conversations.dropRoom(event.room, { keepListed: !room.private });
      return;
    }
    conversations.room(event.room, mine ? { member: true, memberCount: event.member_count }
      : { memberCount: event.member_count });
    this.lines.member(event);
  }
}

/** A Membership's line: "{user} joined #{room} (3 members)". */
export function membershipText(event) {
  const params = { user: clean(event.user, true), room: clean(event.room, true) };
  const text = event.state === "joined" ? t("{user} joined #{room}", params)
    : t("{user} left #{room}", params);
  return `${text} (${nt("{count} member", "{count} members", event.member_count)})`;
}
