// Asking for attention: the unread count in the tab's title while the tab is
// hidden, and desktop notifications, only if the user turned them on with the
// button (the browser's question is asked on that click, never on load).
//
// Browsers offer notifications only to secure pages (https:, or localhost): on
// a plain http:// address the button is hidden and the title count remains.
"use strict";

import { t } from "./i18n.js";
import * as store from "./store.js";

const SETTING = "notify";

export class Notifier {
  /** ``button``: the on/off button; ``onClick(key)``: a notification was clicked
   * (``key`` is what ``arrived`` was given). */
  constructor(button, onClick) {
    this.button = button;
    this.onClick = onClick;
    this.unread = 0;
    this.name = "";
    this.supported = typeof Notification !== "undefined" && window.isSecureContext;
    this.button.hidden = !this.supported;
    this.button.addEventListener("click", () => this.#clicked());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.seen();
    });
    this.#render();
  }

  get enabled() {
    return this.supported && Notification.permission === "granted"
      && store.loadSetting(SETTING) === "on";
  }

  async #clicked() {
    if (!this.supported) return;
    if (Notification.permission === "default") {
      const answer = await Notification.requestPermission();
      store.saveSetting(SETTING, answer === "granted" ? "on" : "off");
    } else if (Notification.permission === "granted") {
      store.saveSetting(SETTING, this.enabled ? "off" : "on");
    }
    this.#render();
  }

  #render() {
    const denied = this.supported && Notification.permission === "denied";
    this.button.setAttribute("aria-pressed", String(this.enabled));
    this.button.title = denied ? t("The browser blocks notifications from this page.")
      : t("Desktop notifications");
  }

  /** Whose tab this is (the title says it besides the count). */
  setName(name) {
    this.name = name;
    this.#title();
  }

  /** A message or a file from someone else, shown just now. */
  arrived(title, body, key) {
    if (!document.hidden) return;
    this.unread += 1;
    this.#title();
    if (!this.enabled) return;
    try {
      // One per conversation (its tag): a burst, such as a replay, replaces, not piles up.
      const notice = new Notification(title, { body, tag: key, icon: "/static/icon.svg" });
      notice.addEventListener("click", () => {
        window.focus();
        notice.close();
        this.onClick(key);
      });
    } catch {
      // Some browsers allow notifications only from a service worker: the title count stays.
    }
  }

  seen() {
    if (this.unread) {
      this.unread = 0;
      this.#title();
    }
  }

  #title() {
    const base = this.name ? `${this.name} \u2014 ${t("LAN chat")}` : t("LAN chat");
    document.title = this.unread ? `(${this.unread}) ${base}` : base;
  }
}
