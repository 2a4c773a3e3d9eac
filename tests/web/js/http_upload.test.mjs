// An upload whose bytes go by HTTP PUT (docs/protocol.md 1.1): the client's state machine
// lets its FileAvailable close it, and refuses FileChunk or FileEnd for it afterwards.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatproto } from "./support.mjs";

const { ClientConnection, LocalProtocolError, encodeEvent } = chatproto;

function loggedIn() {
  const conn = new ClientConnection();
  conn.hello();
  conn.receive(encodeEvent({ type: "Hello", version: 4, max_frame_size: 1048576, software: "s" }));
  conn.send({ type: "Login", username: "frog", password: "pw", last_seen_seq: 0n, epoch: 0n });
  conn.receive(encodeEvent({
    type: "LoginAccepted", new_account: true, rejoined: false, history_reset: false,
    last_seq: 0n, epoch: 1n, participant_count: 1, username: "frog",
    resume_token: new Uint8Array(0), participants: [{ name: "frog", state: "active" }],
  }));
  return conn;
}

function offered(conn, id) {
  conn.send({ type: "FileOffer", upload_id: id, name: "a.bin", size: 3n, sha256: new Uint8Array(32) });
  conn.receive(encodeEvent({ type: "FileAccepted", upload_id: id }));
}

test("FileAvailable closes an upload sent over HTTP", () => {
  const conn = loggedIn();
  for (let id = 1n; id <= 6n; id++) { // more than MAX_OPEN_UPLOADS, one after another
    offered(conn, id);
    conn.uploadOverHttp(id);
    assert.equal(conn.openUploads, 1);
    conn.receive(encodeEvent({
      type: "FileAvailable", seq: id, timestamp_ms: 1n, file_id: id, size: 3n, upload_id: id,
      sha256: new Uint8Array(32), sender: "frog", recipient: null, name: "a.bin",
    }));
    assert.equal(conn.openUploads, 0);
  }
});

test("no chunk, no end and no second claim for an upload sent over HTTP", () => {
  const conn = loggedIn();
  assert.throws(() => conn.uploadOverHttp(9n), LocalProtocolError); // never offered
  offered(conn, 9n);
  conn.uploadOverHttp(9n);
  assert.throws(() => conn.uploadOverHttp(9n), LocalProtocolError);
  assert.throws(() => conn.send({ type: "FileEnd", transfer_id: 9n }), LocalProtocolError);
});
