// The page's sentences about logins, connections, refused messages and presence,
// in the GUI's words (gui/errors_text.py, gui/lines.py): each refusal is one sentence.
"use strict";

import { nt, t } from "./i18n.js";
import { requestRefused } from "./rooms.js";
import { clean } from "./text.js";

export const INVALID_NAME = "An ID may contain only letters, digits, '_' and '-' (at most 32); accents are fine, mixing alphabets is not.";
export const HISTORY_RESET = "The server's message history was reset or replaced since your last visit: everything it has for you is shown again from the start.";
export const PLAIN = "Connected WITHOUT encryption: passwords and messages cross the network in clear.";
const ERROR_CODES = new Set(["malformed", "frame-too-large", "unknown-type", "bad-utf8",
  "invalid-field", "unexpected-message", "unsupported-version", "truncated"]);

/** Why the connection ended, in the page's language (errors_text.disconnect_reason). */
export function disconnectReason({ code, message }) {
  switch (code) {
    case "goodbye":
      if (!message || message === "goodbye" || message === "the server is shutting down") {
        return t("the server is shutting down or restarting");
      }
      return t("the server ended the session (\u201c{text}\u201d)", { text: clean(message, true) });
    case "account-disabled": return t("the server's administrator disabled your account");
    case "account-deleted": return t("the server's administrator deleted your account");
    case "shutdown": return t("the server is shutting down or restarting");
    case "connection-lost": return t("the connection was lost");
    case "timeout": return t("the connection timed out");
    case "too-slow": return t("this client fell too far behind the server");
    case "server-error": return t("an error on the server");
    case "too-many-connections": return t("the server has too many connections");
    case "protocol-error":
      return t("the server and this program did not understand each other ({code})",
        { code: clean(message, true) });
    default:
      if (ERROR_CODES.has(code)) {
        return t("the server and this program did not understand each other ({code})", { code });
      }
      return clean(message || code, true);
  }
}

/** A refused login as one sentence (errors_text.login_error). */
export function loginSentence(why) {
  switch (why.code) {
    case "already-active": return t("This ID is already active on another connection.");
    case "bad-password": return t("Wrong password for this ID.");
    case "rate-limited": return t("Too many login attempts: wait a minute, then try again.");
    case "invalid-name": return t(INVALID_NAME);
    case "server-full": return t("The server is full: try again later.");
    case "disabled": return t("This ID has been disabled by the server's administrator; ask them to enable it again.");
    case "name-reserved": return t("This ID belonged to a deleted account and nobody can take it yet: choose another one.");
    case "unreachable": return t("The server cannot be reached: check that it is running, then try again.");
    case "session-ended": return t("Your session has ended: please log in again.");
    case "account-disabled":
    case "account-deleted":
      return t("Connection to the server lost: {reason}", { reason: disconnectReason(why) });
    default: return t("Login failed: {reason}", { reason: disconnectReason(why) });
  }
}

export function chatRefused(reason, message) {
  if (reason === "rate-limited") return t("you are sending too fast; wait a moment");
  if (reason === "too-large") return t("the message is too long");
  if (reason === "unknown-user") return t("there is no user with that ID");
  if (["not-member", "not-found", "server-error"].includes(reason)) return requestRefused(reason);
  return clean(message || reason, true);
}

export function presenceText(event) {
  const user = clean(event.user, true);
  const texts = { joined: "{user} has joined", left: "{user} has left",
    deactivated: "{user} was deactivated", rejoined: "{user} has rejoined" };
  const text = texts[event.state] ? t(texts[event.state], { user }) : `${user}: ${event.state}`;
  return `${text} (${nt("{count} participant", "{count} participants", event.participant_count)})`;
}
