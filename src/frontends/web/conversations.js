// Conversations: general, the other rooms and the direct conversations; one
// transcript pane each (only the selected one shown), the room list with its
// member flags and unread counts, the list of direct conversations and the To:
// line, which follows the selected conversation and the other way round.
//
// Names are compared as the server compares them (their skeleton), so "Dev" and
// "dev" are one room, "Bob" and "bob" one person (gui/conversations.py).
"use strict";

import { GENERAL_ROOM, isGeneral, usernameSkeleton } from "./chatproto.js";
import { nt, t } from "./i18n.js";
import { clean } from "./text.js";
import { clearPane, scrollToEnd } from "./transcript.js";

export const GENERAL_KEY = "#" + GENERAL_ROOM;

function skeleton(name) {
  try {
    return usernameSkeleton(name);
  } catch {
    return String(name).toLowerCase(); // not a valid name: still a stable key
  }
}

function general(name) {
  try {
    return isGeneral(name);
  } catch {
    return false;
  }
}

export function roomKey(name) {
  return general(name) ? GENERAL_KEY : "#" + skeleton(name);
}

export function peerKey(name) {
  return "@" + skeleton(name);
}

function byName(a, b) {
  return a.name.toLocaleLowerCase().localeCompare(b.name.toLocaleLowerCase());
}

export class Conversations {
  /** ``elements``: transcript, rooms, directs (and directsHeading), to, title;
   * ``onSelect(conversation)``. */
  constructor(elements, onSelect) {
    this.el = elements;
    this.onSelect = onSelect;
    this.all = new Map();
    this.people = [];
    this.me = "";
    this.el.to.addEventListener("change", () => this.#picked());
    this.reset();
  }

  /** Back to general alone (a new login as someone else, or a logout). */
  reset() {
    for (const conversation of this.all.values()) clearPane(conversation.pane);
    this.el.transcript.replaceChildren();
    this.all.clear();
    this.currentKey = GENERAL_KEY;
    this.room(GENERAL_ROOM, { member: true });
    this.select(GENERAL_KEY);
  }

  get current() {
    return this.all.get(this.currentKey);
  }

  get general() {
    return this.all.get(GENERAL_KEY);
  }

  #make(kind, name, key) {
    const pane = document.createElement("section");
    pane.className = "pane";
    pane.dataset.conversation = key;
    if (kind === "room") pane.dataset.room = key === GENERAL_KEY ? GENERAL_ROOM : name;
    else pane.dataset.peer = name;
    pane.setAttribute("aria-label", kind === "room" ? `#${name}` : name);
    pane.hidden = true;
    this.el.transcript.append(pane);
    const conversation = { kind, name, key, pane, unread: 0, member: kind === "direct",
      private: false, memberCount: null };
    this.all.set(key, conversation);
    return conversation;
  }

  /** The room ``name`` (made on first use); ``info`` updates what is known of it. */
  room(name, info = {}) {
    const key = roomKey(name);
    let conversation = this.all.get(key);
    const made = !conversation;
    if (made) conversation = this.#make("room", key === GENERAL_KEY ? GENERAL_ROOM : name, key);
    let changed = made;
    for (const field of ["member", "private", "memberCount"]) {
      if (info[field] !== undefined && conversation[field] !== info[field]) {
        conversation[field] = info[field];
        changed = true;
      }
    }
    if (changed) this.render();
    return conversation;
  }

  /** The direct conversation with ``name`` (made on first use). */
  direct(name) {
    const key = peerKey(name);
    const conversation = this.all.get(key) || this.#make("direct", name, key);
    if (!this.el.directs.querySelector(`li[data-key="${CSS.escape(key)}"]`)) this.render();
    return conversation;
  }

  /** Where a ChatMessage or FileAvailable belongs: its room, or the other user of a
   * direct message (the recipient of one's own, the sender of another's). */
  of(event, me) {
    const recipient = event.recipient;
    if (recipient === null || recipient === undefined) return this.general;
    if (recipient.startsWith("#")) return this.room(recipient.slice(1), { member: true });
    const mine = skeleton(event.sender) === skeleton(me);
    return this.direct(mine ? recipient : event.sender);
  }

  /** The ``recipient`` field for ``conversation``: null, "#room" or the user. */
  recipient(conversation) {
    if (conversation.key === GENERAL_KEY) return null;
    return conversation.kind === "room" ? "#" + conversation.name : conversation.name;
  }

  /** The To: value of ``conversation``: "", "#room" or the user (contract.md). */
  target(conversation) {
    return this.recipient(conversation) ?? "";
  }

  /** Forget a room left: its pane and its entry go (general never). */
  dropRoom(name, { keepListed = false } = {}) {
    const key = roomKey(name);
    const conversation = this.all.get(key);
    if (!conversation || key === GENERAL_KEY) return;
    conversation.member = false;
    conversation.unread = 0;
    clearPane(conversation.pane);
    if (!keepListed) {
      conversation.pane.remove();
      this.all.delete(key);
    }
    if (this.currentKey === key) this.select(GENERAL_KEY);
    else this.render();
  }

  /** Rooms the user may see but is not in, from a room list: listed, greyed. */
  setPublicRooms(rooms) {
    const seen = new Set();
    for (const info of rooms) {
      seen.add(roomKey(info.name));
      this.room(info.name, { member: info.member, private: info.private,
        memberCount: info.member_count });
    }
    for (const conversation of [...this.all.values()]) {
      if (conversation.kind === "room" && conversation.key !== GENERAL_KEY
          && !seen.has(conversation.key)) {
        this.dropRoom(conversation.name); // gone, or left elsewhere while away
      }
    }
  }

  select(key) {
    const conversation = this.all.get(key);
    if (!conversation) return;
    const previous = this.all.get(this.currentKey);
    if (previous) previous.pane.hidden = true;
    this.currentKey = key;
    conversation.pane.hidden = false;
    conversation.unread = 0;
    this.el.title.textContent = this.label(conversation);
    this.render();
    scrollToEnd();
    this.onSelect(conversation);
  }

  label(conversation) {
    if (conversation.key === GENERAL_KEY) return "# " + GENERAL_ROOM;
    const name = clean(conversation.name, true);
    return conversation.kind === "room" ? "# " + name : "@ " + name;
  }

  /** A message from someone else arrived in ``conversation``. */
  arrived(conversation) {
    // The one on screen is read (a hidden tab counts in the title instead: app.js).
    if (conversation.key === this.currentKey) return;
    conversation.unread += 1;
    const item = this.#item(conversation.key);
    if (item) this.#badge(item, conversation);
    else this.render();
  }

  #item(key) {
    return this.el.rooms.querySelector(`li[data-key="${CSS.escape(key)}"]`)
      || this.el.directs.querySelector(`li[data-key="${CSS.escape(key)}"]`);
  }

  #badge(item, conversation) {
    item.dataset.unread = String(conversation.unread);
    const badge = item.querySelector(".unread");
    badge.textContent = conversation.unread ? String(conversation.unread) : "";
    badge.title = conversation.unread ? nt("{count} unread", "{count} unread",
      conversation.unread) : "";
  }

  #entry(conversation) {
    const item = document.createElement("li");
    item.dataset.key = conversation.key;
    if (conversation.kind === "room") {
      item.dataset.room = conversation.key === GENERAL_KEY ? GENERAL_ROOM : conversation.name;
      item.dataset.member = String(conversation.member);
    } else {
      item.dataset.peer = conversation.name;
    }
    if (conversation.key === this.currentKey) item.setAttribute("aria-current", "true");
    const button = document.createElement("button");
    button.type = "button";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = this.label(conversation);
    button.append(name);
    if (conversation.kind === "room" && !conversation.member) {
      button.title = t("not a member");
    } else if (conversation.private) {
      button.title = t("private");
    }
    if (conversation.memberCount !== null && conversation.key !== GENERAL_KEY) {
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = nt("{count} member", "{count} members", conversation.memberCount);
      button.append(count);
    }
    const badge = document.createElement("span");
    badge.className = "unread";
    button.append(badge);
    button.addEventListener("click", () => this.select(conversation.key));
    item.append(button);
    this.#badge(item, conversation);
    return item;
  }

  /** Redraw both lists and the To: line. */
  render() {
    const rooms = [...this.all.values()].filter((c) => c.kind === "room"
      && c.key !== GENERAL_KEY);
    rooms.sort((a, b) => Number(b.member) - Number(a.member) || byName(a, b));
    this.el.rooms.replaceChildren(this.#entry(this.general), ...rooms.map((c) => this.#entry(c)));
    const directs = [...this.all.values()].filter((c) => c.kind === "direct").sort(byName);
    this.el.directs.replaceChildren(...directs.map((c) => this.#entry(c)));
    this.el.directs.hidden = directs.length === 0;
    if (this.el.directsHeading) this.el.directsHeading.hidden = directs.length === 0;
    this.#renderTo();
  }

  /** The people on the To: line besides the open direct conversations. */
  setPeople(names, me) {
    this.people = names;
    this.me = me;
    this.#renderTo();
  }

  #renderTo() {
    const options = [["", t("Everyone")]];
    const current = this.current;
    for (const c of [...this.all.values()].filter((r) => r.kind === "room").sort(byName)) {
      if (c.key !== GENERAL_KEY && (c.member || c === current)) {
        options.push(["#" + c.name, "# " + clean(c.name, true)]);
      }
    }
    const people = new Map();
    for (const name of this.people) {
      if (skeleton(name) !== skeleton(this.me)) people.set(peerKey(name), name);
    }
    for (const c of this.all.values()) if (c.kind === "direct") people.set(c.key, c.name);
    const names = [...people.values()].sort((a, b) => byName({ name: a }, { name: b }));
    for (const name of names) options.push([name, clean(name, true)]);
    const select = this.el.to;
    select.replaceChildren(...options.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }));
    select.value = current ? this.target(current) : "";
  }

  #picked() {
    const value = this.el.to.value;
    if (value === "") this.select(GENERAL_KEY);
    else if (value.startsWith("#")) this.select(this.room(value.slice(1)).key);
    else this.select(this.direct(value).key);
  }
}
