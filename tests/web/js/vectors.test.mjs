// The test vectors of docs/protocol.md section 8, as Python extracted them.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatproto, errorOf, everyCase, fromJson, loadCorpus, toJson } from "./support.mjs";

const { ClientConnection, decodeFrame, encodeEvent, fromHex, toHex } = chatproto;

test("8.1: every valid frame encodes to its bytes and decodes to its fields", () => {
  const { vectors, layouts } = loadCorpus();
  assert.deepEqual(new Set(vectors.map((v) => v.event.type)), new Set(layouts.map((l) => l.type)),
    "a vector for every message type");
  everyCase(vectors, ({ event, hex }) => {
    assert.equal(toHex(encodeEvent(fromJson(event))), hex);
    assert.deepEqual(toJson(decodeFrame(fromHex(hex))), event);
  }, (v) => v.title);
});

/** A client in the state the vector's steps describe (sent: send; received: receive). */
function clientAfter(steps) {
  const conn = new ClientConnection();
  for (const [verb, json] of steps) {
    const event = fromJson(json);
    if (verb === "sent") conn.send(event);
    else assert.deepEqual(toJson(conn.receive(encodeEvent(event))), json);
  }
  return conn;
}

test("8.2: a client receiver refuses the bytes with the vector's code", () => {
  const vectors = loadCorpus().invalidVectors.filter((v) => v.receiver === "client");
  assert.ok(vectors.length > 40);
  everyCase(vectors, ({ steps, frames, endOfStream, code }) => {
    const conn = clientAfter(steps);
    frames.slice(0, -1).forEach((hex) => conn.receive(fromHex(hex)));
    let error = errorOf(() => conn.receive(fromHex(frames[frames.length - 1])));
    if (error === null && endOfStream) error = errorOf(() => conn.receiveClose());
    assert.deepEqual(error, ["remote", code]);
    // The error is final: the same again on every later call.
    assert.deepEqual(errorOf(() => conn.receive(fromHex(frames[0]))), ["remote", code]);
  }, (v) => `vector ${v.number}: ${v.fault}`);
});

test("8.2: a client refuses to send what a server receiver refuses, with its code", () => {
  const vectors = loadCorpus().invalidVectors.filter((v) => v.receiver === "server");
  assert.ok(vectors.length > 40);
  everyCase(vectors, ({ steps, frames, code, mirror }) => {
    const conn = clientAfter(steps);
    let outcome = null;
    for (const [index, hex] of frames.entries()) {
      let event;
      try {
        event = decodeFrame(fromHex(hex));
      } catch (error) {
        outcome = { frame: index, error: "remote", code: error.code };
        break;
      }
      const refused = errorOf(() => conn.send(event));
      if (refused !== null) {
        outcome = { frame: index, error: refused[0], code: refused[1] };
        break;
      }
    }
    assert.deepEqual(outcome, mirror, "what Python's ClientConnection does");
    assert.equal(outcome.code, code);
    assert.equal(outcome.frame, frames.length - 1, "the last frame is the faulty one");
  }, (v) => `vector ${v.number}: ${v.fault}`);
});
