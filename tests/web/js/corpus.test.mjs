// chatproto.js against the Python library: the tables, events drawn with the hypothesis
// strategies (full field range), mutated frames and the events Python refuses to send.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatproto, errorOf, everyCase, fromJson, loadCorpus, toJson } from "./support.mjs";

const { decodeFrame, encodeEvent, fromHex, toHex } = chatproto;

test("the layout table is Python's: codes, names, field kinds in wire order, limits", () => {
  const python = loadCorpus().layouts.map(({ code, type, fields, maxPayload }) => ({ code, type, fields, maxPayload }));
  assert.deepEqual(chatproto.LAYOUTS.map((l) => ({ ...l, fields: l.fields.map((f) => [...f]) })), python);
  assert.deepEqual(chatproto.MESSAGE_TYPES, Object.fromEntries(python.map((l) => [l.type, l.code])));
});

test("a missing field takes Python's default", () => {
  everyCase(loadCorpus().layouts, ({ type, fields, defaults }) => {
    for (const [name] of fields) {
      if (!(name in defaults)) continue;
      // One event with every field, from a vector; take the field away.
      const vector = loadCorpus().vectors.find((v) => v.event.type === type);
      const full = fromJson(vector.event);
      delete full[name];
      const expected = structuredClone(vector.event);
      expected.fields[name] = defaults[name] === "len(participants)"
        ? expected.fields.participants.length : defaults[name];
      const error = errorOf(() => encodeEvent(full));
      if (error !== null) {
        // The default broke a value rule (an empty password...): Python refuses it too.
        assert.notEqual(error[1], "malformed", `${name} has no default`);
        continue;
      }
      assert.deepEqual(toJson(decodeFrame(encodeEvent(full))), expected, name);
    }
  }, (layout) => layout.type);
});

test("LIMITS holds every limit of limits.py with Python's value; u64 ones are BigInt", () => {
  const { limits } = loadCorpus();
  for (const [name, value] of Object.entries(limits)) {
    assert.ok(name in chatproto.LIMITS, `LIMITS.${name} is missing`);
    assert.equal(String(chatproto.LIMITS[name]), value, name);
    const big = BigInt(value) > BigInt(Number.MAX_SAFE_INTEGER);
    assert.equal(typeof chatproto.LIMITS[name], big ? "bigint" : "number", name);
  }
  assert.deepEqual(Object.keys(chatproto.LIMITS).sort(), Object.keys(limits).sort());
  assert.ok(Object.isFrozen(chatproto.LIMITS));
  assert.equal(chatproto.SKIP_REPLAY, 2n ** 64n - 1n);
  assert.equal(chatproto.PROTOCOL_VERSION, Number(limits.PROTOCOL_VERSION));
  assert.equal(chatproto.OLDEST_VERSION, Number(limits.OLDEST_PROTOCOL_VERSION));
  assert.equal(chatproto.GENERAL_ROOM, "general");
});

test("the code sets and the states are Python's, frozen", () => {
  for (const [name, members] of Object.entries(loadCorpus().codes)) {
    assert.deepEqual({ ...chatproto[name] }, members, name);
    assert.ok(Object.isFrozen(chatproto[name]), name);
  }
});

test("every drawn event: Python's frame decodes to its fields and re-encodes to its bytes", () => {
  const { events } = loadCorpus();
  assert.ok(events.length > 500);
  everyCase(events, ({ event, hex }) => {
    const decoded = decodeFrame(fromHex(hex));
    assert.deepEqual(toJson(decoded), event);
    assert.equal(toHex(encodeEvent(decoded)), hex);
    assert.equal(toHex(encodeEvent(fromJson(event))), hex);
  }, ({ event }) => `${event.type} ${JSON.stringify(event.fields).slice(0, 200)}`);
});

test("mutated frames: the same event or the same error code as Python's receive path", () => {
  const { frames } = loadCorpus();
  assert.ok(frames.length > 2000);
  const codes = new Set(frames.map((f) => f.error).filter(Boolean));
  for (const code of ["malformed", "frame-too-large", "unknown-type", "bad-utf8", "invalid-field", "truncated"]) {
    assert.ok(codes.has(code), `no mutated frame gives ${code}`);
  }
  everyCase(frames, ({ hex, error, event, reencodes }) => {
    if (error !== undefined) {
      assert.deepEqual(errorOf(() => decodeFrame(fromHex(hex))), ["remote", error]);
      return;
    }
    const decoded = decodeFrame(fromHex(hex));
    assert.deepEqual(toJson(decoded), event);
    if (reencodes) assert.equal(toHex(encodeEvent(decoded)), hex);
  }, ({ hex, error }) => `${hex.slice(0, 120)} (Python: ${error ?? "ok"})`);
});

test("events Python refuses to encode are refused with the same code", () => {
  const { refusals } = loadCorpus();
  assert.ok(refusals.filter((r) => r.error).length > 200);
  everyCase(refusals, ({ event, error, hex }) => {
    const jsEvent = fromJson(event);
    if (error === undefined) assert.equal(toHex(encodeEvent(jsEvent)), hex);
    else assert.deepEqual(errorOf(() => encodeEvent(jsEvent)), ["local", error]);
  }, ({ event, error }) => `${event.type} ${JSON.stringify(event.fields).slice(0, 160)} (Python: ${error ?? "ok"})`);
});
