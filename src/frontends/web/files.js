// Files: uploads with their progress, and the download link (plus, for images of
// a safe allow-list, the picture) of every file announced.
//
// An upload (contract.md): the SHA-256 is computed slice by slice with the pure-JS
// Sha256 (crypto.subtle is missing on plain http:// pages, and a whole file is
// never held in memory), the FileOffer goes over the WebSocket, and once the
// server answers FileAccepted the bytes go with an XHR PUT to
// /files/upload/UPLOAD_ID (XHR, for upload.onprogress); the verdict, FileAvailable
// with our upload id or FileRejected, comes over the WebSocket. From version 5 the
// PUT waits for the UploadTicket that follows FileAccepted and carries its token as
// Upload-Token (docs/protocol.md 1.1); the token lives only in this page's memory,
// beside its upload, and goes with it.
//
// A download is a plain link to /files/FILE_ID (the browser shows its progress).
// Pictures are shown inline only when their first bytes say PNG, JPEG, GIF or
// WebP (never by the name, never SVG) and their SHA-256 is the announced one;
// they are shown from a blob: URL of exactly the bytes checked.
"use strict";

import { LIMITS, Sha256, sanitizeFilename, toHex } from "./chatproto.js";
import { sizeText, t } from "./i18n.js";
import { clean } from "./text.js";

const HASH_SLICE = 4 * 1024 * 1024;
const INLINE_MAX_BYTES = 16 * 1024 * 1024;
const INLINE_AT_ONCE = 2;
const FINISHED_KEPT = 6;
const MAX_OPEN_UPLOADS = LIMITS.MAX_OPEN_UPLOADS ?? 4;

/** The upload refusal ``reason`` in the page's language. */
export function fileRefused(reason, message) {
  const texts = {
    "unknown-user": "there is no user with that ID",
    "too-large": "the file is larger than the server accepts",
    "bad-name": "nothing usable is left of the file name",
    "storage-full": "the server has no room left for the file",
    "checksum-mismatch": "the file changed or was damaged on the way",
    "not-member": "you are not a member of that room",
    "not-found": "there is no such room (or it is private)",
    "rate-limited": "you are sending too fast; wait a moment",
    "server-error": "an error on the server",
  };
  if (Object.prototype.hasOwnProperty.call(texts, reason)) return t(texts[reason]);
  return clean(message || reason, true);
}

/** The image type of ``head`` (the first bytes of a file) if it is one we show. */
export function imageType(head) {
  const starts = (bytes, at = 0) => bytes.every((b, i) => head[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (head[4] === 0x37 || head[4] === 0x39)
      && head[5] === 0x61) return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return null;
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

export class Files {
  /** ``session``, ``conversations``, ``lines`` {notice(conversation, text)},
   * ``el``: {input, uploads}. */
  constructor({ session, conversations, lines, el }) {
    this.session = session;
    this.conversations = conversations;
    this.lines = lines;
    this.el = el;
    this.queue = [];
    this.open = new Map(); // upload id (string) -> upload
    this.nextId = 1n;
    this.pumping = false;
    this.inlineQueue = [];
    this.inlineRunning = 0;
    el.input.addEventListener("change", () => {
      this.send(el.input.files);
      el.input.value = ""; // the same file may be chosen again
    });
  }

  /** Send ``files`` (a FileList or an array) to the conversation on screen. */
  send(files) {
    const conversation = this.conversations.current;
    for (const file of Array.from(files || [])) {
      const upload = { file, conversation, recipient: this.conversations.recipient(conversation),
        id: null, xhr: null, digest: null, token: null, tries: 0, element: this.#element(file) };
      this.queue.push(upload);
    }
    this.#pump();
  }

  #element(file) {
    const element = document.createElement("li");
    element.className = "upload";
    element.dataset.name = file.name;
    element.dataset.state = "sending";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = clean(file.name, true);
    const status = document.createElement("span");
    status.className = "progress-text";
    status.textContent = t("Waiting\u2026");
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "dismiss";
    dismiss.textContent = "\u00d7";
    dismiss.setAttribute("aria-label", t("Cancel"));
    dismiss.hidden = true;
    dismiss.addEventListener("click", () => element.remove());
    element.append(name, status, bar, dismiss);
    this.el.uploads.append(element);
    this.el.uploads.hidden = false;
    return element;
  }

  #show(upload, status, fraction) {
    upload.element.querySelector(".progress-text").textContent = status;
    const bar = upload.element.querySelector("progress");
    if (fraction === null) bar.removeAttribute("value");
    else bar.value = fraction;
  }

  #finish(upload, ok, reason) {
    if (upload.id !== null) this.open.delete(upload.id.toString());
    const { element } = upload;
    if (element.dataset.state !== "sending") return;
    element.dataset.state = ok ? "done" : "failed";
    this.#show(upload, ok ? t("done") : `${t("failed")}: ${reason}`, ok ? 1 : 0);
    element.querySelector(".dismiss").hidden = false;
    if (!ok) {
      this.lines.notice(upload.conversation, t("File not sent: {reason}", { reason }));
    }
    const finished = [...this.el.uploads.querySelectorAll(".upload:not([data-state=sending])")];
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) old.remove();
    this.#pump();
  }

  /** Hash and offer the queued files, one at a time, while connected and a slot
   * is free (a free slot of ours and of the connection's: both count open uploads). */
  async #pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length && this.#slotFree()) {
        const upload = this.queue[0];
        if (!upload.digest) {
          upload.digest = await this.#hash(upload);
          if (!upload.digest) {
            this.queue.shift();
            continue;
          }
          if (!this.#slotFree()) break; // lost while hashing: offered once back
        }
        this.queue.shift();
        this.#offer(upload, upload.digest);
      }
    } finally {
      this.pumping = false;
    }
  }

  #slotFree() {
    const conn = this.session.conn;
    return this.session.connected && this.open.size < MAX_OPEN_UPLOADS
      && (!conn || conn.openUploads < MAX_OPEN_UPLOADS);
  }

  /** Logged in (again): what waits in the queue may go. */
  opened() {
    this.#pump();
  }

  async #hash(upload) {
    const { file } = upload;
    const hasher = new Sha256();
    try {
      for (let offset = 0; offset < file.size; offset += HASH_SLICE) {
        this.#show(upload, t("Checking\u2026"), offset / file.size);
        const slice = await file.slice(offset, offset + HASH_SLICE).arrayBuffer();
        hasher.update(new Uint8Array(slice));
      }
    } catch {
      this.#finish(upload, false, t("the file could not be read"));
      return null;
    }
    return hasher.digest();
  }

  #offer(upload, digest) {
    const id = this.nextId;
    this.nextId += 1n;
    const offer = { type: "FileOffer", upload_id: id, size: BigInt(upload.file.size),
      sha256: digest, recipient: upload.recipient,
      name: sanitizeFilename(upload.file.name) };
    let sent;
    try {
      sent = this.session.send(offer);
    } catch (error) {
      this.#finish(upload, false, clean(error.message, true));
      return;
    }
    if (!sent) {
      this.#finish(upload, false, t("Not connected: nothing was sent."));
      return;
    }
    upload.id = id;
    this.open.set(id.toString(), upload);
    this.#show(upload, t("Sending\u2026"), 0);
  }

  /** PUT the bytes from ``offset`` on. The server answers 204 with the bytes it
   * has (Upload-Offset): fewer than the size, the rest follows; a broken request
   * is tried again, and a 409 says where to go on from (docs/protocol.md 1.1). */
  #put(upload, offset = 0) {
    const xhr = new XMLHttpRequest();
    const size = upload.file.size;
    upload.xhr = xhr;
    xhr.open("PUT", `/files/upload/${upload.id}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    if (offset) xhr.setRequestHeader("Upload-Offset", String(offset));
    if (upload.token) xhr.setRequestHeader("Upload-Token", upload.token);
    xhr.upload.addEventListener("progress", (event) => {
      if (size) this.#show(upload, t("Sending\u2026"), (offset + event.loaded) / size);
    });
    const taken = () => {
      const header = xhr.getResponseHeader("Upload-Offset");
      return header !== null && /^\d+$/.test(header) ? Number(header) : null;
    };
    xhr.addEventListener("load", () => {
      upload.xhr = null;
      const have = taken();
      if (xhr.status === 204 && (have === null || have >= size)) {
        this.#show(upload, t("Checking\u2026"), null); // the verdict comes over the WebSocket
      } else if ((xhr.status === 204 || xhr.status === 409) && have !== null && have < size
                 && this.#retry(upload)) {
        this.#put(upload, have);
      } else {
        this.#finish(upload, false, t("the upload was refused (HTTP {status})",
          { status: xhr.status }));
      }
    });
    xhr.addEventListener("error", () => {
      upload.xhr = null;
      // Broken on the way: ask again from where we were; a 409 corrects the offset.
      if (this.#retry(upload)) this.#put(upload, offset);
      else this.#finish(upload, false, t("the upload was interrupted"));
    });
    xhr.addEventListener("abort", () => {
      upload.xhr = null;
      this.#finish(upload, false, t("the upload was interrupted"));
    });
    xhr.send(offset ? upload.file.slice(offset) : upload.file);
  }

  /** Whether ``upload`` may be sent once more (a few times, while connected). */
  #retry(upload) {
    upload.tries = (upload.tries || 0) + 1;
    return upload.tries <= 3 && this.open.has(upload.id.toString()) && this.session.connected;
  }

  /** ``event`` if it is about our uploads: handled, true. A FileAvailable is
   * also a history entry: false, so the caller shows it. */
  handle(event) {
    switch (event.type) {
      case "FileAccepted": {
        const upload = this.open.get(event.upload_id.toString());
        if (upload) {
          const conn = this.session.conn;
          conn?.uploadOverHttp(event.upload_id);
          // Version 5: the bytes wait for the ticket right behind this.
          if (!conn?.speaksUploadTickets) this.#put(upload);
        }
        return true;
      }
      case "UploadTicket": {
        const upload = this.open.get(event.upload_id.toString());
        if (upload && !upload.token) {
          upload.token = toHex(event.token);
          this.#put(upload);
        }
        return true;
      }
      case "FileRejected": {
        const upload = this.open.get(event.upload_id.toString());
        if (upload) this.#finish(upload, false, fileRefused(event.reason, event.message));
        return true;
      }
      case "FileAvailable": {
        const upload = event.upload_id ? this.open.get(event.upload_id.toString()) : null;
        if (upload && event.sender === this.session.username) this.#finish(upload, true, "");
        return false;
      }
      case "FileChunk":
      case "FileEnd":
      case "FetchRejected":
        return true; // the page fetches over HTTP, never with FetchFile
      default:
        return false;
    }
  }

  /** Logging out: nothing queued goes any more. */
  cancel() {
    for (const upload of this.queue.splice(0)) {
      this.#finish(upload, false, t("Not connected: nothing was sent."));
    }
    this.lost();
  }

  /** The connection is gone: its uploads are void (the server dropped them). */
  lost() {
    for (const upload of [...this.open.values()]) {
      if (upload.xhr) upload.xhr.abort();
      else this.#finish(upload, false, t("the upload was interrupted"));
    }
    this.open.clear();
  }

  // -- announced files ------------------------------------------------------------

  /** Fill file line ``line`` for FileAvailable ``file``: its .text says "sent the file
   * NAME (SIZE)" (text only), the download link follows it, and an allow-listed
   * picture after that once its bytes are checked. */
  describe(line, file) {
    const name = clean(file.name, true);
    line.querySelector(".text").textContent = t("sent the file {name} ({size})",
      { name, size: sizeText(file.size) });
    const link = document.createElement("a");
    link.className = "download";
    link.href = `/files/${file.file_id}`;
    link.download = sanitizeFilename(file.name);
    link.textContent = t("Download");
    link.title = name;
    line.append(link);
    if (file.size > 0n && file.size <= BigInt(INLINE_MAX_BYTES)) {
      this.inlineQueue.push({ line, file });
      this.#nextInline();
    }
  }

  #nextInline() {
    while (this.inlineRunning < INLINE_AT_ONCE && this.inlineQueue.length) {
      const job = this.inlineQueue.shift();
      // The server answers only a browser with a logged-in connection (403 else).
      if (!job.line.isConnected || !this.session.connected) continue;
      this.inlineRunning += 1;
      this.#inline(job).catch(() => {
        // Not shown inline; the link is still there.
      }).finally(() => {
        this.inlineRunning -= 1;
        this.#nextInline();
      });
    }
  }

  async #inline({ line, file }) {
    const url = `/files/${file.file_id}`;
    const options = { credentials: "same-origin", cache: "no-store" };
    const head = await fetch(url, { ...options, headers: { Range: "bytes=0-15" } });
    if (head.status !== 206 && head.status !== 200) return;
    let bytes = new Uint8Array(await head.arrayBuffer());
    const type = imageType(bytes);
    if (!type || !line.isConnected) return;
    if (head.status === 206) {
      const whole = await fetch(url, options);
      if (whole.status !== 200) return;
      bytes = new Uint8Array(await whole.arrayBuffer());
    }
    if (BigInt(bytes.length) !== file.size || imageType(bytes) !== type
        || !equalBytes(new Sha256().update(bytes).digest(), file.sha256)) {
      this.lines.notice(this.conversations.current,
        t("{name} is not shown: its bytes do not match the server's checksum",
          { name: clean(file.name, true) }));
      return;
    }
    if (!line.isConnected) return;
    const img = document.createElement("img");
    img.className = "inline";
    img.alt = clean(file.name, true);
    img.decoding = "async";
    img.addEventListener("error", () => {
      URL.revokeObjectURL(img.src);
      img.remove();
    });
    img.src = URL.createObjectURL(new Blob([bytes], { type }));
    const frame = document.createElement("div");
    frame.className = "picture";
    frame.append(img);
    line.append(frame);
  }
}
