// Shared by the Node tests of chatproto.js: the corpus Python wrote (tests/web/corpus.py,
// path in CHATPROTO_CORPUS) and the conversion between its JSON and chatproto.js's events.
// In the JSON a u64 is a decimal string, bytes are hex, participants are [name, state]
// pairs and rooms [name, member_count, private, member]; the kinds come from Python's
// layout table in the corpus, so a wrong kind in chatproto.js cannot hide itself.

import { readFileSync } from "node:fs";

import * as chatproto from "../../../src/frontends/web/chatproto.js";

export { chatproto };

let corpus = null;

export function loadCorpus() {
  if (corpus === null) {
    const path = process.env.CHATPROTO_CORPUS;
    if (!path) {
      throw new Error("CHATPROTO_CORPUS is not set: run these tests through " +
        "tests/web/test_chatproto_js.py, or write a corpus with python tests/web/corpus.py OUT.json");
    }
    corpus = JSON.parse(readFileSync(path, "utf8"));
    corpus.kinds = new Map(corpus.layouts.map((layout) => [layout.type, new Map(layout.fields)]));
  }
  return corpus;
}

const BYTES = new Set(["sha256", "resume-token", "data"]);

function kindsOf(type) {
  const kinds = loadCorpus().kinds.get(type);
  if (kinds === undefined) throw new Error(`no layout ${type} in the corpus`);
  return kinds;
}

/** The chatproto.js event of a corpus event {type, fields}. */
export function fromJson({ type, fields }) {
  const kinds = kindsOf(type);
  const event = { type };
  for (const [name, value] of Object.entries(fields)) {
    const kind = kinds.get(name);
    if (kind === "u64") event[name] = BigInt(value);
    else if (BYTES.has(kind)) event[name] = chatproto.fromHex(value);
    else if (kind === "participants") event[name] = value.map(([n, state]) => ({ name: n, state }));
    else if (kind === "rooms") {
      event[name] = value.map(([n, count, isPrivate, member]) => ({
        name: n, member_count: count, private: isPrivate, member,
      }));
    } else event[name] = value;
  }
  return event;
}

function valueToJson(kind, value) {
  if (kind === "u64") {
    if (typeof value !== "bigint") throw new Error(`a u64 that is not a BigInt: ${String(value)}`);
    return value.toString();
  }
  if (BYTES.has(kind)) {
    if (!(value instanceof Uint8Array)) throw new Error(`${kind} that is not a Uint8Array`);
    return chatproto.toHex(value);
  }
  if (kind === "participants") {
    return value.map((p) => {
      assertKeys(p, ["name", "state"]);
      return [p.name, p.state];
    });
  }
  if (kind === "rooms") {
    return value.map((r) => {
      assertKeys(r, ["member", "member_count", "name", "private"]);
      return [r.name, r.member_count, r.private, r.member];
    });
  }
  return value;
}

function assertKeys(object, keys) {
  const found = Object.keys(object).sort().join(",");
  if (found !== [...keys].sort().join(",")) throw new Error(`keys ${found}, expected ${keys}`);
}

/** The corpus form of a chatproto.js event; throws when a field is missing, extra or of
 * the wrong JavaScript type (a u64 that is not a BigInt...). */
export function toJson(event) {
  const kinds = kindsOf(event.type);
  assertKeys(event, ["type", ...kinds.keys()]);
  const fields = {};
  for (const [name, kind] of kinds) fields[name] = valueToJson(kind, event[name]);
  return { type: event.type, fields };
}

/** Run `check` on every case; one assertion at the end with the first failures, so that a
 * corpus of thousands gives one readable report instead of thousands of tests. */
export function everyCase(cases, check, describe = (item) => JSON.stringify(item).slice(0, 300)) {
  const failures = [];
  for (const item of cases) {
    try {
      check(item);
    } catch (error) {
      failures.push(`${describe(item)}\n    ${error.message.split("\n").slice(0, 6).join("\n    ")}`);
    }
  }
  if (failures.length) {
    throw new Error(`${failures.length} of ${cases.length} cases failed:\n` + failures.slice(0, 15).join("\n"));
  }
  return cases.length;
}

/** The code of the error `action` throws, as [class name, code], or null if it throws none. */
export function errorOf(action) {
  try {
    action();
  } catch (error) {
    if (error instanceof chatproto.LocalProtocolError) return ["local", error.code];
    if (error instanceof chatproto.RemoteProtocolError) return ["remote", error.code];
    throw error;
  }
  return null;
}
