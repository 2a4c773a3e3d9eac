// User names, targets, file names and SHA-256 against Python's chatproto and hashlib.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatproto, everyCase, loadCorpus } from "./support.mjs";

const { fromHex, toHex } = chatproto;

test("user names: Python's verdict (the same sentence), skeleton and general", () => {
  const { names } = loadCorpus();
  assert.ok(names.filter((n) => n.problem === null).length > 200);
  assert.ok(names.filter((n) => n.problem !== null).length > 200);
  everyCase(names, ({ name, problem, skeleton, general }) => {
    assert.equal(chatproto.usernameProblem(name), problem);
    assert.equal(chatproto.isValidUsername(name), problem === null);
    assert.equal(chatproto.usernameSkeleton(name), skeleton);
    assert.equal(chatproto.isGeneral(name), general);
  }, ({ name }) => JSON.stringify(name));
});

test("the skeleton of every assigned character of Unicode 14.0 is Python's", () => {
  const { ranges, changed } = loadCorpus().skeletonChars;
  const expected = new Map(changed);
  let checked = 0;
  const failures = [];
  for (const [low, high] of ranges) {
    for (let cp = low; cp <= high; cp++) {
      const ch = String.fromCodePoint(cp);
      const want = expected.get(cp) ?? ch;
      const got = chatproto.usernameSkeleton(ch);
      if (got !== want && failures.length < 20) failures.push(`U+${cp.toString(16)}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      checked++;
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 140_000);
});

test("targets: rooms and general as targets.py spells them", () => {
  assert.equal(chatproto.roomTarget("dev"), "#dev");
  assert.equal(chatproto.roomTarget("General"), null);
  assert.equal(chatproto.roomTarget("ＧＥＮＥＲＡＬ"), null);
  assert.equal(chatproto.roomOf(null), "general");
  assert.equal(chatproto.roomOf("#dev"), "dev");
  assert.equal(chatproto.roomOf("bob"), null);
  assert.ok(chatproto.isRoomTarget("#dev") && !chatproto.isRoomTarget("bob") && !chatproto.isRoomTarget(null));
  assert.ok(chatproto.sameTarget("#Dev", "#dev") && chatproto.sameTarget("BOB", "bob"));
  assert.ok(chatproto.sameTarget(null, null) && !chatproto.sameTarget(null, "bob"));
  assert.ok(!chatproto.sameTarget("#bob", "bob"));
});

test("sanitizeFilename gives exactly what Python's sanitize_filename gives", () => {
  const { filenames } = loadCorpus();
  assert.ok(filenames.length > 500);
  everyCase(filenames, ([name, clean]) => assert.equal(chatproto.sanitizeFilename(name), clean),
    ([name]) => JSON.stringify(name).slice(0, 200));
});

test("truncateUtf8 is limits.truncate_utf8", () => {
  everyCase(loadCorpus().truncations, ([text, limit, cut]) => assert.equal(chatproto.truncateUtf8(text, limit), cut),
    ([text, limit]) => `${JSON.stringify(text)} to ${limit}`);
});

test("truncateUtf8 never cuts a character", () => {
  assert.equal(chatproto.truncateUtf8("가나다", 7), "가나");
  assert.equal(chatproto.truncateUtf8("가나다", 9), "가나다");
  assert.equal(chatproto.truncateUtf8("a😀", 4), "a");
  assert.equal(chatproto.truncateUtf8("abc", 0), "");
});

test("Sha256 is hashlib's on random data fed in random slices", async () => {
  const { sha256 } = loadCorpus();
  for (const { hex, slices, digest } of sha256) {
    const data = fromHex(hex);
    const hash = new chatproto.Sha256();
    let at = 0;
    for (const size of slices) {
      hash.update(data.subarray(at, at + size));
      at += size;
    }
    assert.equal(toHex(hash.digest()), digest, `${data.length} bytes in ${slices.length} slices`);
    assert.equal(toHex(await chatproto.sha256(data)), digest);
    assert.equal(toHex(await chatproto.sha256(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))), digest);
  }
  const used = new chatproto.Sha256();
  used.digest();
  assert.throws(() => used.update(new Uint8Array(1)));
});
