// chatproto.js: the LAN chat protocol (docs/protocol.md) for the browser, as Python's
// chatproto is for Python: framing, every message, the value and field rules, the limits
// and the client side of the state machine. No I/O and no dependencies; runs in browsers
// and in Node 20. The page imports only what this block lists.
//
// API (ES module exports)
//   PROTOCOL_VERSION              5: the highest version spoken (offered in Hello)
//   OLDEST_VERSION                2: the oldest version spoken
//   UPLOAD_TICKET_VERSION, ROOMS_VERSION, TRANSIENT_LOGIN_VERSION   5, 4 and 3
//                                 (UploadTicket; rooms; TransientLogin)
//   LIMITS                        frozen object: every limit of src/chatproto/limits.py,
//                                 same names (MAX_TEXT_BYTES, MIN_FRAME_SIZE, ...; u64 ones
//                                 such as MAX_FILE_SIZE and SKIP_REPLAY are BigInt)
//   SKIP_REPLAY                   2n**64n - 1n (Login.last_seen_seq asking for no replay)
//   GENERAL_ROOM                  "general"
//   ErrorCode, PresenceState, ParticipantState, LoginRejectReason, RejectReason,
//   RequestRejectReason, MembershipState
//                                 frozen objects NAME -> string value, as Python's StrEnums
//   State                         frozen object of the state strings (Python's chatproto.State):
//                                 the client's HELLO "hello", LOGIN "login", AUTHENTICATING
//                                 "authenticating", ACTIVE "active", TRANSIENT "transient",
//                                 CLOSED "closed", ERROR "error"; the server's also READY
//                                 "ready", LISTING "listing" (seen in theirState)
//   ProtocolError extends Error; LocalProtocolError, RemoteProtocolError extend it;
//                                 each has .code (an ErrorCode string) and .message
//   MESSAGE_TYPES                 frozen object: event type name -> type code (0x01 ...)
//   LAYOUTS                       the layout table as data: [{code, type, fields: [[name,
//                                 kind name]...], maxPayload}] (for tests and tools)
//   UNICODE_VERSION               "14.0.0": the Unicode of the user name rule
//   encodeEvent(event) -> Uint8Array      one whole frame; throws LocalProtocolError
//   decodeFrame(bytes, maxFrameSize = LIMITS.DEFAULT_MAX_FRAME_SIZE) -> event  exactly
//                                 one whole frame (header + payload), a Uint8Array or ArrayBuffer;
//                                 throws RemoteProtocolError with Python's code
//   Events are plain objects {type: "SendChat", client_id: 7n, recipient: null, text: "hi"}:
//     type = the Python class name, fields = Python's attrs field names; u64 -> BigInt,
//     u8/u16/u32 -> Number, bool -> boolean, text -> string (optional: null), sha256 /
//     resume_token / FileChunk data -> Uint8Array, enum fields -> their string,
//     participants -> [{name, state}], rooms -> [{name, member_count, private, member}].
//     encodeEvent fills a missing field that has a default in Python (Goodbye's message,
//     SendChat's recipient and client_id, LoginAccepted's participant_count, ...).
//   class ClientConnection        the client side of the state machine
//     constructor({software = "lanchat-web", maxFrameSize = LIMITS.DEFAULT_MAX_FRAME_SIZE})
//     hello() -> Uint8Array       the Hello frame to send first (goes through send)
//     send(event) -> Uint8Array   checks the event (fields, values, state, open uploads /
//                                 fetches / requests, the peer's frame limit); throws
//                                 LocalProtocolError (an invalid field changes nothing; a
//                                 state violation leaves the connection in "error")
//     receive(bytes) -> event     one WebSocket message = one frame; throws
//                                 RemoteProtocolError (then again on every later call)
//     receiveClose() -> {type: "ConnectionClosed", clean}   the peer's stream ended
//     maySend(type) -> boolean    whether our state's table allows that event type now
//     uploadOverHttp(uploadId)    an accepted upload whose bytes go by HTTP PUT
//                                 (docs/protocol.md 1.1): no FileChunk/FileEnd may follow,
//                                 and its FileAvailable closes it as if FileEnd was sent
//     state (our state string), theirState, version (agreed version or null),
//     speaksRooms, speaksUploadTickets (an UploadTicket follows each FileAccepted: its
//     token goes with the PUT as Upload-Token), peerMaxFrameSize (null before the server's Hello), username (null
//     before LoginAccepted), transient, chunkSize, openUploads, openFetches, openRequests,
//     maxFrameSize (ours)
//   sanitizeFilename(name) -> string      identical to Python's chatproto.sanitize_filename
//   truncateUtf8(text, maxBytes) -> string  as chatproto.limits.truncate_utf8
//   roomTarget(room) -> "#room" (null for general, however spelled), roomOf(recipient),
//   isRoomTarget(recipient), isGeneral(room), sameTarget(ours, echoed)   as chatproto.targets
//   usernameProblem(name) -> string | null, isValidUsername(name), usernameSkeleton(name)
//                                 the user name rule of chatproto.names (Unicode 14.0)
//   isValidToken(token)           machine-readable codes: lowercase words joined by "-"
//   class Sha256                  pure-JS incremental SHA-256: update(bytes) -> this,
//                                 digest() -> Uint8Array (32 bytes)
//   sha256(bytes) -> Promise<Uint8Array>  one-shot, with Sha256 (works on http:// pages)
//   toHex(bytes) -> string, fromHex(string) -> Uint8Array
//
// The module mirrors the Python package file by file: limits.py, errors.py, names.py,
// targets.py, fields.py, rules.py, wire.py with one codec (the reference codec's loop),
// state.py + transfer_state.py + request_state.py, connection.py, files.py. Where the
// Python code gives a precise error code, this gives the same one; tests/web replays a
// corpus generated by the Python library to keep the two from drifting.

// -- limits (limits.py, names.py) ------------------------------------------------------

export const PROTOCOL_VERSION = 5;
export const OLDEST_VERSION = 2;
export const TRANSIENT_LOGIN_VERSION = 3;
export const ROOMS_VERSION = 4;
export const UPLOAD_TICKET_VERSION = 5;
export const GENERAL_ROOM = "general";
const ROOM_PREFIX = "#";
export const SKIP_REPLAY = 2n ** 64n - 1n;
const U64_MAX = 2n ** 64n - 1n;

export const LIMITS = Object.freeze({
  PROTOCOL_VERSION,
  OLDEST_PROTOCOL_VERSION: OLDEST_VERSION,
  TRANSIENT_LOGIN_VERSION,
  ROOMS_VERSION,
  UPLOAD_TICKET_VERSION,
  HEADER_SIZE: 5,
  MIN_FRAME_SIZE: 65_536 + 64,
  DEFAULT_MAX_FRAME_SIZE: 1_048_576,
  ABSOLUTE_MAX_FRAME_SIZE: 16 * 1_048_576,
  DEFAULT_CHUNK_SIZE: 65_536,
  MAX_USERNAME_CHARS: 32,
  MAX_USERNAME_BYTES: 128,
  MAX_MARKS_IN_A_ROW: 4,
  MAX_PASSWORD_BYTES: 1024,
  MAX_TEXT_BYTES: 16_384,
  MAX_MESSAGE_BYTES: 1024,
  MAX_FILENAME_BYTES: 255,
  MAX_SOFTWARE_BYTES: 64,
  MAX_TOKEN_BYTES: 32,
  RESUME_TOKEN_BYTES: 32,
  UPLOAD_TOKEN_BYTES: 32,
  MAX_PARTICIPANTS: 65_535,
  MAX_FILE_SIZE: 2n ** 62n,
  MAX_OPEN_UPLOADS: 4,
  MAX_OPEN_FETCHES: 8,
  MAX_RECIPIENT_BYTES: 1 + 128,
  MAX_OPEN_REQUESTS: 16,
  MAX_SEARCH_LIMIT: 100,
  MAX_QUERY_BYTES: 256,
  MAX_ROOMS_PER_PAGE: 1000,
  SKIP_REPLAY,
});
const L = LIMITS;
const HEADER_SIZE = L.HEADER_SIZE;
// Every peer accepts at least MIN_FRAME_SIZE: only frames above it need the peer's limit.
const ALWAYS_FITS = L.MIN_FRAME_SIZE + HEADER_SIZE;

// -- codes (errors.py, events.py) ------------------------------------------------------

export const ErrorCode = Object.freeze({
  MALFORMED: "malformed",
  FRAME_TOO_LARGE: "frame-too-large",
  UNKNOWN_TYPE: "unknown-type",
  BAD_UTF8: "bad-utf8",
  INVALID_FIELD: "invalid-field",
  UNEXPECTED_MESSAGE: "unexpected-message",
  UNSUPPORTED_VERSION: "unsupported-version",
  TRUNCATED: "truncated",
  TIMEOUT: "timeout",
  TOO_SLOW: "too-slow",
  SHUTDOWN: "shutdown",
  SERVER_ERROR: "server-error",
  TOO_MANY_CONNECTIONS: "too-many-connections",
  ACCOUNT_DISABLED: "account-disabled",
  ACCOUNT_DELETED: "account-deleted",
});

export const PresenceState = Object.freeze({
  JOINED: "joined",
  LEFT: "left",
  DEACTIVATED: "deactivated",
  REJOINED: "rejoined",
});

export const ParticipantState = Object.freeze({ ACTIVE: "active", DEACTIVATED: "deactivated" });

export const LoginRejectReason = Object.freeze({
  ALREADY_ACTIVE: "already-active",
  BAD_PASSWORD: "bad-password",
  BAD_RESUME_TOKEN: "bad-resume-token",
  INVALID_NAME: "invalid-name",
  RATE_LIMITED: "rate-limited",
  SERVER_FULL: "server-full",
  TOO_MANY_LOGINS: "too-many-logins",
  DISABLED: "disabled",
  NAME_RESERVED: "name-reserved",
});

export const RejectReason = Object.freeze({
  UNKNOWN_USER: "unknown-user",
  RATE_LIMITED: "rate-limited",
  TOO_LARGE: "too-large",
  BAD_NAME: "bad-name",
  CHECKSUM_MISMATCH: "checksum-mismatch",
  STORAGE_FULL: "storage-full",
  NOT_FOUND: "not-found",
  BAD_OFFSET: "bad-offset",
  SERVER_ERROR: "server-error",
  NOT_MEMBER: "not-member",
});

export const RequestRejectReason = Object.freeze({
  NOT_FOUND: "not-found",
  ALREADY_EXISTS: "already-exists",
  INVALID_NAME: "invalid-name",
  NOT_MEMBER: "not-member",
  ALREADY_MEMBER: "already-member",
  CANNOT_LEAVE_GENERAL: "cannot-leave-general",
  TOO_MANY_ROOMS: "too-many-rooms",
  ROOM_FULL: "room-full",
  TOO_MANY_PRIVATE_ROOMS: "too-many-private-rooms",
  UNKNOWN_USER: "unknown-user",
  BAD_QUERY: "bad-query",
  RATE_LIMITED: "rate-limited",
  SERVER_ERROR: "server-error",
});

export const MembershipState = Object.freeze({ JOINED: "joined", LEFT: "left" });

export const State = Object.freeze({
  HELLO: "hello",
  LOGIN: "login",
  AUTHENTICATING: "authenticating",
  READY: "ready",
  LISTING: "listing",
  ACTIVE: "active",
  TRANSIENT: "transient",
  CLOSED: "closed",
  ERROR: "error",
});

// -- errors (errors.py) ----------------------------------------------------------------

export class ProtocolError extends Error {
  constructor(message, code = ErrorCode.MALFORMED) {
    super(message);
    this.name = new.target.name;
    this.code = String(code);
  }
}

/** Our side tried to send something that is invalid or not allowed now. */
export class LocalProtocolError extends ProtocolError {}

/** The peer sent bytes that are invalid or not allowed now; `code` goes in the Error frame. */
export class RemoteProtocolError extends ProtocolError {}

/** A field or value failed validation (fields.py FieldError); never leaves the module. */
class FieldError extends Error {
  constructor(message, code = ErrorCode.INVALID_FIELD) {
    super(message);
    this.code = code;
  }
}

/** A state machine rule was broken (transfer_state.py Violation); never leaves the module. */
class Violation extends Error {
  constructor(message, code = ErrorCode.UNEXPECTED_MESSAGE) {
    super(message);
    this.code = code;
  }
}

// -- bytes and text --------------------------------------------------------------------

const ENCODER = new TextEncoder();
// fatal: over-long forms, encoded surrogates, code points over U+10FFFF and cut sequences
// are errors, as for Python's strict decoder; ignoreBOM: a byte order mark is data (3.1).
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

function isWellFormed(text) {
  if (typeof text.isWellFormed === "function") return text.isWellFormed();
  // Older engines: every high surrogate followed by a low one, no low one alone.
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/** The UTF-8 of `text`; a lone surrogate (which Python cannot encode) is bad-utf8. */
function utf8(text) {
  if (!isWellFormed(text)) {
    throw new FieldError("text contains unpaired surrogates", ErrorCode.BAD_UTF8);
  }
  return ENCODER.encode(text);
}

function fromUtf8(raw) {
  try {
    return DECODER.decode(raw);
  } catch {
    throw new FieldError("a text field is not valid UTF-8", ErrorCode.BAD_UTF8);
  }
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("expected a Uint8Array or an ArrayBuffer");
}

export function toHex(bytes) {
  let out = "";
  for (const byte of asBytes(bytes)) out += byte.toString(16).padStart(2, "0");
  return out;
}

export function fromHex(text) {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new RangeError("not hex");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The longest start of `text` whose UTF-8 fits `maxBytes`, never half a character
 * (limits.truncate_utf8; lone surrogates count 3 bytes and are dropped, as there). */
export function truncateUtf8(text, maxBytes) {
  let total = 0;
  for (const ch of text) total += charBytes(ch);
  if (total <= maxBytes) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = charBytes(ch);
    if (used + size > maxBytes) break;
    used += size;
    if (!isLoneSurrogate(ch)) out += ch;
  }
  return out;
}

function charBytes(ch) {
  const cp = ch.codePointAt(0);
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

function isLoneSurrogate(ch) {
  return ch.length === 1 && ch.charCodeAt(0) >= 0xd800 && ch.charCodeAt(0) <= 0xdfff;
}

function isAscii(text) {
  return /^[\x00-\x7f]*$/.test(text);
}

// -- user names (names.py) -------------------------------------------------------------
// Judged with the Unicode 14.0 tables of chatproto._names_data (embedded at the end of
// this file, generated), not with the engine's own Unicode, which is newer: a name the
// Python peer refuses must be refused here too. Normalization and case folding of the
// characters that can be valid are stable across versions, so the engine's are used,
// with the few case foldings that differ from toLowerCase taken from Python's tables.

const OTHER = 0;
const LETTER = 1;
const DIGIT = 2;
const MARK = 3;
const START = -1;
const FOLD_ROUNDS = 8;

const NAME_EMPTY = "the name is empty";
const NAME_TOO_LONG = `the name is longer than ${L.MAX_USERNAME_CHARS} characters`;
const NAME_TOO_MANY_BYTES = `the name is longer than ${L.MAX_USERNAME_BYTES} bytes of UTF-8`;
const NAME_CHARACTERS = "the name may contain only letters, digits, '_' and '-'";
const NAME_NOT_NFC = "the name is not in Unicode NFC form";
const NAME_MARK_FIRST = "the name starts with a combining mark";
const NAME_MARK_ALONE = "a combining mark in the name does not follow a letter";
const NAME_TOO_MANY_MARKS =
  `the name has more than ${L.MAX_MARKS_IN_A_ROW} combining marks in a row`;
const NAME_REPEATED_MARK = "the name repeats a combining mark";
const NAME_NO_SCRIPT = "the name contains a modifier letter that belongs to no script";
const NAME_MIXED_SCRIPTS = "the name mixes letters of different scripts";
const NAME_MIXED_DIGITS = "the name mixes digits of different number systems";

let unicodeTables = null;

/** The tables, unpacked on first use (an ASCII-only page never needs them). */
function tables() {
  if (unicodeTables !== null) return unicodeTables;
  const deltas = (text) => {
    let at = 0;
    return Int32Array.from(text.split(","), (item) => (at += parseInt(item, 36)));
  };
  const scripts = UNICODE_SCRIPTS.split(" ");
  const bit = (name) => 1n << BigInt(scripts.indexOf(name));
  const fold = new Map();
  for (const [cp, folded] of CASEFOLD_EXTRA) fold.set(cp, folded);
  const unsafe = UNSAFE_FILENAME_RANGES.split(",").map((r) => r.split("-").map((h) => parseInt(h, 16)));
  // A first range starting at 0 keeps floorIndex in bounds (U+0000 is a control).
  unicodeTables = {
    starts: deltas(NAME_STARTS),
    info: Uint16Array.from(NAME_INFO.split(","), (item) => parseInt(item, 36)),
    masks: NAME_MASKS.split(",").map((m) => (m === "-1" ? -1n : BigInt("0x" + m))),
    zeros: deltas(DIGIT_ZEROS),
    latin: bit("Latn"),
    cjk: bit("Hanb") | bit("Jpan") | bit("Kore"),
    fold,
    unsafeStarts: Int32Array.from(unsafe, ([low]) => low),
    unsafeEnds: Int32Array.from(unsafe, ([low, high = low]) => high),
  };
  return unicodeTables;
}

/** The largest index i with sorted[i] <= value (sorted[0] <= value). */
function floorIndex(sorted, value) {
  let low = 0;
  let high = sorted.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (sorted[mid] <= value) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** [kind, script mask] of code point `cp` in Unicode 14.0. */
function charInfo(cp) {
  const t = tables();
  const entry = t.info[floorIndex(t.starts, cp)];
  return [entry & 7, t.masks[entry >> 3]];
}

/** Whether `cp` is assigned in Unicode 14.0 and neither private use nor a surrogate. */
function assigned14(cp) {
  return charInfo(cp)[1] !== 0n;
}

/** Unicode 14.0's full case folding: Python's extra foldings, else toLowerCase; a
 * character unassigned there has none (the engine may know it, Python does not). */
function casefold(text) {
  const fold = tables().fold;
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const folded = fold.get(cp);
    out += folded !== undefined ? folded : assigned14(cp) ? ch.toLowerCase() : ch;
  }
  return out;
}

/** `text` in normalization `form` as Python's Unicode 14.0 computes it: a character
 * unassigned there is a starter that decomposes and composes with nothing, so the runs
 * between such characters normalise alone, and it stays as it is. */
function normalize14(text, form) {
  if (isAscii(text)) return text;
  let out = "";
  let run = "";
  for (const ch of text) {
    if (assigned14(ch.codePointAt(0))) {
      run += ch;
    } else {
      out += run.normalize(form) + ch;
      run = "";
    }
  }
  return out + run.normalize(form);
}

/** The key on which two names are the same (names.username_skeleton). */
export function usernameSkeleton(name) {
  if (isAscii(name)) return name.toLowerCase();
  let key = name;
  for (let round = 0; round < FOLD_ROUNDS; round++) {
    const folded = normalize14(casefold(normalize14(key, "NFKC")), "NFKC");
    if (folded === key) break;
    key = folded;
  }
  return key;
}

/** Why `name` is not a valid user name (one short sentence), or null when it is. */
export function usernameProblem(name) {
  if (typeof name !== "string") return "a user name must be a string";
  if (isAscii(name)) {
    if (/^[A-Za-z0-9_-]{1,32}$/.test(name)) return null;
    if (name === "") return NAME_EMPTY;
    return name.length > L.MAX_USERNAME_CHARS ? NAME_TOO_LONG : NAME_CHARACTERS;
  }
  return unicodeProblem(name);
}

export function isValidUsername(name) {
  return usernameProblem(name) === null;
}

function unicodeProblem(name) {
  const chars = Array.from(name);
  if (chars.length > L.MAX_USERNAME_CHARS) return NAME_TOO_LONG;
  let previous = START;
  let marks = false;
  for (const ch of chars) {
    const kind = charInfo(ch.codePointAt(0))[0];
    if (kind === MARK) {
      if (previous !== LETTER && previous !== MARK) {
        return previous === START ? NAME_MARK_FIRST : NAME_MARK_ALONE;
      }
      marks = true;
    } else if (kind === OTHER) {
      return NAME_CHARACTERS; // also every lone surrogate
    }
    previous = kind;
  }
  if (ENCODER.encode(name).length > L.MAX_USERNAME_BYTES) return NAME_TOO_MANY_BYTES;
  if (name.normalize("NFC") !== name) return NAME_NOT_NFC;
  if (marks) {
    let inARow = 0;
    let last = "";
    for (const ch of name.normalize("NFD")) {
      if (charInfo(ch.codePointAt(0))[0] === MARK) {
        inARow += 1;
        if (inARow > L.MAX_MARKS_IN_A_ROW) return NAME_TOO_MANY_MARKS;
        if (ch === last) return NAME_REPEATED_MARK;
      } else {
        inARow = 0;
      }
      last = ch;
    }
  }
  return scriptProblem(usernameSkeleton(name));
}

/** TS #39 "highly restrictive" and mixed numbers, on the skeleton (names._script_problem). */
function scriptProblem(skeleton) {
  const t = tables();
  let resolved = -1n;
  let withoutLatin = -1n;
  let zero = -1;
  for (const ch of skeleton) {
    const cp = ch.codePointAt(0);
    const [kind, mask] = charInfo(cp);
    if (kind === LETTER && mask === -1n) return NAME_NO_SCRIPT;
    if (kind === DIGIT) {
      // Decimal digits come in runs of ten from a zero: the zero is the number system.
      const digitZero = t.zeros[floorIndex(t.zeros, cp)];
      if (zero === -1) zero = digitZero;
      else if (digitZero !== zero) return NAME_MIXED_DIGITS;
    }
    resolved &= mask;
    if ((mask & t.latin) === 0n) withoutLatin &= mask;
  }
  if (resolved === 0n && (withoutLatin & t.cjk) === 0n) return NAME_MIXED_SCRIPTS;
  return null;
}

// -- machine-readable codes (limits.is_valid_token) ------------------------------------

export function isValidToken(token) {
  return typeof token === "string" && token.length <= L.MAX_TOKEN_BYTES &&
    /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(token);
}

// -- targets (targets.py) --------------------------------------------------------------

/** Whether `room` names general (General, GENERAL, its fullwidth form...). */
export function isGeneral(room) {
  return room === GENERAL_ROOM || usernameSkeleton(room) === GENERAL_ROOM;
}

/** The recipient of a message to `room`: null for general (however spelled), else "#room". */
export function roomTarget(room) {
  return isGeneral(room) ? null : ROOM_PREFIX + room;
}

/** The room a recipient names ("general" for null), or null for a user (a direct message). */
export function roomOf(recipient) {
  if (recipient === null || recipient === undefined) return GENERAL_ROOM;
  return recipient.startsWith(ROOM_PREFIX) ? recipient.slice(1) : null;
}

/** Whether `recipient` is a "#room" (not general, not a user). */
export function isRoomTarget(recipient) {
  return typeof recipient === "string" && recipient.startsWith(ROOM_PREFIX);
}

/** Whether the server's `echoed` recipient is the one we sent to, however either was spelled. */
export function sameTarget(ours, echoed) {
  ours = ours ?? null;
  echoed = echoed ?? null;
  if (ours === null || echoed === null) return ours === echoed;
  if (isRoomTarget(ours) !== isRoomTarget(echoed)) return false;
  return ours === echoed || usernameSkeleton(ours) === usernameSkeleton(echoed);
}

// -- field kinds (fields.py) -----------------------------------------------------------
// A fixed kind has a size; a variable kind a length prefix (1, 2 or 4 bytes), a maximum
// length, and functions between value and bytes that throw FieldError and nothing else
// for a bad value. `check` runs before encoding and after decoding, as in Python.

function checkName(value) {
  if (typeof value !== "string") throw new FieldError("a user name must be a str");
  const problem = usernameProblem(value);
  if (problem !== null) throw new FieldError(`invalid user name ${JSON.stringify(value)}: ${problem}`);
}

function nameToBytes(value) {
  checkName(value);
  return ENCODER.encode(value);
}

function nameFromBytes(raw) {
  const name = fromUtf8(raw);
  checkName(name);
  return name;
}

function checkRoomName(room) {
  if (isGeneral(room)) {
    throw new FieldError(`the room ${JSON.stringify(room)} is general, which is written as no recipient`);
  }
}

function encodeStr(value) {
  if (typeof value !== "string") throw new FieldError(`expected str, got ${typeName(value)}`);
  return utf8(value);
}

function encodeOptional(value) {
  return value === null ? EMPTY : encodeStr(value);
}

function decodeOptional(raw) {
  return raw.length ? fromUtf8(raw) : null;
}

function encodeBytes(value) {
  if (!(value instanceof Uint8Array)) throw new FieldError(`expected bytes, got ${typeName(value)}`);
  return value;
}

function copyBytes(raw) {
  return raw.slice();
}

function typeName(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? value.constructor?.name ?? "object" : typeof value;
}

function encodeTarget(value) {
  if (value === null) return EMPTY;
  if (typeof value === "string" && value.startsWith(ROOM_PREFIX)) {
    const room = value.slice(1);
    const name = nameToBytes(room);
    checkRoomName(room);
    const raw = new Uint8Array(name.length + 1);
    raw[0] = 0x23;
    raw.set(name, 1);
    return raw;
  }
  return nameToBytes(value);
}

function decodeTarget(raw) {
  if (!raw.length) return null;
  if (raw[0] === 0x23) {
    const room = nameFromBytes(raw.subarray(1));
    checkRoomName(room);
    return ROOM_PREFIX + room;
  }
  return nameFromBytes(raw);
}

const PARTICIPANT_CODES = new Map([["active", 1], ["deactivated", 2]]);
const PARTICIPANT_BY_CODE = new Map([[1, "active"], [2, "deactivated"]]);
const PRESENCE_CODES = new Map([["joined", 1], ["left", 2], ["deactivated", 3], ["rejoined", 4]]);
const MEMBERSHIP_CODES = new Map([["joined", 1], ["left", 2]]);
const byCode = (codes) => new Map(Array.from(codes, ([state, code]) => [code, state]));
const ROOM_PRIVATE = 1;
const ROOM_MEMBER = 2;

function notAList(what) {
  // The codes Python gives a value of the wrong type (AttributeError, TypeError).
  return new FieldError(`${what} must be a list`, ErrorCode.MALFORMED);
}

function joinBytes(parts, total) {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function encodeParticipants(value) {
  if (!Array.isArray(value)) throw notAList("participants");
  if (value.length > L.MAX_PARTICIPANTS) {
    throw new FieldError(`${value.length} participants, over the limit of ${L.MAX_PARTICIPANTS}`);
  }
  const parts = [];
  let total = 0;
  for (const participant of value) {
    if (participant === null || typeof participant !== "object") throw notAList("a participant");
    const name = nameToBytes(participant.name);
    const code = PARTICIPANT_CODES.get(participant.state ?? "active");
    if (code === undefined) throw new FieldError(`invalid participant state ${String(participant.state)}`);
    const entry = new Uint8Array(2 + name.length);
    entry[0] = code;
    entry[1] = name.length;
    entry.set(name, 2);
    parts.push(entry);
    total += entry.length;
  }
  return joinBytes(parts, total);
}

function decodeParticipants(raw) {
  const participants = [];
  let pos = 0;
  while (pos < raw.length) {
    if (pos + 2 > raw.length) throw new FieldError("participant entry is truncated", ErrorCode.MALFORMED);
    const code = raw[pos];
    const length = raw[pos + 1];
    if (pos + 2 + length > raw.length) {
      throw new FieldError("participant entry is truncated", ErrorCode.MALFORMED);
    }
    const state = PARTICIPANT_BY_CODE.get(code);
    if (state === undefined) throw new FieldError(`invalid participant state ${code}`);
    participants.push({ name: nameFromBytes(raw.subarray(pos + 2, pos + 2 + length)), state });
    pos += 2 + length;
  }
  if (participants.length > L.MAX_PARTICIPANTS) {
    throw new FieldError(`${participants.length} participants, over the limit of ${L.MAX_PARTICIPANTS}`);
  }
  return participants;
}

const ROOM_ENTRY_OVERHEAD = 6;

function encodeRooms(value) {
  if (!Array.isArray(value)) throw notAList("rooms");
  if (value.length > L.MAX_ROOMS_PER_PAGE) {
    throw new FieldError(`${value.length} rooms, over the limit of ${L.MAX_ROOMS_PER_PAGE}`);
  }
  const parts = [];
  let total = 0;
  for (const room of value) {
    if (room === null || typeof room !== "object") throw notAList("a room");
    const isPrivate = room.private ?? false;
    const member = room.member ?? false;
    if (typeof isPrivate !== "boolean" || typeof member !== "boolean") {
      throw new FieldError("a room's private and member flags must be bools");
    }
    const count = room.member_count;
    if (!Number.isInteger(count) || count < 0 || count > 0xffff_ffff) {
      throw new FieldError(`member count ${String(count)} is not a u32`);
    }
    const name = nameToBytes(room.name);
    const entry = new Uint8Array(ROOM_ENTRY_OVERHEAD + name.length);
    entry[0] = (isPrivate ? ROOM_PRIVATE : 0) | (member ? ROOM_MEMBER : 0);
    new DataView(entry.buffer).setUint32(1, count);
    entry[5] = name.length;
    entry.set(name, ROOM_ENTRY_OVERHEAD);
    parts.push(entry);
    total += entry.length;
  }
  return joinBytes(parts, total);
}

function decodeRooms(raw) {
  const rooms = [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let pos = 0;
  while (pos < raw.length) {
    if (pos + ROOM_ENTRY_OVERHEAD > raw.length) {
      throw new FieldError("room entry is truncated", ErrorCode.MALFORMED);
    }
    const flags = raw[pos];
    const count = view.getUint32(pos + 1);
    const length = raw[pos + 5];
    if (pos + ROOM_ENTRY_OVERHEAD + length > raw.length) {
      throw new FieldError("room entry is truncated", ErrorCode.MALFORMED);
    }
    if (flags & ~(ROOM_PRIVATE | ROOM_MEMBER)) {
      throw new FieldError(`unknown room flags 0x${flags.toString(16).padStart(2, "0")}`);
    }
    const name = nameFromBytes(raw.subarray(pos + ROOM_ENTRY_OVERHEAD, pos + ROOM_ENTRY_OVERHEAD + length));
    rooms.push({
      name,
      member_count: count,
      private: Boolean(flags & ROOM_PRIVATE),
      member: Boolean(flags & ROOM_MEMBER),
    });
    pos += ROOM_ENTRY_OVERHEAD + length;
  }
  if (rooms.length > L.MAX_ROOMS_PER_PAGE) {
    throw new FieldError(`${rooms.length} rooms, over the limit of ${L.MAX_ROOMS_PER_PAGE}`);
  }
  return rooms;
}

const fixed = (name, size, extra = {}) => Object.freeze({ name, size, variable: false, ...extra });
const variable = (name, prefix, max, encode, decode, check = null) =>
  Object.freeze({ name, prefix, max, variable: true, encode, decode, check });

const U16 = fixed("u16", 2, { max: 0xffff });
const U32 = fixed("u32", 4, { max: 0xffff_ffff });
const U64 = fixed("u64", 8);
const BOOL = fixed("bool", 1);
const SHA256 = fixed("sha256", 32);
const PRESENCE = fixed("presence", 1, { codes: PRESENCE_CODES, byCode: byCode(PRESENCE_CODES) });
const MEMBERSHIP = fixed("membership", 1, {
  codes: MEMBERSHIP_CODES,
  byCode: byCode(MEMBERSHIP_CODES),
});

const NAME = variable("name", 1, L.MAX_USERNAME_BYTES, encodeStr, fromUtf8, checkName);
// Only length-checked: judging a Login's name is the server's job (LoginRejected(invalid-name)).
const LOGIN_NAME = variable("login-name", 1, L.MAX_USERNAME_BYTES, encodeStr, fromUtf8);
const OPTIONAL_NAME = variable("optional-name", 1, L.MAX_USERNAME_BYTES, encodeOptional,
  decodeOptional, (value) => { if (value !== null) checkName(value); });
const TOKEN = variable("token", 1, L.MAX_TOKEN_BYTES, encodeStr, fromUtf8, (value) => {
  if (!isValidToken(value)) throw new FieldError(`invalid code ${JSON.stringify(value)}`);
});
const SOFTWARE = variable("software", 1, L.MAX_SOFTWARE_BYTES, encodeStr, fromUtf8);
const MESSAGE = variable("message", 2, L.MAX_MESSAGE_BYTES, encodeStr, fromUtf8);
const PASSWORD = variable("password", 2, L.MAX_PASSWORD_BYTES, encodeStr, fromUtf8, (value) => {
  if (typeof value !== "string") throw new FieldError("the password must be a str");
});
const FILENAME = variable("filename", 2, L.MAX_FILENAME_BYTES, encodeStr, fromUtf8, (value) => {
  if (typeof value !== "string" || !value) throw new FieldError("a file name must be a non-empty str");
  if (value.includes("\x00")) throw new FieldError("a file name must not contain NUL");
});
const TEXT = variable("text", 4, L.MAX_TEXT_BYTES, encodeStr, fromUtf8);
const PARTICIPANTS = variable("participants", 4, L.MAX_PARTICIPANTS * (2 + L.MAX_USERNAME_BYTES),
  encodeParticipants, decodeParticipants);
const RESUME_TOKEN = variable("resume-token", 1, L.RESUME_TOKEN_BYTES, encodeBytes, copyBytes,
  (value) => {
    if (!(value instanceof Uint8Array) || (value.length !== 0 && value.length !== L.RESUME_TOKEN_BYTES)) {
      throw new FieldError(`a resume token is empty or ${L.RESUME_TOKEN_BYTES} bytes`);
    }
  });
const TARGET = variable("recipient", 1, L.MAX_RECIPIENT_BYTES, encodeTarget, decodeTarget,
  (value) => { if (value !== null) encodeTarget(value); });
const ROOM = variable("room", 1, L.MAX_USERNAME_BYTES, encodeStr, fromUtf8, (value) => {
  checkName(value);
  checkRoomName(value);
});
const OPTIONAL_ROOM = variable("optional-room", 1, L.MAX_USERNAME_BYTES, encodeOptional,
  decodeOptional, (value) => { if (value !== null) checkName(value); });
const QUERY = variable("query", 2, L.MAX_QUERY_BYTES, encodeStr, fromUtf8, (value) => {
  if (typeof value !== "string" || !value) throw new FieldError("a search query must be a non-empty str");
});
const ROOMS = variable("rooms", 4, L.MAX_ROOMS_PER_PAGE * (ROOM_ENTRY_OVERHEAD + L.MAX_USERNAME_BYTES),
  encodeRooms, decodeRooms);
// Raw bytes filling the rest of the payload: no prefix, bounded by the frame size.
const DATA = variable("data", 0, 0, encodeBytes, copyBytes);

// -- value rules (rules.py) ------------------------------------------------------------
// Rules about values or several fields together, run before encoding and after decoding.

const RULES = {
  hello(event) {
    if (typeof event.version !== "number" || typeof event.max_frame_size !== "number") {
      throw new FieldError("version and max_frame_size must be integers", ErrorCode.MALFORMED);
    }
    if (event.version < OLDEST_VERSION) {
      throw new FieldError(`protocol version ${event.version} is not spoken (the oldest is ${OLDEST_VERSION})`,
        ErrorCode.UNSUPPORTED_VERSION);
    }
    if (event.max_frame_size < L.MIN_FRAME_SIZE) {
      throw new FieldError(`max_frame_size ${event.max_frame_size} is below ${L.MIN_FRAME_SIZE}`);
    }
  },
  login(event) {
    const noToken = event.resume_token instanceof Uint8Array && event.resume_token.length === 0;
    if ((event.password === "") === noToken) {
      throw new FieldError("a Login carries a password or a resume token: exactly one of them");
    }
  },
  transientLogin(event) {
    if (event.password === "") throw new FieldError("a TransientLogin carries a password");
  },
  loginAccepted(event) {
    const count = event.participant_count;
    if (!Number.isInteger(count) || count > L.MAX_PARTICIPANTS) {
      throw new FieldError(`participant_count ${String(count)} is over ${L.MAX_PARTICIPANTS}`);
    }
    if (!Array.isArray(event.participants)) throw notAList("participants");
    if (event.participants.length > count) {
      throw new FieldError(`${event.participants.length} participants listed, more than the count ${count}`);
    }
  },
  participantList(event) {
    if (!event.participants || event.participants.length === 0) {
      throw new FieldError("an empty page of the participant list");
    }
  },
  fileSize(event) {
    if (typeof event.size === "bigint" && event.size > L.MAX_FILE_SIZE) {
      throw new FieldError(`file size ${event.size} is over ${L.MAX_FILE_SIZE}`);
    }
  },
  searchLimit(event) {
    if (Number.isInteger(event.limit) && !(event.limit >= 1 && event.limit <= L.MAX_SEARCH_LIMIT)) {
      throw new FieldError(`search limit ${event.limit} is not within 1..${L.MAX_SEARCH_LIMIT}`);
    }
  },
};

// -- the byte layout of every message (wire.py LAYOUTS) --------------------------------
// One table: [type code, event type (the Python class name), fields in wire order, rule].
// A field is [name, kind] or [name, kind, default]: the default Python's event class has,
// filled in by encodeEvent when the field is missing.

const NO_BYTES = Symbol("empty bytes");
const NO_PARTICIPANTS = Symbol("no participants");
const COUNT_OF_PARTICIPANTS = Symbol("the number of participants");

const LAYOUT_TABLE = [
  [0x01, "Hello", [["version", U16], ["max_frame_size", U32], ["software", SOFTWARE, ""]], RULES.hello],
  [0x02, "Login", [["last_seen_seq", U64, 0n], ["epoch", U64, 0n], ["username", LOGIN_NAME],
    ["password", PASSWORD], ["resume_token", RESUME_TOKEN, NO_BYTES]], RULES.login],
  [0x03, "LoginAccepted", [["new_account", BOOL], ["rejoined", BOOL], ["history_reset", BOOL, false],
    ["last_seq", U64], ["epoch", U64, 0n], ["participant_count", U32, COUNT_OF_PARTICIPANTS],
    ["username", NAME], ["resume_token", RESUME_TOKEN, NO_BYTES],
    ["participants", PARTICIPANTS, NO_PARTICIPANTS]], RULES.loginAccepted],
  [0x04, "LoginRejected", [["reason", TOKEN], ["message", MESSAGE, ""]]],
  [0x05, "Ping", [["nonce", U64, 0n]]],
  [0x06, "Pong", [["nonce", U64, 0n]]],
  [0x07, "Goodbye", [["message", MESSAGE, ""]]],
  [0x08, "Error", [["code", TOKEN], ["message", MESSAGE, ""]]],
  [0x09, "TransientLogin", [["username", LOGIN_NAME], ["password", PASSWORD]], RULES.transientLogin],
  [0x10, "SendChat", [["client_id", U64, 0n], ["recipient", TARGET, null], ["text", TEXT]]],
  [0x11, "ChatMessage", [["seq", U64], ["timestamp_ms", U64], ["client_id", U64], ["sender", NAME],
    ["recipient", TARGET], ["text", TEXT]]],
  [0x12, "ChatRejected", [["client_id", U64], ["reason", TOKEN], ["message", MESSAGE, ""]]],
  [0x13, "Presence", [["state", PRESENCE], ["participant_count", U32], ["user", NAME]]],
  [0x14, "ParticipantList", [["participants", PARTICIPANTS]], RULES.participantList],
  [0x20, "FileOffer", [["upload_id", U64], ["size", U64], ["sha256", SHA256], ["recipient", TARGET, null],
    ["name", FILENAME]], RULES.fileSize],
  [0x21, "FileAccepted", [["upload_id", U64]]],
  [0x22, "FileRejected", [["upload_id", U64], ["reason", TOKEN], ["message", MESSAGE, ""]]],
  [0x23, "FileChunk", [["transfer_id", U64], ["offset", U64], ["data", DATA]]],
  [0x24, "FileEnd", [["transfer_id", U64]]],
  [0x25, "FileAvailable", [["seq", U64], ["timestamp_ms", U64], ["file_id", U64], ["size", U64],
    ["upload_id", U64, 0n], ["sha256", SHA256], ["sender", NAME], ["recipient", TARGET],
    ["name", FILENAME]], RULES.fileSize],
  [0x26, "FetchFile", [["file_id", U64], ["offset", U64, 0n]]],
  [0x27, "FetchRejected", [["file_id", U64], ["reason", TOKEN], ["message", MESSAGE, ""]]],
  // Version 5, WebSocket only: the token of an upload whose bytes go by HTTP (32 raw bytes,
  // carried as a sha256 is).
  [0x28, "UploadTicket", [["upload_id", U64], ["token", SHA256], ["expires_in_ms", U32]]],
  // Rooms and search, version 4 on: requests 0x30-0x35, answers 0x38-0x3d.
  [0x30, "CreateRoom", [["request_id", U64], ["private", BOOL, false], ["room", NAME]]],
  [0x31, "JoinRoom", [["request_id", U64], ["room", NAME]]],
  [0x32, "LeaveRoom", [["request_id", U64], ["room", NAME]]],
  [0x33, "InviteToRoom", [["request_id", U64], ["room", NAME], ["user", NAME]]],
  [0x34, "ListRooms", [["request_id", U64]]],
  [0x35, "SearchHistory", [["request_id", U64], ["before_seq", U64, 0n], ["limit", U16],
    ["room", OPTIONAL_ROOM, null], ["sender", OPTIONAL_NAME, null], ["query", QUERY]], RULES.searchLimit],
  [0x38, "RequestDone", [["request_id", U64]]],
  [0x39, "RequestRejected", [["request_id", U64], ["reason", TOKEN], ["message", MESSAGE, ""]]],
  [0x3a, "RoomList", [["request_id", U64], ["more", BOOL, false], ["rooms", ROOMS]]],
  [0x3b, "SearchHit", [["request_id", U64], ["seq", U64], ["timestamp_ms", U64], ["sender", NAME],
    ["recipient", TARGET], ["text", TEXT]]],
  [0x3c, "SearchDone", [["request_id", U64], ["more", BOOL]]],
  [0x3d, "Membership", [["state", MEMBERSHIP], ["member_count", U32], ["room", ROOM], ["user", NAME]]],
];

function makeLayout([code, type, fields, rule = null]) {
  const fixedFields = fields.filter(([, kind]) => !kind.variable);
  const variableFields = fields.filter(([, kind]) => kind.variable && kind !== DATA);
  const endsWithData = fields.some(([, kind]) => kind === DATA);
  const fixedSize = fixedFields.reduce((sum, [, kind]) => sum + kind.size, 0) +
    variableFields.reduce((sum, [, kind]) => sum + kind.prefix, 0);
  return Object.freeze({
    code,
    type,
    fields,
    rule,
    fixed: fixedFields,
    variable: variableFields,
    dataField: endsWithData ? fields[fields.length - 1][0] : null,
    fixedSize,
    maxPayload: fixedSize + variableFields.reduce((sum, [, kind]) => sum + kind.max, 0),
  });
}

const LAYOUT_LIST = LAYOUT_TABLE.map(makeLayout);
const LAYOUT_BY_CODE = new Map(LAYOUT_LIST.map((layout) => [layout.code, layout]));
const LAYOUT_BY_TYPE = new Map(LAYOUT_LIST.map((layout) => [layout.type, layout]));

/** The largest payload a receiver with `maxFrameSize` accepts for `layout` (wire.py). */
function payloadLimit(layout, maxFrameSize) {
  return layout.dataField !== null ? maxFrameSize : Math.min(layout.maxPayload, maxFrameSize);
}

/** event type -> type code. */
export const MESSAGE_TYPES = Object.freeze(Object.fromEntries(LAYOUT_LIST.map((l) => [l.type, l.code])));

/** The layout table as data: [{code, type, fields: [[name, kind name], ...], maxPayload}]
 * (maxPayload null for FileChunk, which only the frame limit bounds). */
export const LAYOUTS = Object.freeze(LAYOUT_LIST.map((layout) => Object.freeze({
  code: layout.code,
  type: layout.type,
  fields: Object.freeze(layout.fields.map(([name, kind]) => Object.freeze([name, kind.name]))),
  maxPayload: layout.dataField !== null ? null : layout.maxPayload,
})));

// -- the codec (_reference_codec.py) ---------------------------------------------------

function withDefaults(layout, event) {
  const values = { type: layout.type };
  for (const [name, , ...fallback] of layout.fields) {
    let value = event[name];
    if (value === undefined && fallback.length) {
      const [standard] = fallback;
      value = standard === NO_BYTES ? new Uint8Array(0) : standard === NO_PARTICIPANTS ? [] : standard;
    }
    values[name] = value;
  }
  // The one default computed from another field (LoginAccepted: the whole list).
  if (values.participant_count === COUNT_OF_PARTICIPANTS) {
    values.participant_count = Array.isArray(values.participants) ? values.participants.length : undefined;
  }
  for (const [name] of layout.fields) {
    if (values[name] === undefined) throw new FieldError(`${layout.type} has no ${name}`, ErrorCode.MALFORMED);
  }
  return values;
}

function checkFixed(name, kind, value) {
  if (kind === BOOL) {
    if (typeof value !== "boolean") throw new FieldError(`${name} must be a bool`);
  } else if (kind.codes) {
    if (!kind.codes.has(value)) throw new FieldError(`invalid ${kind.name} state ${String(value)}`);
  } else if (kind === SHA256) {
    if (!(value instanceof Uint8Array) || value.length !== 32) throw new FieldError(`${name} must be 32 bytes`);
  } else if (kind === U64) {
    if (typeof value !== "bigint" || value < 0n || value > U64_MAX) {
      throw new FieldError(`${name} must be a BigInt in the u64 range, got ${String(value)}`);
    }
  } else if (!Number.isInteger(value) || value < 0 || value > kind.max) {
    throw new FieldError(`${name} must be an integer in the ${kind.name} range, got ${String(value)}`);
  }
}

function writeFixed(view, at, kind, value) {
  if (kind === BOOL) view.setUint8(at, value ? 1 : 0);
  else if (kind.codes) view.setUint8(at, kind.codes.get(value));
  else if (kind === SHA256) new Uint8Array(view.buffer, view.byteOffset + at, 32).set(value);
  else if (kind === U64) view.setBigUint64(at, value);
  else if (kind === U32) view.setUint32(at, value);
  else view.setUint16(at, value);
}

function writePrefix(view, at, prefix, length) {
  if (prefix === 1) view.setUint8(at, length);
  else if (prefix === 2) view.setUint16(at, length);
  else view.setUint32(at, length);
}

function encodeWith(layout, event) {
  if (layout.rule !== null) layout.rule(event);
  for (const [name, kind] of layout.fixed) checkFixed(name, kind, event[name]);
  const raws = [];
  for (const [name, kind] of layout.variable) {
    const value = event[name];
    if (kind.check !== null) kind.check(value);
    const raw = kind.encode(value);
    if (raw.length > kind.max) throw new FieldError(`${name} is ${raw.length} bytes, the limit is ${kind.max}`);
    raws.push(raw);
  }
  if (layout.dataField !== null) raws.push(DATA.encode(event[layout.dataField]));
  const payloadSize = layout.fixedSize + raws.reduce((sum, raw) => sum + raw.length, 0);
  const frame = new Uint8Array(HEADER_SIZE + payloadSize);
  const view = new DataView(frame.buffer);
  view.setUint8(0, layout.code);
  view.setUint32(1, payloadSize);
  let at = HEADER_SIZE;
  for (const [name, kind] of layout.fixed) {
    writeFixed(view, at, kind, event[name]);
    at += kind.size;
  }
  layout.variable.forEach(([, kind], i) => {
    writePrefix(view, at, kind.prefix, raws[i].length);
    at += kind.prefix;
  });
  for (const raw of raws) {
    frame.set(raw, at);
    at += raw.length;
  }
  return frame;
}

/** The frame (header and payload) for `event`; throws LocalProtocolError with the code
 * Python gives for an invalid field or value. No connection state is involved. */
export function encodeEvent(event) {
  return encodeComplete(event)[0];
}

/** [the frame, the event with its defaults filled in] (what the state machine moves on). */
function encodeComplete(event) {
  if (event === null || typeof event !== "object") {
    throw new LocalProtocolError(`${typeName(event)} is not an event`);
  }
  const layout = LAYOUT_BY_TYPE.get(event.type);
  if (layout === undefined) throw new LocalProtocolError(`${String(event.type)} is not sent on the wire`);
  try {
    const complete = withDefaults(layout, event);
    return [encodeWith(layout, complete), complete];
  } catch (error) {
    if (error instanceof FieldError) {
      throw new LocalProtocolError(`cannot send ${layout.type}: ${error.message}`, error.code);
    }
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new LocalProtocolError(`cannot send ${layout.type}: ${error.message}`, ErrorCode.MALFORMED);
    }
    throw error;
  }
}

function readFixed(view, at, kind) {
  if (kind === U64) return view.getBigUint64(at);
  if (kind === U32) return view.getUint32(at);
  if (kind === U16) return view.getUint16(at);
  if (kind === SHA256) return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + 32));
  const byte = view.getUint8(at);
  if (kind === BOOL) {
    if (byte > 1) throw new FieldError("a boolean field is neither 0 nor 1");
    return byte === 1;
  }
  const state = kind.byCode.get(byte);
  if (state === undefined) throw new FieldError(`invalid ${kind.name} state ${byte}`);
  return state;
}

function readPrefix(view, at, prefix) {
  return prefix === 1 ? view.getUint8(at) : prefix === 2 ? view.getUint16(at) : view.getUint32(at);
}

function decodeWith(layout, payload) {
  const size = payload.length;
  if (size < layout.fixedSize) {
    throw new FieldError(`payload of ${size} bytes is shorter than its fields`, ErrorCode.MALFORMED);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const event = { type: layout.type };
  let at = 0;
  for (const [name, kind] of layout.fixed) {
    event[name] = readFixed(view, at, kind);
    at += kind.size;
  }
  const lengths = layout.variable.map(([, kind]) => {
    const length = readPrefix(view, at, kind.prefix);
    at += kind.prefix;
    return length;
  });
  let pos = layout.fixedSize;
  layout.variable.forEach(([name, kind], i) => {
    const end = pos + lengths[i];
    if (end > size) throw new FieldError(`${name} runs past the end of the frame`, ErrorCode.MALFORMED);
    if (lengths[i] > kind.max) throw new FieldError(`${name} is ${lengths[i]} bytes, over its limit`);
    const value = kind.decode(payload.subarray(pos, end));
    if (kind.check !== null) kind.check(value);
    event[name] = value;
    pos = end;
  });
  if (layout.dataField !== null) {
    event[layout.dataField] = payload.slice(pos);
  } else if (pos !== size) {
    throw new FieldError(`${size - pos} unexpected bytes after the last field`, ErrorCode.MALFORMED);
  }
  if (layout.rule !== null) layout.rule(event);
  return event;
}

function decodePayload(layout, payload) {
  try {
    return decodeWith(layout, payload);
  } catch (error) {
    if (error instanceof FieldError) {
      throw new RemoteProtocolError(`invalid ${layout.type}: ${error.message}`, error.code);
    }
    throw error;
  }
}

/** The layout and payload of one whole frame, with the header checked first (buffer.py):
 * an unknown type, then a length over the limit, whatever follows. A WebSocket message
 * carries exactly one frame: fewer bytes than its header announces is `truncated` (the
 * frame ends early, as a stream that closes inside it), more is `malformed`. */
function splitFrame(bytes, maxFrameSize) {
  if (bytes.length < HEADER_SIZE) {
    throw new RemoteProtocolError(`a frame of ${bytes.length} bytes ends inside its header`, ErrorCode.TRUNCATED);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const code = view.getUint8(0);
  const length = view.getUint32(1);
  const layout = LAYOUT_BY_CODE.get(code);
  if (layout === undefined) {
    throw new RemoteProtocolError(`unknown message type 0x${code.toString(16).padStart(2, "0")}`,
      ErrorCode.UNKNOWN_TYPE);
  }
  const limit = payloadLimit(layout, maxFrameSize);
  if (length > limit) {
    throw new RemoteProtocolError(`${layout.type} frame of ${length} bytes exceeds its limit of ${limit}`,
      ErrorCode.FRAME_TOO_LARGE);
  }
  if (bytes.length < HEADER_SIZE + length) {
    throw new RemoteProtocolError(`the frame ends after ${bytes.length - HEADER_SIZE} of its ${length} bytes`,
      ErrorCode.TRUNCATED);
  }
  if (bytes.length > HEADER_SIZE + length) {
    throw new RemoteProtocolError(`${bytes.length - HEADER_SIZE - length} bytes after the end of the frame`,
      ErrorCode.MALFORMED);
  }
  return [layout, bytes.subarray(HEADER_SIZE)];
}

/** The event of exactly one whole frame (a Uint8Array or ArrayBuffer), with no connection
 * state involved; throws RemoteProtocolError with the code Python gives. `maxFrameSize`
 * is the receiver's frame limit (the default one unless given). */
export function decodeFrame(bytes, maxFrameSize = L.DEFAULT_MAX_FRAME_SIZE) {
  const [layout, payload] = splitFrame(asBytes(bytes), maxFrameSize);
  return decodePayload(layout, payload);
}

// -- the state machines (state.py, transfer_state.py, request_state.py) -------------------
// Both peers run the same two machines, one per role; a client moves its own with what it
// sends and the server's with what it receives, so it knows what the server may send next.

const S = State;
const KEEPALIVE = ["Ping", "Pong"];
const REQUESTS = ["CreateRoom", "JoinRoom", "LeaveRoom", "InviteToRoom", "ListRooms", "SearchHistory"];
const ANSWERS = ["RequestDone", "RequestRejected", "RoomList", "SearchHit", "SearchDone"];
const staying = (types, state) => Object.fromEntries(types.map((type) => [type, state]));

/** "role state" -> {event type the role may send: the role's next state} (TRANSITIONS). */
const TRANSITIONS = {
  "client hello": { Hello: S.LOGIN },
  "client login": { Login: S.AUTHENTICATING, TransientLogin: S.AUTHENTICATING, ...staying(KEEPALIVE, S.LOGIN) },
  "client authenticating": staying(KEEPALIVE, S.AUTHENTICATING),
  "client active": staying(["SendChat", "FileOffer", "FileChunk", "FileEnd", "FetchFile", ...REQUESTS,
    ...KEEPALIVE], S.ACTIVE),
  // A transient connection sends; it fetches nothing (it is told of no file).
  "client transient": staying(["SendChat", "FileOffer", "FileChunk", "FileEnd", ...REQUESTS, ...KEEPALIVE],
    S.TRANSIENT),
  "server hello": { Hello: S.READY },
  "server ready": { LoginAccepted: S.ACTIVE, LoginRejected: S.READY, ...staying(KEEPALIVE, S.READY) },
  // Nothing may come between LoginAccepted and the last page of its list.
  "server listing": { ParticipantList: S.ACTIVE },
  "server active": staying(["ChatMessage", "ChatRejected", "Presence", "FileAccepted", "FileRejected",
    "FileChunk", "FileEnd", "FileAvailable", "FetchRejected", "UploadTicket", ...ANSWERS, "Membership",
    ...KEEPALIVE], S.ACTIVE),
  // Only the answers to the client's own requests (checked: TRANSIENT_CHECKS).
  "server transient": staying(["ChatMessage", "ChatRejected", "FileAccepted", "FileRejected", "FileAvailable",
    "UploadTicket", ...ANSWERS, ...KEEPALIVE], S.TRANSIENT),
};

/** The table completed with Goodbye (from every state but CLOSED and ERROR) and Error
 * (from every state but CLOSED). */
function allowedIn(role, state) {
  const allowed = { ...(TRANSITIONS[`${role} ${state}`] ?? {}) };
  if (state !== S.CLOSED && state !== S.ERROR) allowed.Goodbye = S.CLOSED;
  if (state !== S.CLOSED) allowed.Error = S.CLOSED;
  return Object.freeze(allowed);
}

const ALLOWED = new Map();
for (const role of ["client", "server"]) {
  for (const state of Object.values(S)) ALLOWED.set(`${role} ${state}`, allowedIn(role, state));
}

// What a request waits for: a verdict, room list pages, or search hits (a search's value
// is how many hits may still come).
const CHANGE = -1;
const LISTING_ROOMS = -2;

class Side {
  constructor(role) {
    this.role = role;
    this.state = S.HELLO;
    this.allowed = ALLOWED.get(`${role} ${S.HELLO}`);
    this.maxFrameSize = 0;
  }
}

/** Both roles' states plus the open transfers and requests, as both peers track them. */
class Conversation {
  constructor() {
    this.client = new Side("client");
    this.server = new Side("server");
    this.clientVersion = 0;
    this.version = 0;
    this.username = null;
    this.participantsDue = 0;
    this.transient = false;
    this.uploads = new Map(); // upload id -> {size, nextOffset, accepted, ended, ticketed}
    this.fetches = new Map(); // file id -> next offset
    this.requests = new Map(); // request id -> CHANGE, LISTING_ROOMS or hits still allowed
  }

  side(role) {
    return role === "client" ? this.client : this.server;
  }

  setState(role, state) {
    const side = this.side(role);
    side.state = state;
    side.allowed = ALLOWED.get(`${role} ${state}`);
  }

  fail() {
    for (const role of ["client", "server"]) {
      if (this.side(role).state !== S.CLOSED) this.setState(role, S.ERROR);
    }
  }

  /** Apply `event` sent by `role`, or throw Violation. */
  process(role, event) {
    const side = this.side(role);
    let next = side.allowed[event.type];
    if (next === undefined) throw new Violation(`${role} may not send ${event.type} in state ${side.state}`);
    const checks = side.state === S.TRANSIENT ? TRANSIENT_CHECKS : CHECKS;
    const check = checks[event.type];
    if (check !== undefined) next = check(this, role, event) ?? next;
    if (next !== side.state) this.setState(role, next);
  }

  // -- rules beside the table (state.py) -------------------------------------------------

  hello(role, event) {
    if (role === "client") {
      this.clientVersion = event.version;
    } else {
      if (this.client.state === S.HELLO) throw new Violation("the server must wait for the client's Hello");
      if (event.version > this.clientVersion || event.version > PROTOCOL_VERSION) {
        throw new Violation(`version ${event.version} was not offered`, ErrorCode.UNSUPPORTED_VERSION);
      }
      this.version = event.version;
    }
    this.side(role).maxFrameSize = event.max_frame_size;
  }

  transientLogin() {
    // The client must know the server speaks version 3: its Hello comes first.
    if (this.server.state === S.HELLO) throw new Violation("a TransientLogin must wait for the server's Hello");
    if (this.version < TRANSIENT_LOGIN_VERSION) {
      throw new Violation(`TransientLogin needs protocol version ${TRANSIENT_LOGIN_VERSION}; ` +
        `version ${this.version} was agreed`);
    }
    this.transient = true;
  }

  loggedIn() {
    return this.transient ? S.TRANSIENT : undefined;
  }

  verdict(role, event) {
    if (this.client.state !== S.AUTHENTICATING) throw new Violation(`${event.type} without a pending Login`);
    if (event.type === "LoginAccepted") {
      if (this.transient && event.resume_token.length) {
        throw new Violation("a transient login is issued no resume token", ErrorCode.INVALID_FIELD);
      }
      this.setState("client", this.transient ? S.TRANSIENT : S.ACTIVE);
      this.username = event.username;
      this.participantsDue = event.participant_count - event.participants.length;
      return this.participantsDue ? S.LISTING : this.loggedIn();
    }
    this.transient = false; // the next Login may be of either kind
    this.setState("client", S.LOGIN);
    return undefined;
  }

  participantPage(role, event) {
    const due = this.participantsDue - event.participants.length;
    if (due < 0) {
      throw new Violation(`${event.participants.length} participants, only ${this.participantsDue} were due`,
        ErrorCode.INVALID_FIELD);
    }
    this.participantsDue = due;
    return due === 0 ? this.loggedIn() : S.LISTING;
  }

  upload(uploadId) {
    const upload = this.uploads.get(uploadId);
    if (upload === undefined) throw new Violation(`no open upload ${uploadId}`);
    return upload;
  }

  fileChunk(role, event) {
    if (!event.data.length) throw new Violation("empty file chunk", ErrorCode.INVALID_FIELD);
    let expected;
    let end;
    let upload;
    if (role === "client") {
      upload = this.upload(event.transfer_id);
      if (!upload.accepted || upload.ended) throw new Violation(`upload ${event.transfer_id} is not streaming`);
      expected = upload.nextOffset;
      end = upload.size;
    } else {
      expected = this.fetches.get(event.transfer_id);
      if (expected === undefined) throw new Violation(`no fetch of file ${event.transfer_id} is open`);
      end = L.MAX_FILE_SIZE;
    }
    if (event.offset !== expected) {
      throw new Violation(`chunk at offset ${event.offset}, expected ${expected}`, ErrorCode.INVALID_FIELD);
    }
    const after = expected + BigInt(event.data.length);
    if (after > end) throw new Violation("chunk runs past the announced size", ErrorCode.INVALID_FIELD);
    if (role === "client") upload.nextOffset = after;
    else this.fetches.set(event.transfer_id, after);
  }

  fileEnd(role, event) {
    if (role === "server") {
      if (!this.fetches.delete(event.transfer_id)) {
        throw new Violation(`no fetch of file ${event.transfer_id} is open`);
      }
      return;
    }
    const upload = this.upload(event.transfer_id);
    if (!upload.accepted || upload.ended || upload.nextOffset !== upload.size) {
      throw new Violation(`upload ${event.transfer_id} ended at ${upload.nextOffset} of ${upload.size} bytes`);
    }
    upload.ended = true;
  }

  // -- transfers (transfer_state.py) -------------------------------------------------------

  fileOffer(role, event) {
    if (this.uploads.has(event.upload_id)) throw new Violation(`upload ${event.upload_id} is already open`);
    if (this.uploads.size >= L.MAX_OPEN_UPLOADS) {
      throw new Violation(`more than ${L.MAX_OPEN_UPLOADS} uploads open at once`);
    }
    this.uploads.set(event.upload_id, { size: event.size, nextOffset: 0n, accepted: false, ended: false,
      ticketed: false });
  }

  fileAccepted(role, event) {
    const upload = this.upload(event.upload_id);
    if (upload.accepted) throw new Violation(`upload ${event.upload_id} was already accepted`);
    upload.accepted = true;
  }

  uploadTicket(role, event) {
    // After the upload's FileAccepted, once; its bytes may all be in already (they cross).
    if (this.version < UPLOAD_TICKET_VERSION) {
      throw new Violation(`UploadTicket needs protocol version ${UPLOAD_TICKET_VERSION}; ` +
        `version ${this.version} was agreed`);
    }
    const upload = this.upload(event.upload_id);
    if (!upload.accepted) throw new Violation(`UploadTicket before the FileAccepted of upload ${event.upload_id}`);
    if (upload.ticketed) throw new Violation(`upload ${event.upload_id} has its UploadTicket already`);
    upload.ticketed = true;
  }

  fileRejected(role, event) {
    this.upload(event.upload_id);
    this.uploads.delete(event.upload_id);
  }

  fileAvailable(role, event) {
    // Only the uploader's connection knows the echoed upload id; upload ids are per
    // connection, so the sender must be this connection's user.
    const upload = this.uploads.get(event.upload_id);
    if (upload !== undefined && upload.ended && event.sender === this.username) {
      this.uploads.delete(event.upload_id);
    }
  }

  ownChat(role, event) {
    if (event.sender !== this.username) {
      throw new Violation("a transient connection receives only the deliveries of its own messages");
    }
  }

  ownFile(role, event) {
    const upload = this.uploads.get(event.upload_id);
    if (upload === undefined || !upload.ended || event.sender !== this.username) {
      throw new Violation("a transient connection receives only the announcements of its own uploads");
    }
    this.uploads.delete(event.upload_id);
  }

  fetch(role, event) {
    if (this.fetches.has(event.file_id)) throw new Violation(`file ${event.file_id} is already being fetched`);
    if (this.fetches.size >= L.MAX_OPEN_FETCHES) {
      throw new Violation(`more than ${L.MAX_OPEN_FETCHES} fetches open at once`);
    }
    this.fetches.set(event.file_id, event.offset);
  }

  fetchRejected(role, event) {
    if (!this.fetches.delete(event.file_id)) throw new Violation(`no fetch of file ${event.file_id} is open`);
  }

  // -- rooms and requests (request_state.py) ---------------------------------------------

  needsRooms(event) {
    if (this.version < ROOMS_VERSION) {
      throw new Violation(`${event.type} needs protocol version ${ROOMS_VERSION}; version ${this.version} was agreed`);
    }
  }

  roomRecipient(role, event) {
    if (this.version < ROOMS_VERSION && isRoomTarget(event.recipient)) {
      throw new Violation(`a room recipient needs protocol version ${ROOMS_VERSION}; ` +
        `version ${this.version} was agreed`);
    }
  }

  request(role, event) {
    this.needsRooms(event);
    if (this.requests.has(event.request_id)) throw new Violation(`request ${event.request_id} is already open`);
    if (this.requests.size >= L.MAX_OPEN_REQUESTS) {
      throw new Violation(`more than ${L.MAX_OPEN_REQUESTS} requests open at once`);
    }
    const waiting = event.type === "SearchHistory" ? event.limit : event.type === "ListRooms" ? LISTING_ROOMS : CHANGE;
    this.requests.set(event.request_id, waiting);
  }

  openRequest(event) {
    this.needsRooms(event);
    const waiting = this.requests.get(event.request_id);
    if (waiting === undefined) throw new Violation(`no request ${event.request_id} is open`);
    return waiting;
  }

  requestDone(role, event) {
    if (this.openRequest(event) !== CHANGE) throw new Violation(`request ${event.request_id} is not a room change`);
    this.requests.delete(event.request_id);
  }

  requestRejected(role, event) {
    this.openRequest(event);
    this.requests.delete(event.request_id);
  }

  roomList(role, event) {
    if (this.openRequest(event) !== LISTING_ROOMS) throw new Violation(`request ${event.request_id} is not a room list`);
    if (!event.more) this.requests.delete(event.request_id);
  }

  searchHit(role, event) {
    const allowed = this.openRequest(event);
    if (allowed < 0) throw new Violation(`request ${event.request_id} is not a search`);
    if (allowed === 0) {
      throw new Violation(`more hits for search ${event.request_id} than its limit`, ErrorCode.INVALID_FIELD);
    }
    this.requests.set(event.request_id, allowed - 1);
  }

  searchDone(role, event) {
    if (this.openRequest(event) < 0) throw new Violation(`request ${event.request_id} is not a search`);
    this.requests.delete(event.request_id);
  }

  membership(role, event) {
    this.needsRooms(event);
  }
}

const method = (name) => (conversation, role, event) => conversation[name](role, event);
/** `check`, after the version rule of a "#room" recipient. */
const withRoomRecipient = (name) => (conversation, role, event) => {
  conversation.roomRecipient(role, event);
  return conversation[name](role, event);
};

const CHECKS = Object.freeze({
  Hello: method("hello"),
  TransientLogin: method("transientLogin"),
  LoginAccepted: method("verdict"),
  LoginRejected: method("verdict"),
  ParticipantList: method("participantPage"),
  FileOffer: withRoomRecipient("fileOffer"),
  FileAccepted: method("fileAccepted"),
  FileRejected: method("fileRejected"),
  UploadTicket: method("uploadTicket"),
  FileChunk: method("fileChunk"),
  FileEnd: method("fileEnd"),
  FileAvailable: withRoomRecipient("fileAvailable"),
  FetchFile: method("fetch"),
  FetchRejected: method("fetchRejected"),
  SendChat: method("roomRecipient"),
  ChatMessage: method("roomRecipient"),
  ...Object.fromEntries(REQUESTS.map((type) => [type, method("request")])),
  RequestDone: method("requestDone"),
  RequestRejected: method("requestRejected"),
  RoomList: method("roomList"),
  SearchHit: method("searchHit"),
  SearchDone: method("searchDone"),
  Membership: method("membership"),
});

/** A role in TRANSIENT: the server may send only what answers the client. */
const TRANSIENT_CHECKS = Object.freeze({
  ...CHECKS,
  ChatMessage: withRoomRecipient("ownChat"),
  FileAvailable: withRoomRecipient("ownFile"),
});

// -- the client connection (connection.py) -----------------------------------------------

/** The client side of one conversation: events in, frames out; frames in, events out.
 * No I/O: the page owns the WebSocket and hands each binary message to `receive`. */
export class ClientConnection {
  #conversation = new Conversation();
  #error = null;
  #ended = false;
  #closed = null;

  constructor({ software = "lanchat-web", maxFrameSize = L.DEFAULT_MAX_FRAME_SIZE } = {}) {
    if (!Number.isInteger(maxFrameSize) || maxFrameSize < L.MIN_FRAME_SIZE ||
        maxFrameSize > L.ABSOLUTE_MAX_FRAME_SIZE) {
      throw new RangeError(`maxFrameSize must be between ${L.MIN_FRAME_SIZE} and ${L.ABSOLUTE_MAX_FRAME_SIZE}`);
    }
    this.software = software;
    this.maxFrameSize = maxFrameSize;
  }

  /** Our own state: "active" once logged in, "closed" after a Goodbye, "error" for good. */
  get state() {
    return this.#conversation.client.state;
  }

  get theirState() {
    return this.#conversation.server.state;
  }

  /** The agreed protocol version, or null before the server's Hello. */
  get version() {
    return this.#conversation.version || null;
  }

  get speaksRooms() {
    return this.#conversation.version >= ROOMS_VERSION;
  }

  /** The agreed version has UploadTicket: the PUT of an upload's bytes needs its token. */
  get speaksUploadTickets() {
    return this.#conversation.version >= UPLOAD_TICKET_VERSION;
  }

  /** The frame limit the server announced, or null before its Hello. */
  get peerMaxFrameSize() {
    return this.#conversation.server.maxFrameSize || null;
  }

  /** The logged-in user as the server spelled it, once LoginAccepted has passed. */
  get username() {
    return this.#conversation.username;
  }

  /** The login sent is a TransientLogin (once accepted: state "transient"). */
  get transient() {
    return this.#conversation.transient;
  }

  /** The largest file chunk that fits the server's announced frame size. */
  get chunkSize() {
    const peer = this.#conversation.server.maxFrameSize || this.maxFrameSize;
    return Math.min(L.DEFAULT_CHUNK_SIZE, peer - 64);
  }

  get openUploads() {
    return this.#conversation.uploads.size;
  }

  get openFetches() {
    return this.#conversation.fetches.size;
  }

  get openRequests() {
    return this.#conversation.requests.size;
  }

  /** Whether an event of `type` may be sent in our state (the table only, not its rules). */
  maySend(type) {
    return Object.hasOwn(this.#conversation.client.allowed, type);
  }

  /** The Hello frame to send first. */
  hello() {
    return this.send({ type: "Hello", version: PROTOCOL_VERSION, max_frame_size: this.maxFrameSize,
      software: this.software });
  }

  /** The frame that carries `event`; throws LocalProtocolError. An invalid field changes
   * nothing (nothing was sent); an event the state forbids leaves the connection in ERROR. */
  send(event) {
    const [data, complete] = encodeComplete(event);
    if (data.length > ALWAYS_FITS) {
      const peerLimit = this.#conversation.server.maxFrameSize;
      if (peerLimit && data.length - HEADER_SIZE > peerLimit) {
        throw new LocalProtocolError(`${event.type} of ${data.length} bytes exceeds the peer's frame limit ` +
          `of ${peerLimit}`, ErrorCode.FRAME_TOO_LARGE);
      }
    }
    try {
      this.#conversation.process("client", complete);
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      this.#conversation.fail();
      throw new LocalProtocolError(error.message, error.code);
    }
    return data;
  }

  /** The event of one WebSocket message (exactly one frame); throws RemoteProtocolError,
   * and the same error again on every later call. */
  receive(bytes) {
    if (this.#ended) throw new LocalProtocolError("data received after the peer closed the stream");
    if (this.#error !== null) throw this.#error;
    try {
      const [layout, payload] = splitFrame(asBytes(bytes), this.maxFrameSize);
      const event = decodePayload(layout, payload);
      this.#conversation.process("server", event);
      return event;
    } catch (error) {
      if (error instanceof Violation) throw this.#fail(new RemoteProtocolError(error.message, error.code));
      if (error instanceof RemoteProtocolError) throw this.#fail(error);
      throw error;
    }
  }

  /** The server's side ended (the WebSocket closed): a ConnectionClosed event, `clean`
   * when the server said Goodbye or Error first. */
  uploadOverHttp(uploadId) {
    const upload = this.#conversation.uploads.get(uploadId);
    if (upload === undefined || !upload.accepted || upload.ended) {
      throw new LocalProtocolError(`upload ${uploadId} is not accepted and waiting for its bytes`,
        ErrorCode.UNEXPECTED_MESSAGE);
    }
    upload.ended = true; // the server sends itself the FileEnd once the body is in
  }

  receiveClose() {
    this.#ended = true;
    if (this.#error !== null) throw this.#error;
    if (this.#closed === null) {
      const conversation = this.#conversation;
      this.#closed = Object.freeze({ type: "ConnectionClosed", clean: conversation.server.state === S.CLOSED });
      if (conversation.server.state !== S.ERROR) conversation.setState("server", S.CLOSED);
    }
    return this.#closed;
  }

  #fail(error) {
    this.#error = error;
    this.#conversation.fail();
    return error;
  }
}

// -- file names (files.sanitize_filename) ------------------------------------------------

// Python's str.isspace() characters (str.strip() without arguments strips these).
const PY_SPACES = new Set(Array.from("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002" +
  "\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"));
// Python's re.IGNORECASE matches 'i' with U+0130 and U+0131, 'k' with the Kelvin sign.
const RESERVED_DEVICE = (() => {
  const letter = (ch) => ({ i: "[Ii\\u0130\\u0131]", k: "[Kk\\u212a]" })[ch] ??
    (/[a-z]/.test(ch) ? `[${ch.toUpperCase()}${ch}]` : ch);
  const word = (text) => Array.from(text, letter).join("");
  const names = ["con", "prn", "aux", "nul"].map(word)
    .concat(["com", "lpt"].map((w) => `${word(w)}[0-9\\u00b9\\u00b2\\u00b3]`))
    .concat(["conin", "conout", "clock"].map((w) => `${word(w)}\\$`));
  return new RegExp(`^(?:${names.join("|")})(?:\\.[^\\n]*)?$`, "u");
})();
const FALLBACK_NAME = "file";

function pyStrip(text, chars = null, { left = true, right = true } = {}) {
  const strip = chars === null ? (ch) => PY_SPACES.has(ch) : (ch) => chars.includes(ch);
  const units = Array.from(text);
  let start = 0;
  let end = units.length;
  while (left && start < end && strip(units[start])) start++;
  while (right && end > start && strip(units[end - 1])) end--;
  return units.slice(start, end).join("");
}

function utf8Length(text) {
  let total = 0;
  for (const ch of text) total += charBytes(ch);
  return total;
}

/** Control and format characters, surrogates, private use, line and paragraph separators
 * (categories Cc Cf Cs Co Zl Zp of Unicode 14.0) would let a name lie about itself. */
function stripUnsafe(name) {
  const { unsafeStarts, unsafeEnds } = tables();
  let out = "";
  for (const ch of name) {
    const cp = ch.codePointAt(0);
    const i = floorIndex(unsafeStarts, cp);
    if (!(cp >= unsafeStarts[i] && cp <= unsafeEnds[i])) out += ch;
  }
  return out;
}

/** A safe base name for `name`, chosen by an untrusted peer: exactly what Python's
 * chatproto.sanitize_filename gives (no directory part, no control or format characters,
 * no ".", "..", reserved Windows device names or trailing dots and spaces; at most
 * MAX_FILENAME_BYTES of UTF-8; never empty). */
export function sanitizeFilename(name) {
  name = normalize14(stripUnsafe(name), "NFC");
  name = name.split(/[\\/]/).pop();
  // Stripping one thing can expose another ("..C:x" -> "C:x" -> "x"): until nothing changes.
  for (;;) {
    const trimmed = pyStrip(pyStrip(pyStrip(name), ".", { right: false }), ". ", { left: false });
    const cleaned = pyStrip(trimmed.replace(/^[A-Za-z]:/, ""));
    if (cleaned === name) break;
    name = cleaned;
  }
  name = name.replace(/[<>:"|?*]/g, "_") || FALLBACK_NAME;
  if (RESERVED_DEVICE.test(name)) name = "_" + name;
  return truncateFilename(name, L.MAX_FILENAME_BYTES);
}

function truncateFilename(name, limit) {
  if (utf8Length(name) <= limit) return name;
  const dot = name.lastIndexOf(".");
  let stem = dot < 0 ? name : name.slice(0, dot);
  let ext = dot < 0 ? "" : name.slice(dot + 1);
  if (dot < 0 || utf8Length(ext) > 16) {
    stem = name;
    ext = "";
  }
  const suffix = ext ? "." + ext : "";
  return (truncateUtf8(stem, limit - utf8Length(suffix)) || FALLBACK_NAME) + suffix;
}

// -- SHA-256 (FIPS 180-4), in JavaScript ---------------------------------------------------
// crypto.subtle exists only in secure contexts, and a server started with --no-tls serves
// the page over plain http://: the page hashes with this, slice by slice.

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Incremental SHA-256: `update(bytes)` any number of times, then `digest()` once. */
export class Sha256 {
  #state = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  #block = new Uint8Array(64);
  #blockView = new DataView(this.#block.buffer);
  #filled = 0;
  #length = 0; // bytes hashed so far (a Number: exact up to 2**53 bytes, 8 PiB)
  #words = new Int32Array(64);
  #done = false;

  update(bytes) {
    if (this.#done) throw new Error("digest() was already called");
    const data = asBytes(bytes);
    this.#length += data.length;
    let at = 0;
    if (this.#filled) {
      const take = Math.min(64 - this.#filled, data.length);
      this.#block.set(data.subarray(0, take), this.#filled);
      this.#filled += take;
      at = take;
      if (this.#filled < 64) return this;
      this.#compress(this.#blockView, 0);
      this.#filled = 0;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (; at + 64 <= data.length; at += 64) this.#compress(view, at);
    if (at < data.length) {
      this.#block.set(data.subarray(at));
      this.#filled = data.length - at;
    }
    return this;
  }

  digest() {
    if (this.#done) throw new Error("digest() was already called");
    const bits = BigInt(this.#length) * 8n;
    const padding = new Uint8Array(((this.#filled < 56 ? 56 : 120) - this.#filled) + 8);
    padding[0] = 0x80;
    new DataView(padding.buffer).setBigUint64(padding.length - 8, bits);
    const length = this.#length;
    this.update(padding);
    this.#length = length;
    this.#done = true;
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    this.#state.forEach((word, i) => view.setInt32(4 * i, word));
    return out;
  }

  #compress(view, at) {
    // Int32 words throughout (| 0 after every sum): V8 keeps them small integers, where
    // the unsigned values of a Uint32Array would become heap numbers.
    const w = this.#words;
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(at + 4 * i);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    const h = this.#state;
    let a = h[0];
    let b = h[1];
    let c = h[2];
    let d = h[3];
    let e = h[4];
    let f = h[5];
    let g = h[6];
    let k = h[7];
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + k) | 0;
  }
}

/** The SHA-256 of `bytes` (a Uint8Array or ArrayBuffer). */
export async function sha256(bytes) {
  return new Sha256().update(bytes).digest();
}

// BEGIN GENERATED: unicode-tables (tests/web/corpus.py --tables; do not edit)
export const UNICODE_VERSION = "14.0.0";
const UNICODE_SCRIPTS =
  "Latn Hani Hira Kana Hang Bopo Hanb Jpan Kore Cyrl Grek Arab Hebr Deva Beng Taml Telu Knda Mlym G" +
  "ujr Guru Orya Sinh Thai Laoo Khmr Mymr Tibt Geor Armn Adlm Aghb Ahom Armi Avst Bali Bamu Bass Ba" +
  "tk Bhks Brah Brai Bugi Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Diak Dogr Dsrt Dupl Egy" +
  "p Elba Elym Ethi Glag Gong Gonm Goth Gran Hano Hatr Hluw Hmng Hmnp Hung Ital Java Kali Khar Khoj" +
  " Kits Kthi Lana Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero " +
  "Modi Mong Mroo Mtei Mult Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Orkh Osge Osma Ougr Palm Pauc P" +
  "erm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sind Sogd So" +
  "go Sora Soyo Sund Sylo Syrc Tagb Takr Tale Talu Tang Tavt Tfng Tglg Thaa Tirh Tnsa Toto Ugar Vai" +
  "i Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb";
// Ranges of code points: the first of each (deltas, base 36), its kind and mask index
// (kind | mask << 3, base 36), the script masks (hex; -1 every script, 0 unassigned).
const NAME_STARTS =
  "0,19,1,2,a,7,q,4,1,1,q,1b,1,a,1,4,1,5,n,1,v,1,ch,9,4,c,e,5,5,2,1,1,1,h,1u,1,2,1,9,1,j,d,4,1,1,2," +
  "2,4,1,1,4,1,1,1,1,3,1,1,1,k,1,1r,e,6,1,9,3m,1,1,1,2,1,2,4m,1,12,2,1,6,15,2,2,3,1,19,1,1,1,2,1,2," +
  "1,1,8,r,4,4,2,b,5,1,6,1,3,b,1,1,2,1,w,1,a,b,a,a,4,2,1,2r,1,1,7,1,1,6,2,2,1,4,2,a,3,2,1,e,1,1,1,1" +
  ",u,r,2,3,1c,12,b,1,e,a,x,9,2,4,1,2,1,2,m,4,1,9,1,3,1,5,2,f,1,p,3,2,1,1,b,5,o,1,6,1,2,6,8,16,o,1," +
  "t,4,1i,3,1,i,1,1,1,2,3,a,2,1,1,a,1,f,1,3,1,8,2,2,2,m,1,7,1,1,3,4,2,1,1,7,2,2,2,3,1,8,1,4,2,1,3,2" +
  ",2,a,2,a,1,1,1,2,3,1,6,4,2,2,m,1,7,1,2,1,2,1,2,2,1,1,5,4,2,2,3,3,1,7,4,1,1,7,a,2,3,1,1,a,3,1,9,1" +
  ",3,1,m,1,7,1,2,1,5,2,1,1,8,1,3,1,3,2,1,f,2,2,2,a,2,7,1,6,1,3,1,8,2,2,2,m,1,7,1,2,1,5,2,1,1,7,2,2" +
  ",2,3,7,3,4,2,1,3,2,2,a,1,1,6,a,1,1,1,6,3,3,1,4,3,2,1,1,1,2,3,2,3,3,3,c,4,5,3,3,1,4,2,1,6,1,e,a,4" +
  ",7,5,5,8,1,3,1,n,1,g,2,1,1,7,1,3,1,4,7,2,1,3,2,1,2,2,2,2,a,7,9,1,3,1,8,1,3,1,n,1,a,1,5,2,1,1,7,1" +
  ",3,1,4,7,2,6,2,1,2,2,2,a,1,2,d,4,9,1,3,1,15,2,1,7,1,3,1,4,1,1,4,3,1,7,3,2,2,a,a,6,1,3,1,i,3,o,1," +
  "9,1,1,2,7,3,1,4,6,1,1,1,8,6,a,2,2,1,c,1c,1,2,7,4,1,7,8,1,a,2,11,2,1,1,1,5,1,o,1,1,1,a,1,2,9,1,2," +
  "5,1,1,1,6,2,a,2,4,w,1,n,2,6,a,b,1,1,1,1,1,4,2,8,1,10,4,k,1,2,5,b,1,10,1,8,1,6,1,7,4,2,11,17,k,1," +
  "a,6,6,4,4,3,1,3,2,7,3,4,d,c,1,1,a,4,2,12,1,1,5,1,2,17,1,4,2n,2,4f,21,1,4,2,7,1,1,1,4,2,15,1,4,2," +
  "x,1,4,2,7,1,1,1,4,2,f,1,1l,1,4,2,1v,2,3,t,3,g,a,6,2e,2,6,2,1,h8,2,h,1,q,2,3,23,3,3,8,7,i,4,9,1,i" +
  ",3,2,9,i,2,c,d,1,3,1,2,c,1g,2,u,3,1,4,1,1,2,a,6,a,6,2,2,1,1,a,a,6,2h,7,5,2,y,1,1,5,1y,a,v,1,c,4," +
  "c,4,1,3,2,a,u,2,5,b,18,4,q,6,a,1,3,2,w,n,5,2,2,1h,a,1,t,2,1,a,6,a,6,7,1,6,2,e,1,g,1d,5,1b,h,8,3," +
  "a,h,9,b,1,3,u,d,2,a,6,12,e,8,4,10,k,3,5,a,3,3,a,10,2,9,7,17,2,3,8,8,1,1,1,1,1,2,1,1,1,1,1,2,2,1," +
  "1,7,1,1,2,1,4,1,1,1,2,1,2,1,5,12,5,1,1d,5,4,5,d,1,1y,1,2,1i,1,1,1,5,74,m,2,6,2,12,2,6,2,8,1,1,1," +
  "1,1,1,1,v,2,1h,1,7,1,1,3,3,1,7,3,4,2,6,1,3,d,3,2,3,1,7,2,1,1b,1,1h,1,b,1,2,b,1,f,1,d,3,x,f,d,4,1" +
  ",3,b,1,f,2,1,4,1,2,a,1,1,3,5,6,1,1,1,1,1,1,2,2,1,3,1,7,2,4,5,5,4,1,h,z,2,4,3,4,if,p,b,l,ps,74,hg" +
  ",2,w,1,2x,2o,w,2t,6,4,3,2,5,7,12,1,1,5,1,2,1k,7,1,1,e,1,n,9,7,1,7,1,7,1,7,1,7,1,7,1,7,1,7,1,w,1b" +
  ",1,j,1,q,y,q,1,2h,c,5y,q,c,4,1,2,1,1,2,1,a,1,1,8,4,1,9,4,2,1,5,1,1,3,1,1,1,2,1,2e,2,2,2,3,1,2i,1" +
  ",1,3,5,17,1,1f,1,16,1,g,w,10,c,g,v,1,14,o,v,1,1d,f,c,4,1b,1,2g,p,a,5,2o,v,1,534,1s,g74,wd,3,1j,9" +
  ",1a,2,7h,3,g,a,2,k,1b,1,4,a,1,v,2,1y,a,2,6,8,8,f,9,2,2u,1,2,1s,5,2,1,1,1,5,o,e,2,1,3,1,4,1,n,5,4" +
  ",1,3,3,3,4,6,1g,4,8,2,1e,i,8,2,a,6,h,1,1,1,4,3,1,1,2,1,a,s,8,1,1,n,d,b,1,t,3,4,1b,e,d,1,1,a,4,2," +
  "5,1,a,a,5,1,15,e,9,3,1,8,2,2,a,2,4,n,3,1,3,2,1c,1,1,3,2,2,5,2,1,1,1,o,3,2,b,5,2,3,2,a,6,2,6,2,6," +
  "9,7,1,7,1,17,1,9,1,4,2,4,28,z,8,1,2,2,a,6,8mc,c,n,4,1d,6is,a6,2,2y,12,7,c,5,5,1,1,a,1,d,1,5,1,1," +
  "1,2,1,2,1,a,2q,h,g,a3,2,g,1s,2,1i,7,1,w,2,1,9,1,1,2,q,6,e,2,l,2,c,1,j,1,4,4,5,1,3r,2,1,1,f,a,7,q" +
  ",6,q,6,5,a,1,19,2,1,u,3,6,2,6,2,6,2,3,3,7,1,7,a,5,2,c,1,q,1,j,1,2,1,f,2,e,y,3f,5,2,1,4,19,3,9,27" +
  ",1,d,3,1,1b,19,1,3m,t,3,1d,f,1,r,4,w,4,9,3,h,1,8,1,5,12,5,5,u,1,1,10,4,8,6,16,28,1c,u,2,a,6,10,4" +
  ",10,4,14,8,1g,b,1,b,1,f,1,7,1,2,1,b,1,f,1,7,1,2,1v,8n,9,m,a,8,o,6,1,16,1,9,1x,6,2,1,1,18,1,2,3,1" +
  ",2,1,m,1,9,n,9,v,8,9,1c,j,1,2,5,5,m,6,3,1,q,5,1,1s,w,o,4,2,2,g,2,1a,1,3,1,2,5,4,4,1,3,1,t,2,3,4," +
  "1,9,7,9,7,t,3,t,3,w,8,1,s,2,4,7,1,4,9,1i,3,7,m,2,8,j,5,8,i,7,4,c,7,28,21,1j,1f,d,1f,7,6,10,4,8,a" +
  ",86,v,1,16,1,2,1,2,2,26,t,a,1,8,m,b,9,m,i,4,4,12,l,7,k,n,9,3,1h,f,7,4,k,a,1,2,2,1,9,1,3,19,b,7,1" +
  ",a,1,2,p,7,a,6,3,10,e,1,a,4,1,2,1,8,z,1,2,1,9,3,1c,e,4,4,4,1,2,a,1,1,1,3,1,k,b,i,1,p,c,6,1,1t,7," +
  "1,1,1,4,1,f,1,a,1,6,1b,c,5,a,6,1,1,1,1,1,8,2,2,2,m,1,7,1,2,1,5,1,2,1,7,2,2,2,3,2,1,6,1,5,5,2,2,7" +
  ",3,5,3v,1h,i,4,5,a,2,1,1,1,3,u,1c,k,2,1,1,8,a,4m,1b,7,2,9,n,4,2,y,1c,h,3,1,b,a,6,d,j,17,d,1,1,6," +
  "a,1i,r,2,f,4,a,6,7,55,18,f,1,2s,1s,a,9,c,1,7,2,1,2,8,1,2,1,o,6,1,2,2,4,1,1,1,2,3,9,a,1y,8,2,13,7" +
  ",2,7,1,1,1,1,r,1,a,14,7,1,4,8,1,8,1,b,1a,g,3,1,5,d,g,1l,7b,9,1,11,8,1,8,1,5,a,a,j,3,2,u,2,m,1,e," +
  "21,7,1,2,1,12,6,3,1,1,2,1,7,1,1,8,a,6,6,1,2,1,w,5,1,2,1,5,1,7,a,8m,j,4,2,53,1,f,g,2,1,1,u,d,1,pm" +
  ",2u,33,1,5,b,5g,218,2p,2,d,tr,1,9,347,g7,6nt,ft,7,v,1,a,4,2,27,1,a,6,u,2,5,1,a,1c,7,9,4,2,a,a,1," +
  "7,1,l,5,j,j4,1s,r,2t,23,4,1,1,1j,7,4,d,1s,1,1,1,1,1,b,2,e,4qg,8,lc,d2,16,9,6w7,4,1,7,1,2,1,1,7z," +
  "3,19,3,h,4,8,b0,1s4,2z,5,d,3,9,7,a,2,1,2,5,3mk,1a,2,n,9,38,1o,6u,a,13,2,1o,5,3,6,8,8,2,7,u,4,1p," +
  "l,1u,3,1,4a,k,c,2f,9,i,7,3r,2d,1,1z,1,2,2,1,2,2,2,4,1,c,1,1,1,7,1,1t,1,4,2,8,1,7,1,s,1,4,1,5,1,1" +
  ",3,7,1,9g,2,p,1,p,1,v,1,p,1,v,1,p,1,v,1,p,1,v,1,p,1,8,2,1e,e8,1j,4,1e,8,1,e,1,7,f,5,1,f,uo,v,69," +
  "7,1,h,2,7,1,2,1,5,5x,19,3,7,7,2,a,4,1,1,8w,u,1,h,18,4,a,5,1,yo,7,1,4,1,2,1,f,1,5h,2,9,7,15,1w,7," +
  "1,4,a,4,2,lt,1w,24,1p,5e,4,1,r,1,2,1,1,2,1,1,a,1,4,1,1,1,1,6,1,4,1,1,1,1,1,1,3,1,2,1,1,2,1,1,1,1" +
  ",1,1,1,1,1,1,2,1,1,2,4,1,7,1,4,1,4,1,1,1,a,1,h,5,3,1,5,1,h,1g,2,7i,18,4,2s,c,f,2,f,1,f,1,11,a,4u" +
  ",1k,q,1,2,d,18,4,9,7,2,e,6,4a,rc,5,g,3,d,3,38,c,2h,7,c,4,1,f,c,4,1k,8,a,6,14,8,u,2,2,26,9g,c,e,2" +
  ",5,3,5,3,7,9,t,3,b,5,6,a,a,6,8,8,7,9,43,1,1j,11,a,sm,wyo,w,37d,7,66,2,4g2,e,5rl,2e7,f2,15u,3t7,f" +
  "cfq,1,u,2o,3k,6o";
const NAME_INFO =
  "0,4,0,2,0,9,0,4,0,9,0,9,0,1,0,9,0,9,0,9,0,9,1,0,1,0,9,0,g,1,0,1,0,3,r,3,r,3,0,3,b,p,1,o,p,w,p,0," +
  "p,w,o,0,p,0,p,w,p,w,p,w,p,15,p,o,p,1d,1c,1n,1v,23,1v,1c,1d,w,29,w,29,28,29,28,w,28,w,2j,2g,2j,2g" +
  ",2j,2g,2j,2g,2j,w,2h,w,2h,2g,w,2o,0,2o,2w,2o,2r,2w,34,2o,3c,2p,3l,2p,3v,2r,42,2o,2p,3v,2p,48,2p," +
  "2r,0,2o,2r,2p,2r,2o,2r,2p,2q,2p,2o,2p,4g,w,4g,4h,4j,4h,4j,w,4h,2p,4p,4r,4p,w,4y,4x,4z,4x,4w,4x,w" +
  ",4z,4w,55,57,55,57,55,57,55,57,w,54,w,5d,5f,w,5c,w,4h,w,2p,2o,2p,w,2o,w,2r,2p,2r,0,2r,5n,5l,5n,5" +
  "l,5n,5l,5v,63,3,5n,5l,5n,68,6g,6q,5k,5l,6x,6z,w,6x,w,6x,w,6x,w,6x,w,6x,w,6x,w,6z,6x,6z,w,6z,w,6z" +
  ",6x,w,6z,w,6x,w,6x,6z,w,76,6x,6w,6x,6w,6z,w,7f,w,7d,w,7d,w,7d,w,7d,w,7d,w,7d,w,7d,w,7f,w,7f,w,7f" +
  ",w,7f,w,7f,w,7d,w,7d,w,7m,7f,7d,7f,7c,w,7v,w,7t,w,7t,w,7t,w,7t,w,7t,w,7t,w,7v,7t,7v,w,7v,w,7v,w," +
  "7t,w,7t,7v,w,82,7s,w,7t,7v,w,8b,w,89,w,89,w,89,w,89,w,89,w,89,w,8b,89,8b,w,8b,w,8b,w,8b,w,89,w,8" +
  "9,8b,w,8a,88,89,88,w,8j,8h,w,8h,w,8h,w,8h,w,8h,w,8h,w,8h,w,8h,w,8h,w,8h,w,8j,w,8j,w,8j,w,8h,w,8j" +
  ",w,8q,8o,8g,w,8z,8x,w,8x,w,8x,w,8x,w,8z,8x,8z,w,8z,w,8z,w,8z,w,8x,w,8x,w,8x,8z,w,8y,w,8w,95,97,9" +
  "4,95,w,95,w,95,w,95,w,95,w,97,95,97,w,97,w,97,w,97,w,95,w,95,97,w,9e,w,95,w,9n,9l,w,9l,w,9l,9n,9" +
  "l,9n,w,9n,w,9n,9l,9k,w,9l,9n,9k,9l,9n,w,9m,9k,9l,w,9v,w,9t,w,9t,w,9t,w,9t,w,9t,w,9v,w,9v,w,9v,w," +
  "9v,w,9u,w,9v,9s,w,a1,a3,a1,a3,w,0,a1,a3,a0,a2,a0,w,a9,w,a9,w,a9,w,a9,w,a9,w,a9,ab,a9,ab,a9,w,a9," +
  "w,a9,w,ab,w,aa,w,a9,w,ah,ag,aj,ag,ai,ag,aj,ag,aj,ag,aj,ag,aj,ah,w,ah,w,aj,ag,aj,ah,aj,w,aj,w,ag," +
  "aj,ag,w,ag,0,ag,w,ap,ar,ap,ay,ao,ap,ar,ap,ar,ap,ar,ap,ar,ap,ar,ap,ar,ap,ar,aq,ar,ao,b5,w,b5,w,b5" +
  ",w,b5,bc,b5,bl,bk,bl,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w," +
  "bt,w,bv,bs,w,bt,bs,w,c1,w,c1,w,c8,c9,c8,c9,cg,ch,cg,w,cp,0,co,cp,w,cx,cz,w,cx,d5,d7,dc,w,dl,dn,w" +
  ",dt,w,dt,w,dv,w,e1,e0,e3,e0,e1,e0,e1,e3,w,e2,w,e0,w,e8,eg,e8,eg,e8,ea,w,e9,w,e9,eb,e9,eb,e9,w,c9" +
  ",w,ep,w,er,w,er,w,eo,w,eo,eq,ex,w,ex,w,f5,w,f5,w,f6,f4,w,f4,e0,fd,ff,w,fc,fl,fn,w,fn,w,fn,fm,w,f" +
  "m,w,fk,fl,fk,w,3,0,3,w,fv,ft,fv,ft,w,fu,fs,fv,fs,w,g3,g1,g3,g1,g2,g1,g9,gb,w,g8,gh,gj,w,gg,gi,w," +
  "gh,gq,gp,go,1d,w,b5,w,b5,g0,w,gz,5n,gz,h4,5n,hf,hn,hf,hn,hv,5n,hn,5n,hn,hf,5n,i1,hd,5l,hf,5l,i9," +
  "h5,ij,hd,6z,h7,ip,w,9,p,1d,9,p,9,p,9,1d,9,p,r,3,iz,3,4j,3,9,p,w,p,w,p,w,p,w,p,w,p,w,p,w,p,w,p,w," +
  "p,w,p,o,p,o,p,w,p,o,p,w,p,w,o,p,o,w,p,w,p,o,w,0,j4,0,w,0,9,w,0,9,0,w,9,w,0,w,3,0,3,0,3,jf,w,0,1," +
  "0,1,0,1,0,1,0,1,0,1,0,p,0,1,0,9,1,0,1,9,1,0,1,0,1,0,9,0,8,9,8,0,w,0,w,0,w,0,jk,0,w,0,w,0,jt,9,15" +
  ",14,15,17,15,w,14,b5,w,b5,w,b5,w,k1,w,k1,k0,w,k3,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,bt,w,1f" +
  ",0,1,0,1s,0,w,k8,w,k8,w,k8,w,0,w,0,kg,ko,0,k9,k8,kg,0,ko,kg,ko,0,k8,kz,bn,ko,l5,0,ko,k8,k9,ld,lc" +
  ",k8,w,ll,w,l7,l4,ll,l4,lt,kg,l5,lt,w,h,w,bl,bk,bl,w,k8,h,k8,w,lt,bk,w,k8,0,bk,0,k8,0,k8,0,ls,k8," +
  "ls,k8,0,k8,0,k8,0,k9,0,k9,m1,w,m0,w,m9,m8,mh,mg,mh,mi,mh,w,1d,1v,1c,1f,1c,1d,1f,mp,mo,mr,mo,w,mw" +
  ",0,1,0,9,1,0,9,w,9,w,9,w,9,w,9,n5,n7,n5,n7,n5,n7,n5,n7,n4,n7,w,nc,nk,ns,w,o1,o0,w,ob,o9,ob,w,o8," +
  "oa,w,5n,hf,5l,oh,5l,5k,5l,5k,5l,5n,oq,op,or,ow,oo,p5,p7,w,p4,bl,w,pf,pd,pf,pc,w,pl,pe,w,pc,ap,ar" +
  ",ap,aq,ap,w,pt,pv,w,pt,pv,pt,pv,w,pu,w,ps,ap,ao,ap,ar,ap,q1,q3,q1,q3,q1,q3,q1,q3,q1,q3,q1,w,q1,q" +
  "0,q9,qb,q8,q9,qb,w,bt,w,bt,w,bt,w,bt,w,bt,w,9,0,9,p,9,0,w,c1,q9,qb,q8,qb,w,qa,w,bl,w,bl,w,bl,w,k" +
  "9,w,k9,w,9,w,29,w,2h,2j,2h,2g,2h,w,2h,w,2h,w,2h,w,2h,w,2h,2p,2o,w,2p,qg,2o,2p,w,2p,w,2o,w,2p,qp," +
  "2p,2o,qo,2o,0,w,3,1f,0,ko,0,w,0,w,0,w,2p,w,2p,w,0,w,0,2,0,9,0,9,0,kg,lt,l5,lt,l5,bk,bl,w,bl,w,bl" +
  ",w,bl,w,bl,w,0,w,0,w,0,w,qx,w,qx,w,qx,w,qx,w,qx,w,qx,w,qx,w,r4,rc,w,rk,w,rc,o,w,0,w,o,w,0,3,w,rt" +
  ",w,s1,w,sb,s8,w,sh,sg,w,sh,sp,so,sp,so,w,sx,sz,w,t5,w,t4,td,w,td,tc,w,tl,tt,u1,w,u2,w,u9,w,u9,w," +
  "uh,w,up,w,uo,ux,w,ux,w,ux,w,ux,w,ux,w,ux,w,ux,w,ux,w,v5,w,v5,w,v5,w,9,w,9,w,9,w,vd,w,vd,w,vd,w,v" +
  "d,w,vd,w,vd,vl,w,vk,vt,vs,w1,w,w0,w,w9,w,w9,w,w8,wh,wg,w,wg,wp,w,wo,w,wx,x5,w,x4,x5,x4,w,x4,xd,x" +
  "f,w,xf,w,xf,xd,w,xd,w,xd,w,xf,w,xf,xc,w,xc,w,xl,xk,xt,xs,w,y1,y0,y1,y3,w,y0,y8,y0,w,yh,w,yg,yp,w" +
  ",yo,yx,w,yw,z5,w,z4,w,z4,w,zd,w,zl,w,zl,w,zk,zt,zv,w,zu,w,2o,w,101,w,103,100,w,101,w,109,108,109" +
  ",w,10h,10j,10g,w,10p,10r,10o,w,10x,10w,w,115,w,11f,11d,11f,11c,w,11c,11e,11f,11d,11f,11d,w,11f,1" +
  "1n,11l,11n,11k,11n,w,11k,w,11t,w,11u,w,123,121,123,w,122,120,121,123,121,w,129,12b,128,129,w,12j" +
  ",12h,12j,12h,12g,12j,12g,12j,12i,12h,12g,12h,12g,w,9s,w,12p,w,12p,12r,12o,12r,w,12x,w,12x,w,12x," +
  "w,12x,w,12x,12w,w,135,137,w,136,w,13f,8r,13f,8r,w,13d,w,13d,w,13d,w,13d,w,13d,w,13d,w,8r,13d,13f" +
  ",w,13f,w,13f,w,13d,w,13f,w,13d,13f,w,13f,w,13f,w,13l,13n,13l,13k,13m,13k,w,13k,13n,13l,w,13t,13v" +
  ",13t,13s,13t,w,13u,w,141,143,w,143,140,141,143,w,149,14b,148,149,w,14a,w,e8,w,14h,14j,14h,14g,w," +
  "14i,w,14p,w,14r,w,14q,14o,14p,w,14x,14z,14w,w,155,156,154,w,155,15d,w,15d,w,15d,w,15d,w,15d,15f," +
  "w,15f,w,15f,15d,15f,15d,15f,15c,w,15e,w,ip,w,ip,ir,w,ir,ip,io,ip,ir,w,15l,15n,15l,15n,15l,15n,15" +
  "k,15n,w,15t,15v,15t,15v,15s,15t,15s,w,c9,161,w,169,w,169,16b,w,16b,169,168,w,16a,168,w,16g,16h,w" +
  ",16j,w,16j,w,16p,w,16p,w,16p,16r,w,16r,w,16r,w,16r,16p,16r,w,16q,w,16x,w,16x,w,16x,16z,w,16z,w,1" +
  "6z,16x,w,16y,w,175,177,174,w,m9,w,8g,8o,8g,8o,8g,w,8g,17d,w,17c,w,17c,w,17d,w,17l,17k,w,17t,w,17" +
  "s,w,181,w,mp,w,189,w,18a,w,188,18h,w,18i,w,18p,w,18r,18o,w,18x,18z,18w,18x,18w,w,18y,w,18w,w,18x" +
  ",w,18x,w,195,194,w,19d,w,19f,19d,19f,w,19f,19d,w,19l,19t,k8,k9,1a3,w,kb,w,19l,w,19l,1a1,w,19l,w," +
  "lt,w,lt,w,lt,w,lt,ll,lt,w,ll,w,lt,w,19t,w,1a9,w,1a9,w,1a9,w,1a9,w,1a8,1ab,1a8,w,3,w,3,w,0,w,0,w," +
  "0,w,0,3,0,3,0,3,0,3,0,3,0,w,o,r,o,w,0,w,0,w,k8,0,w,1,w,1,w,1,w,1,w,1,w,1,w,1,w,1,w,1,w,1,w,1,w,1" +
  ",w,1,w,1,w,1,w,1,w,1,w,1,w,1,w,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,w,2,1ag,1aj,1ag,1aj,1ag" +
  ",1aj,1ag,1aj,1ag,w,1aj,w,1aj,w,9,w,jv,w,jv,w,jv,w,jv,w,jv,w,1ap,w,1ar,1ap,w,1aq,w,1ap,1ao,w,1ax," +
  "1az,w,1b5,1b7,1b6,w,1b4,w,bt,w,bt,w,bt,w,bt,w,1bd,w,1bc,1bf,w,1bl,1bn,1bl,w,1bm,w,1bk,w,0,w,0,w," +
  "2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2" +
  "p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2p,w,2o,w,0,w,0,w,0,w,0,w,0,w,0," +
  "w,0,w,0,lk,0,w,0,w,0,w,k8,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w," +
  "0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,0,w,2,w,k9,w,k9,w,k9,w,k9,w,k9,w,k9,w,k9,w,0,w,0,w,0,w";
const NAME_MASKS =
  "-1,1,60,400,0,4000000000000,200,80000000000000000000000000200,2000000000000200,201,20000000,1000" +
  ",800,8010080008000200000000000000000000000800,10080000000000000000000000000000000800,80100800080" +
  "00200000000000000000040000800,82008410000060000000000000040000800,800000000000000000000000000000" +
  "00800,8010000000000000000000000000000000000800,8000000000000000000000000000800,80000000000000000" +
  "000000000000000000,10000000000000000000000000000000000000,200000000000000000000000000,2000000000" +
  "0000000000000000000000,20000000000000000000000,2000,200004000000000000000200000000003fe001,20000" +
  "0000000000000000200000000003fe001,2024100000002000800002c0400000007fe000,2024100000002000820002c" +
  "0400000007fe000,8040000040000000002000,4000,40000000000000000000000100000004000,100000,100000000" +
  "00000000000100000,80000,10000000000000080000,200000,8000,20000000000008000,10000,20000,200000000" +
  "00000000000020000,40000,400000,800000,1000000,8000000,4000000,4000000000000000000000001000040000" +
  "00,10000000,10000001,110,1000000000000000,1000000000000,200000000000,800000000000000000000000000" +
  ",10000000000000000000000000000000,8000000000000000000000000000000000000,40000000000000000,810000" +
  "0000000000000040000080000000000,80000000000,100000000000000000000000000000000000,2000000,2000000" +
  "000000000000000000,100002000000000000000000000000,200000000000000000000,400000000000000000000000" +
  "000000000000,800000000000000000000000000000000000,40000000000,80000000000000000000,800000000,200" +
  "00000000000000000000000000000000,4000000000,100000000000000000000,1000000000000000000000000000,2" +
  "0000000000026000,20000000000002000,6000,400000000000000000000000000002000,27a000,200000000000000" +
  "00000002000,20000000000020000000020000000000236000,20000000000022000,20000000000000000000000000," +
  "80000000000000000000000000000000200,2000000000000000000000001,20000000000002001,20000000000,2000" +
  "000000000000,4000000000000000000000000000000000000,1c2,100000000000000000000000000000000000001fe" +
  ",1fe,1e2,8c,1ce,84,88,10000000000000000000000000000000000000000,1000000000000000000000,200000000" +
  "000000000000000000000000000000,1000000000,1c3,40000000000000000000000000000000000,20201000000021" +
  "0080500000400000001e2000,202010000000210080500000400000001a2000,20201000000001008050000040000000" +
  "182000,100000000000000000000000000000,80000000000000000000000000000000,a000,4000000000000000000," +
  "4000000000004000001,4000000000000000000000000000000,2000000000000000000,2000000040000000000,8000" +
  "00000000,2000000000000000000000000000000000000,8000000000000000000000000,20000000000000000000000" +
  "0800,10000000000000000000000000000000000800,800000000000000000000,800000018000000000000,80000001" +
  "0000000000000,c00000010000000000000,2000000000000000000000,400000000000,4000000000800,1000000000" +
  "000000000,10000000000000000,80000000000000000000000000000,10000000000000000000000000000000000000" +
  "0,2000000000000000000000000000000000000000,80000000000000,200000000000000000000000000000000,8000" +
  "000000000000000000000000,4000000000000000000000000000,400000000000000,80000000,40000000000000000" +
  "0000000000000000000000,400000000000000000000,10000000000000,200000000,20000000000000000000000000" +
  "000,80000000000000000000000000,80000000000000000,800000000000000000000000000000,4000000000000000" +
  "000000,800000000000000000000000,400000000000000000000000,8000000000000000000,4000000000000000000" +
  "0000000000000,40000000000000000000000000,40000000000000000000000,10000040000000000000000000000,4" +
  "00000000,2000000000000000000000000000000,200000000000000000000000000000,400000000000000000000000" +
  "000000,2000000000000000000000000000,800000000000000000,8000000000000000000000000000000,800000000" +
  "0000000000000000000000000000000,4000000000000000000000000000000000,20000000000000000000000000000" +
  "00000,10000000000000000000000000000,2000000000000,800000000000000,10000000000,400000000000000000" +
  "00,8000000000000000000000000000000000,100000000000,8000000000000000000000,4000000000000000000000" +
  "00000000000,10000000000000000000,10000000000000000000000000,1000000000000000000000000000000000,2" +
  "0000000000000000,100000000000000000000000000,20000000000000000000000000000000000000,800000000000" +
  "000000000000000000000,1000000000000000000000000,200000000000000000000000000000000000,100000000,4" +
  "0000000000000,800000000000000000000000000000000000000,20000000000000,200000000000000000000000000" +
  "00000000000000,10000000000000000000000000000000000,40000000000000000000000000000,8000000000,8000" +
  "0000000000000000000,8000000000000000,4000000000000000,10000000000000000000000,400000000000000000" +
  "0000000000000000000000,8000000000000,200000000000000,100000000000000000,400000000000000000000000" +
  "0,40000000000000000000000000000000000000,2000000000,200000000000000000,100000000000000000000000," +
  "1000000000000000000000000000000,1000000000000000000000000000000000000,40000000000000000000000000" +
  "0,20000000000000000000,100000000000000,100000000000000000000000000000000,400000000000000000,8000" +
  "0000000000000000000000000000000000,1000000000000000000000000000000000000000,20000000000000000000" +
  "0000,40000000";
// The zero of every run of decimal digits (deltas, base 36).
const DIGIT_ZEROS =
  "1c,180,40,5s,bq,3k,3k,3k,3k,3k,3k,3k,3k,3k,2y,3k,28,80,28,1g0,1c,8m,3u,4w,g,5c,2o,40,g,r80,j4,1c" +
  ",5s,w,2o,bk,gf4,13k,1ow,mu,3u,1y,4a,80,9s,3k,ao,34,34,c0,34,lc,74,28,f5s,2o,40,lfi,a,a,a,a,1u2,c" +
  "0,19c,3og";
// [code point, full case folding] where it is not the lowercase.
const CASEFOLD_EXTRA = [
  [181,"\u03bc"],[223,"ss"],[329,"\u02bcn"],[383,"s"],[496,"j\u030c"],[837,"\u03b9"],
  [912,"\u03b9\u0308\u0301"],[944,"\u03c5\u0308\u0301"],[962,"\u03c3"],[976,"\u03b2"],
  [977,"\u03b8"],[981,"\u03c6"],[982,"\u03c0"],[1008,"\u03ba"],[1009,"\u03c1"],[1013,"\u03b5"],
  [1415,"\u0565\u0582"],[5024,"\u13a0"],[5025,"\u13a1"],[5026,"\u13a2"],[5027,"\u13a3"],
  [5028,"\u13a4"],[5029,"\u13a5"],[5030,"\u13a6"],[5031,"\u13a7"],[5032,"\u13a8"],[5033,"\u13a9"],
  [5034,"\u13aa"],[5035,"\u13ab"],[5036,"\u13ac"],[5037,"\u13ad"],[5038,"\u13ae"],[5039,"\u13af"],
  [5040,"\u13b0"],[5041,"\u13b1"],[5042,"\u13b2"],[5043,"\u13b3"],[5044,"\u13b4"],[5045,"\u13b5"],
  [5046,"\u13b6"],[5047,"\u13b7"],[5048,"\u13b8"],[5049,"\u13b9"],[5050,"\u13ba"],[5051,"\u13bb"],
  [5052,"\u13bc"],[5053,"\u13bd"],[5054,"\u13be"],[5055,"\u13bf"],[5056,"\u13c0"],[5057,"\u13c1"],
  [5058,"\u13c2"],[5059,"\u13c3"],[5060,"\u13c4"],[5061,"\u13c5"],[5062,"\u13c6"],[5063,"\u13c7"],
  [5064,"\u13c8"],[5065,"\u13c9"],[5066,"\u13ca"],[5067,"\u13cb"],[5068,"\u13cc"],[5069,"\u13cd"],
  [5070,"\u13ce"],[5071,"\u13cf"],[5072,"\u13d0"],[5073,"\u13d1"],[5074,"\u13d2"],[5075,"\u13d3"],
  [5076,"\u13d4"],[5077,"\u13d5"],[5078,"\u13d6"],[5079,"\u13d7"],[5080,"\u13d8"],[5081,"\u13d9"],
  [5082,"\u13da"],[5083,"\u13db"],[5084,"\u13dc"],[5085,"\u13dd"],[5086,"\u13de"],[5087,"\u13df"],
  [5088,"\u13e0"],[5089,"\u13e1"],[5090,"\u13e2"],[5091,"\u13e3"],[5092,"\u13e4"],[5093,"\u13e5"],
  [5094,"\u13e6"],[5095,"\u13e7"],[5096,"\u13e8"],[5097,"\u13e9"],[5098,"\u13ea"],[5099,"\u13eb"],
  [5100,"\u13ec"],[5101,"\u13ed"],[5102,"\u13ee"],[5103,"\u13ef"],[5104,"\u13f0"],[5105,"\u13f1"],
  [5106,"\u13f2"],[5107,"\u13f3"],[5108,"\u13f4"],[5109,"\u13f5"],[5112,"\u13f0"],[5113,"\u13f1"],
  [5114,"\u13f2"],[5115,"\u13f3"],[5116,"\u13f4"],[5117,"\u13f5"],[7296,"\u0432"],[7297,"\u0434"],
  [7298,"\u043e"],[7299,"\u0441"],[7300,"\u0442"],[7301,"\u0442"],[7302,"\u044a"],[7303,"\u0463"],
  [7304,"\ua64b"],[7830,"h\u0331"],[7831,"t\u0308"],[7832,"w\u030a"],[7833,"y\u030a"],
  [7834,"a\u02be"],[7835,"\u1e61"],[7838,"ss"],[8016,"\u03c5\u0313"],[8018,"\u03c5\u0313\u0300"],
  [8020,"\u03c5\u0313\u0301"],[8022,"\u03c5\u0313\u0342"],[8064,"\u1f00\u03b9"],
  [8065,"\u1f01\u03b9"],[8066,"\u1f02\u03b9"],[8067,"\u1f03\u03b9"],[8068,"\u1f04\u03b9"],
  [8069,"\u1f05\u03b9"],[8070,"\u1f06\u03b9"],[8071,"\u1f07\u03b9"],[8072,"\u1f00\u03b9"],
  [8073,"\u1f01\u03b9"],[8074,"\u1f02\u03b9"],[8075,"\u1f03\u03b9"],[8076,"\u1f04\u03b9"],
  [8077,"\u1f05\u03b9"],[8078,"\u1f06\u03b9"],[8079,"\u1f07\u03b9"],[8080,"\u1f20\u03b9"],
  [8081,"\u1f21\u03b9"],[8082,"\u1f22\u03b9"],[8083,"\u1f23\u03b9"],[8084,"\u1f24\u03b9"],
  [8085,"\u1f25\u03b9"],[8086,"\u1f26\u03b9"],[8087,"\u1f27\u03b9"],[8088,"\u1f20\u03b9"],
  [8089,"\u1f21\u03b9"],[8090,"\u1f22\u03b9"],[8091,"\u1f23\u03b9"],[8092,"\u1f24\u03b9"],
  [8093,"\u1f25\u03b9"],[8094,"\u1f26\u03b9"],[8095,"\u1f27\u03b9"],[8096,"\u1f60\u03b9"],
  [8097,"\u1f61\u03b9"],[8098,"\u1f62\u03b9"],[8099,"\u1f63\u03b9"],[8100,"\u1f64\u03b9"],
  [8101,"\u1f65\u03b9"],[8102,"\u1f66\u03b9"],[8103,"\u1f67\u03b9"],[8104,"\u1f60\u03b9"],
  [8105,"\u1f61\u03b9"],[8106,"\u1f62\u03b9"],[8107,"\u1f63\u03b9"],[8108,"\u1f64\u03b9"],
  [8109,"\u1f65\u03b9"],[8110,"\u1f66\u03b9"],[8111,"\u1f67\u03b9"],[8114,"\u1f70\u03b9"],
  [8115,"\u03b1\u03b9"],[8116,"\u03ac\u03b9"],[8118,"\u03b1\u0342"],[8119,"\u03b1\u0342\u03b9"],
  [8124,"\u03b1\u03b9"],[8126,"\u03b9"],[8130,"\u1f74\u03b9"],[8131,"\u03b7\u03b9"],
  [8132,"\u03ae\u03b9"],[8134,"\u03b7\u0342"],[8135,"\u03b7\u0342\u03b9"],[8140,"\u03b7\u03b9"],
  [8146,"\u03b9\u0308\u0300"],[8147,"\u03b9\u0308\u0301"],[8150,"\u03b9\u0342"],
  [8151,"\u03b9\u0308\u0342"],[8162,"\u03c5\u0308\u0300"],[8163,"\u03c5\u0308\u0301"],
  [8164,"\u03c1\u0313"],[8166,"\u03c5\u0342"],[8167,"\u03c5\u0308\u0342"],[8178,"\u1f7c\u03b9"],
  [8179,"\u03c9\u03b9"],[8180,"\u03ce\u03b9"],[8182,"\u03c9\u0342"],[8183,"\u03c9\u0342\u03b9"],
  [8188,"\u03c9\u03b9"],[43888,"\u13a0"],[43889,"\u13a1"],[43890,"\u13a2"],[43891,"\u13a3"],
  [43892,"\u13a4"],[43893,"\u13a5"],[43894,"\u13a6"],[43895,"\u13a7"],[43896,"\u13a8"],
  [43897,"\u13a9"],[43898,"\u13aa"],[43899,"\u13ab"],[43900,"\u13ac"],[43901,"\u13ad"],
  [43902,"\u13ae"],[43903,"\u13af"],[43904,"\u13b0"],[43905,"\u13b1"],[43906,"\u13b2"],
  [43907,"\u13b3"],[43908,"\u13b4"],[43909,"\u13b5"],[43910,"\u13b6"],[43911,"\u13b7"],
  [43912,"\u13b8"],[43913,"\u13b9"],[43914,"\u13ba"],[43915,"\u13bb"],[43916,"\u13bc"],
  [43917,"\u13bd"],[43918,"\u13be"],[43919,"\u13bf"],[43920,"\u13c0"],[43921,"\u13c1"],
  [43922,"\u13c2"],[43923,"\u13c3"],[43924,"\u13c4"],[43925,"\u13c5"],[43926,"\u13c6"],
  [43927,"\u13c7"],[43928,"\u13c8"],[43929,"\u13c9"],[43930,"\u13ca"],[43931,"\u13cb"],
  [43932,"\u13cc"],[43933,"\u13cd"],[43934,"\u13ce"],[43935,"\u13cf"],[43936,"\u13d0"],
  [43937,"\u13d1"],[43938,"\u13d2"],[43939,"\u13d3"],[43940,"\u13d4"],[43941,"\u13d5"],
  [43942,"\u13d6"],[43943,"\u13d7"],[43944,"\u13d8"],[43945,"\u13d9"],[43946,"\u13da"],
  [43947,"\u13db"],[43948,"\u13dc"],[43949,"\u13dd"],[43950,"\u13de"],[43951,"\u13df"],
  [43952,"\u13e0"],[43953,"\u13e1"],[43954,"\u13e2"],[43955,"\u13e3"],[43956,"\u13e4"],
  [43957,"\u13e5"],[43958,"\u13e6"],[43959,"\u13e7"],[43960,"\u13e8"],[43961,"\u13e9"],
  [43962,"\u13ea"],[43963,"\u13eb"],[43964,"\u13ec"],[43965,"\u13ed"],[43966,"\u13ee"],
  [43967,"\u13ef"],[64256,"ff"],[64257,"fi"],[64258,"fl"],[64259,"ffi"],[64260,"ffl"],
  [64261,"st"],[64262,"st"],[64275,"\u0574\u0576"],[64276,"\u0574\u0565"],[64277,"\u0574\u056b"],
  [64278,"\u057e\u0576"],[64279,"\u0574\u056d"],
];
// Categories Cc Cf Cs Co Zl Zp: dropped from file names (hex ranges).
const UNSAFE_FILENAME_RANGES =
  "0-1f,7f-9f,ad,600-605,61c,6dd,70f,890-891,8e2,180e,200b-200f,2028-202e,2060-2064,2066-206f,d800-" +
  "f8ff,feff,fff9-fffb,110bd,110cd,13430-13438,1bca0-1bca3,1d173-1d17a,e0001,e0020-e007f,f0000-ffff" +
  "d,100000-10fffd";
// END GENERATED: unicode-tables
