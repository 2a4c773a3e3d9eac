// The client state machine against Python's ClientConnection: runs of sends, receives and
// the end of the stream, generated and judged by Python, replayed step by step.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatproto, errorOf, everyCase, fromJson, loadCorpus, toJson } from "./support.mjs";

const { ClientConnection, LIMITS, fromHex, toHex } = chatproto;

function snapshot(conn) {
  return {
    state: conn.state,
    theirState: conn.theirState,
    version: conn.version,
    username: conn.username,
    transient: conn.transient,
    openUploads: conn.openUploads,
    openFetches: conn.openFetches,
    openRequests: conn.openRequests,
    peerMaxFrameSize: conn.peerMaxFrameSize,
    chunkSize: conn.chunkSize,
    speaksRooms: conn.speaksRooms,
    speaksUploadTickets: conn.speaksUploadTickets,
  };
}

function replay(steps) {
  const conn = new ClientConnection();
  steps.forEach((step, index) => {
    const where = `step ${index}: ${JSON.stringify(step).slice(0, 240)}`;
    const expected = step.error ? [step.error, step.code] : null;
    if (step.send) {
      let frame = null;
      assert.deepEqual(errorOf(() => { frame = conn.send(fromJson(step.send)); }), expected, where);
      if (!expected) assert.equal(toHex(frame), step.hex, where);
    } else {
      let event = null;
      const act = step.close ? () => { event = conn.receiveClose(); } : () => { event = conn.receive(fromHex(step.receive)); };
      assert.deepEqual(errorOf(act), expected, where);
      if (!expected && step.close) assert.deepEqual({ type: event.type, fields: { clean: event.clean } }, step.event, where);
      else if (!expected) assert.deepEqual(toJson(event), step.event, where);
    }
    assert.deepEqual(snapshot(conn), step.after, `${where}\n  (the connection afterwards)`);
  });
}

test("runs of the client state machine do what Python's ClientConnection does", () => {
  const { sequences } = loadCorpus();
  const steps = sequences.flat();
  assert.ok(steps.length > 1500);
  // The corpus reaches what it should: logged-in sessions, every kind of verdict.
  const states = new Set(steps.map((s) => s.after.state));
  for (const state of ["login", "authenticating", "active", "transient", "closed", "error"]) {
    assert.ok(states.has(state), `no run reaches ${state}`);
  }
  const codes = new Set(steps.map((s) => `${s.error} ${s.code}`));
  for (const code of ["local unexpected-message", "remote unexpected-message", "remote invalid-field",
    "remote unsupported-version", "local frame-too-large"]) {
    assert.ok(codes.has(code), `no step gives ${code}`);
  }
  everyCase(sequences, replay, (run) => `a run of ${run.length} steps`);
});

test("hello() is the Hello of the highest version, our frame limit and our software", () => {
  const conn = new ClientConnection({ software: "test", maxFrameSize: LIMITS.MIN_FRAME_SIZE });
  assert.deepEqual(chatproto.decodeFrame(conn.hello()), {
    type: "Hello", version: 5, max_frame_size: LIMITS.MIN_FRAME_SIZE, software: "test",
  });
  assert.equal(conn.state, "login");
  const standard = new ClientConnection();
  assert.deepEqual(chatproto.decodeFrame(standard.hello()), {
    type: "Hello", version: 5, max_frame_size: LIMITS.DEFAULT_MAX_FRAME_SIZE, software: "lanchat-web",
  });
  assert.deepEqual(snapshot(new ClientConnection()), {
    state: "hello", theirState: "hello", version: null, username: null, transient: false,
    openUploads: 0, openFetches: 0, openRequests: 0, peerMaxFrameSize: null,
    chunkSize: LIMITS.DEFAULT_CHUNK_SIZE, speaksRooms: false, speaksUploadTickets: false,
  });
});

test("a frame limit outside what Python's Limits accepts is refused", () => {
  for (const maxFrameSize of [LIMITS.MIN_FRAME_SIZE - 1, LIMITS.ABSOLUTE_MAX_FRAME_SIZE + 1, 1.5]) {
    assert.throws(() => new ClientConnection({ maxFrameSize }), RangeError);
  }
});

test("an invalid event changes nothing; a forbidden one leaves the connection in error", () => {
  const conn = new ClientConnection();
  assert.deepEqual(errorOf(() => conn.send({ type: "Hello", version: 1, max_frame_size: 70_000 })),
    ["local", "unsupported-version"]);
  assert.equal(conn.state, "hello");
  conn.hello();
  assert.deepEqual(errorOf(() => conn.send({ type: "SendChat", text: "hi" })), ["local", "unexpected-message"]);
  assert.equal(conn.state, "error");
  assert.equal(conn.theirState, "error");
  // In ERROR a side may still send one Error frame, and nothing else.
  assert.deepEqual(errorOf(() => conn.send({ type: "Goodbye" })), ["local", "unexpected-message"]);
  conn.send({ type: "Error", code: "malformed" });
  assert.equal(conn.state, "closed");
});

test("maySend follows the table of the state", () => {
  const conn = new ClientConnection();
  assert.ok(conn.maySend("Hello"));
  assert.ok(!conn.maySend("Login"));
  conn.hello();
  assert.ok(conn.maySend("Login") && conn.maySend("TransientLogin") && conn.maySend("Goodbye"));
  assert.ok(!conn.maySend("SendChat"));
});

test("receiveClose: clean after the server's Goodbye, and data after it is refused", () => {
  const conn = new ClientConnection();
  conn.hello();
  conn.receive(chatproto.encodeEvent({ type: "Hello", version: 4, max_frame_size: 1 << 20 }));
  conn.receive(chatproto.encodeEvent({ type: "Goodbye", message: "shutting down" }));
  assert.deepEqual(conn.receiveClose(), { type: "ConnectionClosed", clean: true });
  assert.deepEqual(conn.receiveClose(), { type: "ConnectionClosed", clean: true });
  assert.deepEqual(errorOf(() => conn.receive(chatproto.encodeEvent({ type: "Ping" }))), ["local", "malformed"]);
  const lost = new ClientConnection();
  lost.hello();
  assert.deepEqual(lost.receiveClose(), { type: "ConnectionClosed", clean: false });
  assert.equal(lost.theirState, "closed");
});
