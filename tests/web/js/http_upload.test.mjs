// An upload whose bytes go by HTTP PUT (docs/protocol.md 1.1): the client's state machine
// lets its FileAvailable close it, and refuses FileChunk or FileEnd for it afterwards.

import assert from "node:assert/strict";
import { test } from "node:test";

import { chatproto } from "./support.mjs";

const { ClientConnection, LocalProtocolError, RemoteProtocolError, encodeEvent } = chatproto;

function loggedIn(version = 4) {
  const conn = new ClientConnection();
  conn.hello();
  conn.receive(encodeEvent({ type: "Hello", version, max_frame_size: 1048576, software: "s" }));
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

const ticket = (id, expires = 60000) => encodeEvent({
  type: "UploadTicket", upload_id: id, token: new Uint8Array(32).fill(7), expires_in_ms: expires,
});

test("version 5: an accepted upload's ticket, once, also once its bytes went by HTTP", () => {
  const conn = loggedIn(5);
  assert.equal(conn.speaksUploadTickets, true);
  offered(conn, 1n);
  conn.uploadOverHttp(1n);
  const got = conn.receive(ticket(1n, 2 ** 32 - 1));
  assert.equal(got.type, "UploadTicket");
  assert.equal(got.upload_id, 1n);
  assert.equal(got.expires_in_ms, 2 ** 32 - 1);
  assert.deepEqual(got.token, new Uint8Array(32).fill(7));
  assert.equal(conn.openUploads, 1, "a ticket closes nothing");
  assert.throws(() => conn.receive(ticket(1n)), (error) =>
    error instanceof RemoteProtocolError && error.code === "unexpected-message");
});

test("a ticket before FileAccepted, of an unknown upload or on version 4 is refused", () => {
  const early = loggedIn(5);
  early.send({ type: "FileOffer", upload_id: 2n, name: "a.bin", size: 3n, sha256: new Uint8Array(32) });
  assert.throws(() => early.receive(ticket(2n)), RemoteProtocolError);
  const unknown = loggedIn(5);
  assert.throws(() => unknown.receive(ticket(3n)), RemoteProtocolError);
  const old = loggedIn(4);
  assert.equal(old.speaksUploadTickets, false);
  offered(old, 1n);
  assert.throws(() => old.receive(ticket(1n)), (error) =>
    error instanceof RemoteProtocolError && error.code === "unexpected-message");
});
