// The page's frame: on a narrow screen the conversation list and the participants
// are side panels over the transcript, opened by their buttons (one at a time);
// files dropped anywhere on the chat are sent.
"use strict";

const $ = (id) => document.getElementById(id);
const PANELS = [["menu-toggle", "show-sidebar"], ["people-toggle", "show-people"]];

/** Open the panel ``state`` (show-sidebar | show-people), or close both (null);
 * the open one's own button closes it again. */
export function showPanel(state) {
  const body = document.body;
  for (const [id, name] of PANELS) {
    const open = name === state && !body.classList.contains(name);
    body.classList.toggle(name, open);
    $(id).setAttribute("aria-expanded", String(open));
  }
  $("backdrop").hidden = !PANELS.some(([, name]) => body.classList.contains(name));
}

export function wirePanels() {
  for (const [id, state] of PANELS) $(id).addEventListener("click", () => showPanel(state));
  $("backdrop").addEventListener("click", () => showPanel(null));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") showPanel(null);
  });
}

/** ``send(files)`` for files dropped while the chat is shown; the drop zone shows
 * while they are dragged over the page. */
export function wireDrop(send) {
  let depth = 0;
  const zone = $("drop-zone");
  const chatShown = () => !$("chat-view").hidden;
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event) || !chatShown()) return;
    depth += 1;
    zone.hidden = false;
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.hidden = true;
  });
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault(); // or the browser opens the file in place of the chat
    event.dataTransfer.dropEffect = chatShown() ? "copy" : "none";
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    zone.hidden = true;
    if (chatShown()) send(event.dataTransfer.files);
  });
}
