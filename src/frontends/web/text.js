// Peer text shown only as text.
//
// Peers choose every character of their messages, names and file names. The page
// never parses any of it as HTML: it goes into text nodes (textContent) only, and
// a message's text is shown exactly as sent (the contract: the .text element holds
// it unchanged). Names and file names are one line each: there, control, format
// and separator characters (bidi overrides that reorder a name, zero-width
// characters that hide part of it) are shown as the visible escapes the GUI and
// the terminal clients print (src/frontends/text.py, gui/safetext.py: \e,
// \u202e, \x07). In message text the CSS isolates the bidi of each message
// (unicode-bidi: isolate), so an override cannot reach past it.
"use strict";

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;
const NAMED = { "\t": "\\t", "\r": "\\r", "\n": "\\n", "\x1b": "\\e" };
// Joiners shape emoji and some scripts; they cannot reorder or hide text.
const ALLOWED = new Set(["\u200c", "\u200d"]);
const MAX_DISPLAY_CHARS = 20000;

function hex(code, width) {
  return code.toString(16).padStart(width, "0");
}

function escapeChar(ch) {
  if (Object.prototype.hasOwnProperty.call(NAMED, ch)) return NAMED[ch];
  const code = ch.codePointAt(0);
  if (code < 0x100) return "\\x" + hex(code, 2);
  if (code < 0x10000) return "\\u" + hex(code, 4);
  return "\\U" + hex(code, 8);
}

function cleanLine(line) {
  if (!UNSAFE.test(line) && !/[\uD800-\uDFFF]/.test(line)) return line;
  let shown = "";
  for (const ch of line) {
    const code = ch.codePointAt(0);
    const lone = code >= 0xd800 && code <= 0xdfff;
    shown += ALLOWED.has(ch) || !(lone || UNSAFE.test(ch)) ? ch : escapeChar(ch);
  }
  return shown;
}

/** ``text`` with every unsafe character replaced by a visible escape; line breaks
 * kept unless ``singleLine`` (names, file names), where they show as ``\n``. */
export function clean(text, singleLine = false) {
  let value = String(text ?? "");
  if (value.length > MAX_DISPLAY_CHARS) value = value.slice(0, MAX_DISPLAY_CHARS);
  value = value.replace(/\r\n/g, "\n");
  if (singleLine) return cleanLine(value);
  return value.split("\n").map(cleanLine).join("\n");
}

// A link candidate: http(s):// and what follows up to a space or a quote.
const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"'`\u3000]+/giu;
const TRAILING = /[.,;:!?\u3001\u3002\uff0c\uff0e]+$/u;

/** The safe ``http:``/``https:`` address ``candidate`` is, or null. */
export function safeHref(candidate) {
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password) return null; // "https://bank@evil" deceives
  return url.href;
}

function trimLink(candidate) {
  let link = candidate.replace(TRAILING, "");
  // A closing bracket belongs to the link only if the link opened one.
  for (const [open, close] of [["(", ")"], ["[", "]"]]) {
    while (link.endsWith(close) && link.split(open).length < link.split(close).length) {
      link = link.slice(0, -1).replace(TRAILING, "");
    }
  }
  return link;
}

/** Split cleaned text into ``{text}`` and ``{text, href}`` parts. */
export function linkParts(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const link = trimLink(match[0]);
    const href = safeHref(link);
    if (!href) continue;
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: link, href });
    last = match.index + link.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** The web addresses in ``text`` as links, in an element to put beside the text
 * (null when there is none). Each ``<a>`` is built here, its href checked with
 * ``new URL`` (http: and https: only), its text the address as written. */
export function linksOf(text) {
  const found = linkParts(text).filter((part) => part.href);
  if (!found.length) return null;
  const links = document.createElement("span");
  links.className = "links";
  for (const part of found.slice(0, 10)) {
    const a = document.createElement("a");
    a.href = part.href;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.textContent = clean(part.text, true);
    links.append(a);
  }
  return links;
}

/** Whether ``text`` mentions ``skeleton`` (the user's name folded as the server
 * folds names): ``@name`` not glued to a word before it, as gui/mentions.py. */
export function mentions(text, skeletonOfMe, skeletonOf) {
  if (!skeletonOfMe || !/[@\uff20]/u.test(text)) return false;
  const inName = /[\p{L}\p{Nd}\p{M}_-]/u;
  const chars = Array.from(text);
  for (let start = 0; start < chars.length; start += 1) {
    if (chars[start] !== "@" && chars[start] !== "\uff20") continue;
    if (start > 0 && inName.test(chars[start - 1])) continue;
    let stop = start + 1;
    while (stop < chars.length && inName.test(chars[stop])) stop += 1;
    if (stop > start + 1) {
      let folded;
      try {
        folded = skeletonOf(chars.slice(start + 1, stop).join(""));
      } catch {
        folded = null;
      }
      if (folded === skeletonOfMe) return true;
    }
  }
  return false;
}

/** ``HH:MM`` of a server timestamp (ms since the epoch, a BigInt or a Number). */
export function clock(timestampMs) {
  const date = timestampMs === undefined ? new Date() : new Date(Number(timestampMs));
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
