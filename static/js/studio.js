// What the pages ask for with data- attributes, so that no page needs an inline script
// or handler: the Content-Security-Policy runs only the studio's own script files.

// A link to copy (a shared link, an invite) selects its whole text when clicked.
document.addEventListener("click", (event) => {
  const field = event.target instanceof Element && event.target.closest("input[data-select-on-click]");
  if (field) field.select();
});

// The provider's link plays while the studio copies the video. A link the browser cannot
// play lets go of its id and hx-preserve, so the next poll replaces the player with the
// studio's own copy.
function letGo(video) {
  video.removeAttribute("hx-preserve");
  video.removeAttribute("id");
}

document.addEventListener(
  "error",
  (event) => {
    const video = event.target;
    if (video instanceof HTMLVideoElement && video.hasAttribute("data-let-go-on-error")) {
      letGo(video);
    }
  },
  true, // a media error does not bubble: catch it on its way down
);

// One that failed before this script ran.
for (const video of document.querySelectorAll("video[data-let-go-on-error]")) {
  if (video.error) letGo(video);
}

// A history card with a mouse over it plays its video, muted and looped; the video loads
// only then. A click still opens the player with sound and controls (htmx), and a touch
// screen, which has no hover, keeps tap-to-play.
const canHover = window.matchMedia("(hover: hover) and (pointer: fine)");

function startPreview(thumb) {
  let video = thumb.querySelector("video.preview");
  if (!video) {
    video = document.createElement("video");
    video.className = "preview";
    video.muted = true;
    video.loop = true;
    video.playsInline = true;
    video.preload = "auto";
    video.setAttribute("aria-hidden", "true");
    video.src = thumb.dataset.hoverVideo;
    thumb.prepend(video);
  }
  thumb.classList.add("previewing");
  video.play().catch(() => thumb.classList.remove("previewing"));
}

function stopPreview(thumb) {
  const video = thumb.querySelector("video.preview");
  if (video) video.pause();
  thumb.classList.remove("previewing");
}

function hoveredThumb(event) {
  if (!canHover.matches || !(event.target instanceof Element)) return null;
  const thumb = event.target.closest("[data-hover-video]");
  // Moving between the cover and the play button inside one card is not a new hover.
  if (!thumb || (event.relatedTarget instanceof Node && thumb.contains(event.relatedTarget))) {
    return null;
  }
  return thumb;
}

document.addEventListener("mouseover", (event) => {
  const thumb = hoveredThumb(event);
  if (thumb) startPreview(thumb);
});

document.addEventListener("mouseout", (event) => {
  const thumb = hoveredThumb(event);
  if (thumb) stopPreview(thumb);
});

// Sections a phone folds so that what matters comes first (the history's filters, when
// none applies); open everywhere else, and without this script.
if (window.matchMedia("(max-width: 800px)").matches) {
  for (const details of document.querySelectorAll("details[data-fold-narrow]")) {
    details.open = false;
  }
}

// A Copy button beside a link to send (a shared link): copies it and says so for a moment.
// Without the Clipboard API (an insecure origin, an older browser) the text is selected
// and copied the old way.
function copyOldWay(field) {
  field.select();
  return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
}

function copyText(field) {
  if (!navigator.clipboard || !window.isSecureContext) return copyOldWay(field);
  return navigator.clipboard.writeText(field.value).catch(() => copyOldWay(field));
}

function showCopied(button, text) {
  button.textContent = text;
  clearTimeout(button.copiedTimer);
  button.copiedTimer = setTimeout(() => { button.textContent = "Copy"; }, 2000);
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  copyText(field).then(
    () => showCopied(button, "Copied"),
    () => { field.select(); showCopied(button, "Press Ctrl+C"); },
  );
});

// Copy buttons work only with this script: show them once it runs, and in every section
// htmx swaps in later.
function showCopyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy][hidden]")) button.hidden = false;
}
showCopyButtons(document);
document.addEventListener("htmx:afterSettle", () => showCopyButtons(document));
