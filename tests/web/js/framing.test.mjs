// What only chatproto.js has: one frame per WebSocket message, JavaScript's types (BigInt
// for every u64, all 64 bits), and the API list at the top of the file.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { chatproto, errorOf } from "./support.mjs";

const { ClientConnection, LIMITS, SKIP_REPLAY, decodeFrame, encodeEvent, fromHex, toHex } = chatproto;

test("a message is exactly one frame: shorter is truncated, longer is malformed", () => {
  const ping = encodeEvent({ type: "Ping", nonce: 5n });
  assert.deepEqual(errorOf(() => decodeFrame(ping.subarray(0, 4))), ["remote", "truncated"]);
  assert.deepEqual(errorOf(() => decodeFrame(ping.subarray(0, 12))), ["remote", "truncated"]);
  assert.deepEqual(errorOf(() => decodeFrame(new Uint8Array([...ping, 0]))), ["remote", "malformed"]);
  assert.deepEqual(errorOf(() => decodeFrame(new Uint8Array([...ping, ...ping]))), ["remote", "malformed"]);
  // The header is judged first, as a stream receiver judges it before the body comes.
  assert.deepEqual(errorOf(() => decodeFrame(fromHex("05 00000009"))), ["remote", "frame-too-large"]);
  assert.deepEqual(errorOf(() => decodeFrame(fromHex("0a 00000000 00"))), ["remote", "unknown-type"]);
});

test("every u64 is a BigInt, all 64 bits end to end", () => {
  const top = 2n ** 64n - 1n;
  assert.equal(SKIP_REPLAY, top);
  const login = { type: "Login", username: "bot", password: "pw", last_seen_seq: SKIP_REPLAY, epoch: top - 1n };
  const frame = encodeEvent(login);
  assert.equal(toHex(frame), "0200000019ffffffffffffffff" + "fffffffffffffffe" + "030002" + "00626f747077");
  const back = decodeFrame(frame);
  assert.equal(back.last_seen_seq, top);
  assert.equal(back.epoch, top - 1n);
  for (const nonce of [0n, 1n, 2n ** 53n + 1n, top]) {
    assert.equal(decodeFrame(encodeEvent({ type: "Ping", nonce })).nonce, nonce);
  }
  assert.deepEqual(errorOf(() => encodeEvent({ type: "Ping", nonce: top + 1n })), ["local", "invalid-field"]);
  assert.deepEqual(errorOf(() => encodeEvent({ type: "Ping", nonce: -1n })), ["local", "invalid-field"]);
  // A Number where a u64 goes, or a BigInt where a u32 goes, is a caller's mistake.
  assert.deepEqual(errorOf(() => encodeEvent({ type: "Ping", nonce: 5 })), ["local", "invalid-field"]);
  assert.deepEqual(errorOf(() => encodeEvent({ type: "Presence", user: "bob", state: "joined",
    participant_count: 2n })), ["local", "invalid-field"]);
  // Through a connection too: the client's Login, a server's ChatMessage.
  const conn = new ClientConnection();
  conn.hello();
  conn.receive(encodeEvent({ type: "Hello", version: 4, max_frame_size: LIMITS.DEFAULT_MAX_FRAME_SIZE }));
  assert.equal(decodeFrame(conn.send(login)).last_seen_seq, top);
  conn.receive(encodeEvent({ type: "LoginAccepted", username: "bot", new_account: false, rejoined: false,
    last_seq: top, participants: [{ name: "bot", state: "active" }] }));
  const message = conn.receive(encodeEvent({ type: "ChatMessage", seq: top, timestamp_ms: top, client_id: top,
    sender: "bob", recipient: null, text: "hi" }));
  assert.equal(message.seq, top);
  assert.equal(message.client_id, top);
});

test("bytes come in as Uint8Array, ArrayBuffer or a view; decoded bytes are copies", () => {
  const chunk = encodeEvent({ type: "FileChunk", transfer_id: 1n, offset: 0n, data: new Uint8Array([1, 2, 3]) });
  const buffer = chunk.buffer.slice(0);
  assert.deepEqual(decodeFrame(buffer).data, new Uint8Array([1, 2, 3]));
  assert.deepEqual(decodeFrame(new DataView(buffer)).data, new Uint8Array([1, 2, 3]));
  const event = decodeFrame(chunk);
  chunk[chunk.length - 1] = 9;
  assert.deepEqual(event.data, new Uint8Array([1, 2, 3]));
  assert.throws(() => decodeFrame("01 00"), TypeError);
});

test("what is not an event of the wire is refused as malformed", () => {
  assert.deepEqual(errorOf(() => encodeEvent({ type: "ConnectionClosed", clean: true })), ["local", "malformed"]);
  assert.deepEqual(errorOf(() => encodeEvent(null)), ["local", "malformed"]);
  assert.deepEqual(errorOf(() => encodeEvent({ type: "SendChat" })), ["local", "malformed"]);
  assert.deepEqual(errorOf(() => encodeEvent({ type: "LoginAccepted", username: "a", new_account: true,
    rejoined: false, last_seq: 0n, participants: "alice" })), ["local", "malformed"]);
});

test("send moves the state machine with the defaults filled in", () => {
  const conn = new ClientConnection();
  conn.hello();
  conn.receive(encodeEvent({ type: "Hello", version: 4, max_frame_size: LIMITS.DEFAULT_MAX_FRAME_SIZE }));
  conn.send({ type: "Login", username: "bob", password: "pw" });
  conn.receive(encodeEvent({ type: "LoginAccepted", username: "bob", new_account: false, rejoined: false,
    last_seq: 0n, participants: [{ name: "bob" }] }));
  conn.send({ type: "FetchFile", file_id: 3n }); // offset 0 by default
  const chunk = conn.receive(encodeEvent({ type: "FileChunk", transfer_id: 3n, offset: 0n, data: new Uint8Array(2) }));
  assert.equal(chunk.offset, 0n);
  conn.send({ type: "FileOffer", upload_id: 1n, name: "a", size: 0n, sha256: new Uint8Array(32) });
  assert.equal(conn.openUploads, 1);
});

test("text with a lone surrogate cannot be sent (Python cannot encode it either)", () => {
  const check = () => {
    for (const text of ["\ud800", "a\udc00", "\udbff\ud800", "x\ud83d", "\ude00\ud83d"]) {
      assert.deepEqual(errorOf(() => encodeEvent({ type: "SendChat", text })), ["local", "bad-utf8"]);
    }
    assert.equal(decodeFrame(encodeEvent({ type: "SendChat", text: "a\ud83d\ude00" })).text, "a\u{1f600}");
  };
  check();
  // The same in an engine without String.prototype.isWellFormed (before 2023).
  const builtin = Object.getOwnPropertyDescriptor(String.prototype, "isWellFormed");
  delete String.prototype.isWellFormed;
  try {
    check();
  } finally {
    Object.defineProperty(String.prototype, "isWellFormed", builtin);
  }
});

test("the receiver's own frame limit bounds what it takes", () => {
  const conn = new ClientConnection({ maxFrameSize: LIMITS.MIN_FRAME_SIZE });
  conn.hello();
  const big = encodeEvent({ type: "FileChunk", transfer_id: 1n, offset: 0n, data: new Uint8Array(LIMITS.MIN_FRAME_SIZE) });
  assert.deepEqual(errorOf(() => conn.receive(big)), ["remote", "frame-too-large"]);
  assert.equal(conn.state, "error");
});

test("the comment block at the top lists every export, and only those", () => {
  const source = readFileSync(new URL("../../../src/frontends/web/chatproto.js", import.meta.url), "utf8");
  const block = source.slice(0, source.indexOf("\n\n"));
  assert.ok(block.split("\n").every((line) => line.startsWith("//")), "the file starts with the API block");
  const listed = new Set(block.match(/\b[A-Za-z_][A-Za-z0-9_]*\b/g));
  for (const name of Object.keys(chatproto)) assert.ok(listed.has(name), `${name} is not in the API block`);
  const exported = new Set(Object.keys(chatproto));
  for (const [, name] of source.matchAll(/^export (?:const|class|function|async function) ([A-Za-z_0-9]+)/gm)) {
    assert.ok(exported.has(name));
  }
});
