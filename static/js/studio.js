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
