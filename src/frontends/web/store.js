// What the page remembers between visits, per user of this server (the page's
// origin is the server, so the browser keeps each server's apart):
//
// - localStorage ``lanchat.<name>.lastSeq`` and ``lanchat.<name>.epoch``: the
//   highest history seq seen and the history it belongs to, sent in the next
//   Login so the server replays exactly what was missed (as the Python
//   clients' seqstore.py does). Within one epoch the seq never goes back; a new
//   epoch replaces the mark whatever its seq.
// - sessionStorage ``lanchat.<name>.resumeToken`` (hex) and ``lanchat.user``:
//   the server's resume token for the next login, so that a reconnect or a
//   reload of this tab needs no password. sessionStorage only: it dies with
//   the tab, and it logs the user in as the password does.
"use strict";

import { fromHex, toHex, usernameSkeleton } from "./chatproto.js";

const PREFIX = "lanchat.";

function storage(kind) {
  try {
    return kind === "local" ? window.localStorage : window.sessionStorage;
  } catch {
    return null; // storage disabled (a privacy setting): remember nothing
  }
}

function get(kind, key) {
  try {
    return storage(kind)?.getItem(PREFIX + key) ?? null;
  } catch {
    return null;
  }
}

function set(kind, key, value) {
  try {
    if (value === null) storage(kind)?.removeItem(PREFIX + key);
    else storage(kind)?.setItem(PREFIX + key, value);
  } catch {
    // Full or disabled: a longer replay or a password next time, nothing worse.
  }
}

function bigOr0(text) {
  if (text === null || !/^\d{1,20}$/.test(text)) return 0n;
  return BigInt(text);
}

function skeleton(name) {
  try {
    return usernameSkeleton(name);
  } catch {
    return String(name).toLowerCase();
  }
}

/** The name the marks of ``typed`` are stored under: itself, or the stored
 * spelling of the same account (``Bob`` and ``bob`` are one name). */
export function storedName(typed) {
  if (get("local", `${typed}.lastSeq`) !== null) return typed;
  const local = storage("local");
  if (!local) return typed;
  const wanted = skeleton(typed);
  try {
    for (let i = 0; i < local.length; i += 1) {
      const key = local.key(i);
      const match = key && /^lanchat\.(.+)\.lastSeq$/su.exec(key);
      if (match && skeleton(match[1]) === wanted) return match[1];
    }
  } catch {
    // unreadable storage: start from nothing
  }
  return typed;
}

/** ``{seq, epoch}`` (BigInts) last seen by ``name``; 0n, 0n for none. */
export function loadMark(name) {
  const stored = storedName(name);
  return { seq: bigOr0(get("local", `${stored}.lastSeq`)),
    epoch: bigOr0(get("local", `${stored}.epoch`)) };
}

/** Remember ``seq`` of history ``epoch`` for ``name`` (the account's spelling). */
export function saveMark(name, seq, epoch) {
  const old = loadMark(name);
  if (old.epoch === epoch && old.seq >= seq) return;
  const stored = storedName(name);
  if (stored !== name) {
    set("local", `${stored}.lastSeq`, null);
    set("local", `${stored}.epoch`, null);
  }
  set("local", `${name}.lastSeq`, seq.toString());
  set("local", `${name}.epoch`, epoch.toString());
}

/** Start counting again under ``epoch`` (the server's history is another one). */
export function resetMark(name, epoch) {
  set("local", `${storedName(name)}.lastSeq`, null);
  set("local", `${name}.lastSeq`, "0");
  set("local", `${name}.epoch`, epoch.toString());
}

export function loadToken(name) {
  const hex = get("session", `${skeleton(name)}.resumeToken`);
  if (!hex || !/^[0-9a-f]{64}$/.test(hex)) return null;
  return fromHex(hex);
}

export function saveToken(name, token) {
  const key = `${skeleton(name)}.resumeToken`;
  set("session", key, token && token.length ? toHex(token) : null);
}

/** The user this tab is logged in as, to log in again after a reload. */
export function tabUser() {
  return get("session", "user");
}

export function setTabUser(name) {
  set("session", "user", name);
}

export function loadSetting(key) {
  return get("local", key);
}

export function saveSetting(key, value) {
  set("local", key, value);
}
