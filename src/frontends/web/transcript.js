// The lines of a transcript: one element per entry, the peer's text in text
// nodes only (text.js), and the attributes the browser tests select
// (data-kind, data-seq, data-sender, data-own, data-room; contract.md).
"use strict";

import { clean, clock, linksOf } from "./text.js";

/** Lines kept per conversation: the oldest go, so a long day stays light. */
export const MAX_LINES = 3000;
const NEAR_BOTTOM_PX = 48;

/** The scroll container of every pane (``#transcript``). */
let scroller = null;

export function setScroller(element) {
  scroller = element;
}

function nearBottom() {
  if (!scroller) return true;
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
}

export function scrollToEnd() {
  if (scroller) scroller.scrollTop = scroller.scrollHeight;
}

/** What a removed line leaves behind (its inline image's blob: URL). */
function release(line) {
  for (const img of line.querySelectorAll("img.inline")) {
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  }
}

export function clearPane(pane) {
  for (const line of pane.querySelectorAll(".line")) release(line);
  pane.replaceChildren();
}

/**
 * Append a line to ``pane`` and return it. ``entry``: ``kind`` (chat | direct |
 * presence | file | member | notice), ``seq`` (BigInt or null), ``sender``,
 * ``own``, ``room`` (for room lines, "general" for general), ``peer`` (the other
 * user of a direct line), ``timestampMs``, ``who`` (the sender as shown),
 * ``text`` (set as the .text's textContent, exactly as given: the caller cleans
 * names it builds sentences from), ``links`` (offer the web addresses of the text
 * as links beside it), ``tone`` (a class: mention, deactivated, warning, good).
 */
export function appendLine(pane, entry) {
  const line = document.createElement("div");
  line.className = "line";
  line.dataset.kind = entry.kind;
  if (entry.seq !== undefined && entry.seq !== null) line.dataset.seq = String(entry.seq);
  if (entry.sender) line.dataset.sender = entry.sender;
  if (entry.own) line.dataset.own = "true";
  if (entry.room) line.dataset.room = entry.room;
  if (entry.peer) line.dataset.peer = entry.peer;
  if (entry.tone) line.classList.add(entry.tone);

  const time = document.createElement("time");
  time.className = "time";
  const when = entry.timestampMs === undefined ? new Date() : new Date(Number(entry.timestampMs));
  time.dateTime = when.toISOString();
  time.title = when.toLocaleString();
  time.textContent = clock(entry.timestampMs);
  line.append(time);

  if (entry.who !== undefined) {
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = clean(entry.who, true);
    line.append(who);
  }
  // The peer's text, whole and only as text: never parsed, never split into
  // elements. Bidi controls in it are contained by the CSS (unicode-bidi: isolate).
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = entry.text;
  line.append(text);
  if (entry.links) {
    const links = linksOf(entry.text);
    if (links) line.append(links);
  }

  const follow = pane.hidden ? false : nearBottom();
  pane.append(line);
  while (pane.childElementCount > MAX_LINES) {
    release(pane.firstElementChild);
    pane.firstElementChild.remove();
  }
  if (follow) scrollToEnd();
  return line;
}
