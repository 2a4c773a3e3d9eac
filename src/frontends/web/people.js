// The participant list: every counted user (active or deactivated) and the
// count, as the server tells them (LoginAccepted, ParticipantList, Presence).
//
// While the connection is down nobody's state is known (the server may be
// restarting, people leave meanwhile): the names stay, shown as "unknown",
// until the next login brings the real list (gui/participants.py).
"use strict";

import { usernameSkeleton } from "./chatproto.js";
import { nt, t } from "./i18n.js";
import { clean } from "./text.js";

function skeleton(name) {
  try {
    return usernameSkeleton(name);
  } catch {
    return String(name);
  }
}

function stateLabel(state) {
  if (state === "unknown") return t("unknown");
  return state === "deactivated" ? t("deactivated") : t("active");
}

export class People {
  /** ``elements``: list (ul#participants), count (#participant-count), before and
   * after (the words around the count), badge (the count on the toggle button);
   * ``onPick(name)``: a click on someone. */
  constructor(elements, onPick) {
    this.el = elements;
    this.onPick = onPick;
    this.states = new Map();
    this.count = 0;
    this.me = "";
    this.known = false;
  }

  /** The list of a LoginAccepted: ``participants`` is its first page. */
  reset(me, participants, count) {
    this.me = me;
    this.states = new Map();
    for (const p of participants) this.states.set(p.name, p.state);
    this.count = count;
    this.known = true;
    this.render();
  }

  /** A further page (ParticipantList). */
  add(participants) {
    for (const p of participants) this.states.set(p.name, p.state);
    this.render();
  }

  /** A Presence: joined / rejoined are active, deactivated stays, left goes; the
   * server's count is the truth even if we missed an event. */
  apply(presence) {
    const { user, state } = presence;
    if (state === "left") this.states.delete(user);
    else this.states.set(user, state === "deactivated" ? "deactivated" : "active");
    this.count = presence.participant_count;
    this.render();
  }

  markUnknown() {
    this.known = false;
    this.render();
  }

  clear() {
    this.states = new Map();
    this.count = 0;
    this.known = false;
    this.render();
  }

  names() {
    return [...this.states.keys()];
  }

  render() {
    const me = skeleton(this.me);
    const names = this.names().sort((a, b) =>
      a.toLocaleLowerCase().localeCompare(b.toLocaleLowerCase()));
    this.el.list.dataset.known = String(this.known);
    this.el.list.replaceChildren(...names.map((name) => {
      const state = this.known ? this.states.get(name) : "unknown";
      const item = document.createElement("li");
      item.dataset.name = name;
      item.dataset.state = state;
      const button = document.createElement("button");
      button.type = "button";
      const shown = document.createElement("span");
      shown.className = "name";
      shown.textContent = clean(name, true);
      button.append(shown);
      if (skeleton(name) === me) {
        item.classList.add("me");
        const you = document.createElement("span");
        you.className = "you";
        you.textContent = " " + t("(you)");
        shown.append(you);
      } else {
        button.addEventListener("click", () => this.onPick(name));
      }
      const label = document.createElement("span");
      label.className = "state";
      label.textContent = stateLabel(state);
      button.append(label);
      item.append(button);
      return item;
    }));
    this.#renderCount();
  }

  #renderCount() {
    const { before, count, after, badge } = this.el;
    count.textContent = String(this.count);
    if (badge) badge.textContent = this.known ? String(this.count) : "?";
    count.hidden = !this.known;
    if (!this.known) {
      before.textContent = t("Participants: unknown");
      after.textContent = "";
      return;
    }
    // "{count} participants" with the number in its own element (#participant-count).
    const words = nt("{count} participant", "{count} participants", this.count);
    const at = words.indexOf(String(this.count));
    before.textContent = at < 0 ? words : words.slice(0, at);
    after.textContent = at < 0 ? "" : words.slice(at + String(this.count).length);
  }
}
