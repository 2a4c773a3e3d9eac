// The connection to the server: one WebSocket at a time, each binary message one
// chatproto frame (docs/protocol.md, spoken by chatproto.js's ClientConnection),
// logged in with the password or the resume token, kept alive, and brought back
// after a loss as the Python clients do (chatproto/session/reconnect.py):
//
// - waits that double from 0.5 s up to 15 s, each drawn between half and all of
//   its step, so the browsers of a restarted server do not all come back at once;
// - only failures that say "not now" are retried (the server down or full, the
//   user still counted as logged in); a wrong password or a disabled account
//   stop and show the login form;
// - the Login carries the last seq seen and its epoch (store.js), so the server
//   replays exactly what was missed, and the resume token, so no password is
//   needed; a refused token falls back to the password on the same connection.
//
// The heartbeat is the reference client's (docs/protocol.md 7.4): every Ping is
// answered, a Ping goes out after 15 s without a frame from the server, and after
// 45 s without one the connection counts as lost.
"use strict";

import { ClientConnection, RemoteProtocolError } from "./chatproto.js";
import * as store from "./store.js";

/** Login refusals and errors that say "not now" rather than "not you" (reconnect.py). */
export const RETRYABLE = new Set(["already-active", "rate-limited", "server-full",
  "too-many-connections", "shutdown", "timeout", "too-slow", "server-error"]);
/** Sessions an administrator ended on purpose: logging in again would be refused. */
export const ENDED_FOR_GOOD = new Set(["account-disabled", "account-deleted"]);

const HEARTBEAT_INTERVAL_MS = 15000;
const HEARTBEAT_TIMEOUT_MS = 45000;
const HEARTBEAT_CHECK_MS = 1000;
const ANSWERING_STATES = new Set(["login", "authenticating", "active", "transient"]);

/** Backoff of reconnect.py: ``initial * factor ** attempt`` capped at ``maximum``
 * seconds, and "equal jitter" (between half and all of the step). */
export class Backoff {
  constructor(initial = 0.5, factor = 2, maximum = 15) {
    this.initial = initial;
    this.factor = factor;
    this.maximum = maximum;
  }

  step(attempt) {
    return Math.min(this.initial * this.factor ** Math.max(attempt, 0), this.maximum);
  }

  delay(attempt, chance) {
    return this.step(attempt) * (0.5 + Math.min(Math.max(chance, 0), 1) / 2);
  }
}

/** The WebSocket endpoint of the page's own origin: ``wss:`` on an ``https:`` page. */
export function socketUrl(location = window.location) {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}

export class Session {
  /**
   * ``handlers``: ``status(state, detail)`` (state connecting | connected |
   * disconnected; detail ``{retryIn}`` in seconds while waiting), ``accepted(event,
   * {reset, reconnected})``, ``event(event)`` for everything else the server sends,
   * ``lost({code, message})`` (a reconnect follows), ``refused({code, message})``
   * (no reconnect: show the login form; code a LoginRejected reason, an Error
   * code, ``unreachable`` or ``session-ended``).
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.backoff = new Backoff();
    this.username = null;
    this.password = null;
    this.seq = 0n;
    this.epoch = 0n;
    this.current = null;
    this.failures = 0;
    this.retryTimer = null;
    this.heartbeat = null;
    this.everLoggedIn = false;
    this.stopped = true;
    this.nonce = 0n;
    window.addEventListener("online", () => {
      // The network is back: no point waiting out the rest of the step.
      if (this.retryTimer !== null) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.#open(false);
      }
    });
  }

  /** Log in as ``username``: with ``password`` from the login form (a refusal is
   * reported, not retried), or with ``password`` null and the tab's resume token
   * (after a reload: retried like a reconnect). */
  start(username, password) {
    if (this.current) this.#close(this.current, true);
    this.#clearTimers();
    this.stopped = false;
    this.username = username;
    this.password = password;
    this.everLoggedIn = false;
    this.failures = 0;
    const mark = store.loadMark(username);
    this.seq = mark.seq;
    this.epoch = mark.epoch;
    this.#open(password !== null);
  }

  /** Leave: Goodbye (the user has *left*), close, forget the token. */
  stop() {
    this.stopped = true;
    this.#clearTimers();
    const attempt = this.current;
    this.current = null;
    if (attempt) {
      try {
        if (attempt.ws.readyState === WebSocket.OPEN && ANSWERING_STATES.has(attempt.conn.state)) {
          attempt.ws.send(attempt.conn.send({ type: "Goodbye", message: "" }));
        }
      } catch {
        // the connection is broken already: closing is all that is left
      }
      attempt.ws.close(1000);
    }
    if (this.username !== null) store.saveToken(this.username, null);
    store.setTabUser(null);
    this.password = null;
  }

  get connected() {
    const attempt = this.current;
    return attempt !== null && attempt.loggedIn && attempt.ws.readyState === WebSocket.OPEN;
  }

  /** The protocol connection of the session (its version, rooms, open uploads). */
  get conn() {
    return this.current ? this.current.conn : null;
  }

  /** Send ``event``; false when not logged in. A LocalProtocolError (the event
   * breaks a rule) is thrown to the caller. */
  send(event) {
    if (!this.connected) return false;
    const attempt = this.current;
    attempt.ws.send(attempt.conn.send(event));
    return true;
  }

  /** Whether the history entry ``seq`` is new here; if so it is remembered (in
   * this tab and in localStorage) as the point to resume from. */
  isNew(seq) {
    if (seq <= this.seq) return false; // replayed again after a reconnect
    this.seq = seq;
    store.saveMark(this.username, seq, this.epoch);
    return true;
  }

  // -- one connection ------------------------------------------------------------

  #open(fromForm) {
    const ws = new WebSocket(socketUrl());
    ws.binaryType = "arraybuffer";
    const attempt = { ws, conn: new ClientConnection({ software: "lanchat-web" }), fromForm,
      loggedIn: false, goodbye: null, error: null, lastHeard: Date.now(), pinged: false,
      withPassword: false };
    this.current = attempt;
    this.handlers.status("connecting", {});
    ws.addEventListener("open", () => this.#opened(attempt));
    ws.addEventListener("message", (message) => this.#message(attempt, message));
    ws.addEventListener("close", () => this.#closed(attempt));
  }

  #opened(attempt) {
    if (attempt !== this.current) return;
    attempt.lastHeard = Date.now();
    attempt.ws.send(attempt.conn.hello());
    this.#sendLogin(attempt, store.loadToken(this.username));
    this.#startHeartbeat(attempt);
  }

  #sendLogin(attempt, token) {
    const login = { type: "Login", username: this.username, last_seen_seq: this.seq,
      epoch: this.epoch, password: "", resume_token: new Uint8Array(0) };
    if (token) {
      login.resume_token = token;
    } else if (this.password) {
      login.password = this.password;
      attempt.withPassword = true;
    } else {
      this.#finish(attempt, { code: "session-ended", message: "" });
      return;
    }
    attempt.ws.send(attempt.conn.send(login));
  }

  #message(attempt, message) {
    if (attempt !== this.current || !(message.data instanceof ArrayBuffer)) return;
    let event;
    try {
      event = attempt.conn.receive(new Uint8Array(message.data));
    } catch (error) {
      if (!(error instanceof RemoteProtocolError)) throw error;
      this.#protocolError(attempt, error);
      return;
    }
    attempt.lastHeard = Date.now();
    attempt.pinged = false;
    switch (event.type) {
      case "Hello":
      case "Pong":
        return; // the connection's business (the version), a sign of life
      case "Ping":
        if (ANSWERING_STATES.has(attempt.conn.state)) {
          attempt.ws.send(attempt.conn.send({ type: "Pong", nonce: event.nonce }));
        }
        return;
      case "Goodbye":
        attempt.goodbye = event; // the close follows
        return;
      case "Error":
        attempt.error = event;
        return;
      case "LoginAccepted":
        this.#accepted(attempt, event);
        return;
      case "LoginRejected":
        this.#rejected(attempt, event);
        return;
      default:
        this.handlers.event(event);
    }
  }

  #accepted(attempt, event) {
    attempt.loggedIn = true;
    this.failures = 0;
    this.username = event.username; // the account's own spelling
    store.saveToken(event.username, event.resume_token); // the next one, or none
    store.setTabUser(event.username);
    // A history reset (or another history than the one our seq belongs to): the
    // old seq means nothing here, count again from the replay, under the new epoch.
    const reset = event.history_reset || (this.epoch !== 0n && this.epoch !== event.epoch);
    if (reset) {
      this.seq = 0n;
      store.resetMark(event.username, event.epoch);
    } else if (this.epoch !== event.epoch) {
      store.saveMark(event.username, this.seq, event.epoch);
    }
    this.epoch = event.epoch;
    const reconnected = this.everLoggedIn;
    this.everLoggedIn = true;
    this.handlers.accepted(event, { reset, reconnected });
    this.handlers.status("connected", {});
  }

  #rejected(attempt, event) {
    if (event.reason === "bad-resume-token") {
      store.saveToken(this.username, null);
      if (this.password) {
        this.#sendLogin(attempt, null); // the same connection, with the password
        return;
      }
      this.#finish(attempt, { code: "session-ended", message: "" });
      return;
    }
    if (!attempt.fromForm && RETRYABLE.has(event.reason)) {
      this.#close(attempt, true);
      this.#retry();
      return;
    }
    this.#finish(attempt, { code: event.reason, message: event.message });
  }

  #protocolError(attempt, error) {
    try {
      attempt.ws.send(attempt.conn.send({ type: "Error", code: error.code,
        message: String(error.message).slice(0, 200) }));
    } catch {
      // nothing more can be said on this connection
    }
    this.#lose(attempt, { code: "protocol-error", message: error.code });
  }

  #closed(attempt) {
    if (attempt !== this.current) return;
    const error = attempt.error;
    if (error && ENDED_FOR_GOOD.has(error.code)) {
      this.#finish(attempt, { code: error.code, message: error.message });
    } else if (!attempt.loggedIn && attempt.fromForm) {
      // The first login from the form: say why, do not insist.
      this.#finish(attempt, error ? { code: error.code, message: error.message }
        : { code: "unreachable", message: "" });
    } else if (error) {
      this.#lose(attempt, { code: error.code, message: error.message });
    } else if (attempt.goodbye) {
      this.#lose(attempt, { code: "goodbye", message: attempt.goodbye.message });
    } else {
      this.#lose(attempt, { code: "connection-lost", message: "" });
    }
  }

  /** The connection is gone but may come back: say so, try again later. */
  #lose(attempt, why) {
    if (attempt !== this.current) return;
    const wasLoggedIn = attempt.loggedIn;
    this.#close(attempt, false); // no Goodbye: the user is not leaving
    if (wasLoggedIn) this.handlers.lost(why);
    this.#retry();
  }

  /** No more attempts: the login form takes over. */
  #finish(attempt, why) {
    if (attempt !== this.current) return;
    this.#close(attempt, true);
    this.stopped = true;
    if (ENDED_FOR_GOOD.has(why.code) || why.code === "session-ended") {
      store.saveToken(this.username, null);
      store.setTabUser(null);
    }
    this.handlers.refused(why);
  }

  /** Close ``attempt``'s socket, with a Goodbye first when ``goodbye`` (a login
   * that is given up: the server then need not wait for the connection to time out). */
  #close(attempt, goodbye) {
    if (this.current === attempt) this.current = null;
    this.#clearTimers();
    try {
      if (goodbye && attempt.ws.readyState === WebSocket.OPEN
          && ANSWERING_STATES.has(attempt.conn.state)) {
        attempt.ws.send(attempt.conn.send({ type: "Goodbye", message: "" }));
      }
    } catch {
      // broken already
    }
    attempt.ws.close();
  }

  #retry() {
    if (this.stopped) return;
    const delay = this.backoff.delay(this.failures, Math.random());
    this.failures += 1;
    this.handlers.status("disconnected", { retryIn: Math.max(1, Math.round(delay)) });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.#open(false);
    }, delay * 1000);
  }

  #startHeartbeat(attempt) {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (attempt !== this.current) return;
      const idle = Date.now() - attempt.lastHeard;
      if (idle >= HEARTBEAT_TIMEOUT_MS) {
        this.#lose(attempt, { code: "timeout", message: "" });
      } else if (idle >= HEARTBEAT_INTERVAL_MS && !attempt.pinged
                 && ANSWERING_STATES.has(attempt.conn.state)) {
        attempt.pinged = true;
        this.nonce += 1n;
        attempt.ws.send(attempt.conn.send({ type: "Ping", nonce: this.nonce }));
      }
    }, HEARTBEAT_CHECK_MS);
  }

  #clearTimers() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
