// The history as a gallery: the selection bar counts the chosen videos, a shift-click
// picks every card between the last one clicked and this one, "Select all on this page"
// and "Clear" act on the page's cards, and each action is offered only when it can work
// (Compare takes two to four). Without this script the boxes and buttons still work as a
// plain form. Everything is delegated from the document, so cards swapped in by htmx
// (the filters, the poll) need nothing more.

let lastPicked = null; // the id of the box last clicked, for shift-click ranges
const picked = new Set(); // the ids ticked, kept across htmx swaps of their cards

function galleryForm() {
  return document.querySelector("form[data-gallery]");
}

function boxes() {
  // Boxes belong to the form by their form="selection" attribute, wherever the card is.
  const form = galleryForm();
  return form ? [...document.querySelectorAll("input[data-pick]")].filter((b) => b.form === form) : [];
}

function chosenCount() {
  return boxes().filter((b) => b.checked).length;
}

function allows(needs, count) {
  const [low, high] = needs.split("-").map(Number);
  return count >= low && count <= (high || Infinity);
}

function remember() {
  for (const b of boxes()) {
    if (b.checked) picked.add(b.value);
    else picked.delete(b.value);
  }
}

function refreshBar() {
  const form = galleryForm();
  if (!form) return;
  const count = chosenCount();
  const max = Number(form.dataset.max || 100);
  form.classList.toggle("selecting", count > 0);
  for (const card of form.querySelectorAll(".card")) {
    const box = card.querySelector("input[data-pick]");
    card.classList.toggle("picked", Boolean(box && box.checked));
  }
  form.querySelector("[data-selection-count]").textContent =
    count ? `${count} selected` : "Tick videos";
  form.querySelector("[data-selection-hint]").hidden = count > 0;
  form.querySelector("[data-select-all]").hidden = false;
  form.querySelector("[data-select-none]").hidden = count === 0;
  for (const button of form.querySelectorAll("button[data-needs]")) {
    button.disabled = !allows(button.dataset.needs, count) || count > max;
  }
}

function pickRange(box) {
  const all = boxes();
  const from = all.findIndex((b) => b.value === lastPicked);
  const to = all.indexOf(box);
  if (from < 0 || to < 0) return;
  const [low, high] = from < to ? [from, to] : [to, from];
  for (const b of all.slice(low, high + 1)) b.checked = box.checked;
}

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const box = target.closest("input[data-pick]");
  if (box) {
    if (event.shiftKey && lastPicked) pickRange(box);
    lastPicked = box.value;
    remember();
    refreshBar();
    return;
  }
  if (target.closest("[data-select-all]")) {
    for (const b of boxes()) b.checked = true;
    remember();
    refreshBar();
  } else if (target.closest("[data-select-none]")) {
    for (const b of boxes()) b.checked = false;
    lastPicked = null;
    remember();
    refreshBar();
  }
});

// A keyboard's Space ticks a box without a click's shift key: still counted.
document.addEventListener("change", (event) => {
  if (event.target instanceof Element && event.target.matches("input[data-pick]")) {
    remember();
    refreshBar();
  }
});

// The poll swaps a card whose state changed, a filter swaps them all: each box comes back
// ticked as it was, in the same task as the swap (so no frame shows it unticked) and once
// more when htmx has settled the new cards' attributes.
function restoreTicks() {
  for (const b of boxes()) b.checked = picked.has(b.value);
  refreshBar();
}
for (const name of ["htmx:oobAfterSwap", "htmx:afterSwap", "htmx:afterSettle"]) {
  document.addEventListener(name, restoreTicks);
}

// Boxes the browser kept ticked (back to this page) count too.
for (const b of boxes()) if (b.checked) picked.add(b.value);
refreshBar();
