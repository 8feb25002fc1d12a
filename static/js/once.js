// A form marked `data-once` is sent once per press: while it goes, its buttons are off
// and say so, and a second press (a double click) does nothing. The server refuses a
// second submit of the same render anyway; this spares the person the wait to see it.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  shortenLongNames(form);
  // After the browser has read the form, so the pressed button's own value still goes.
  setTimeout(() => {
    for (const button of form.querySelectorAll("button")) {
      button.dataset.label = button.textContent;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      if (button.classList.contains("primary")) button.textContent = "Sending…";
    }
  }, 0);
});

// Back to a page kept by the browser: the form can be used again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-once]")) {
    delete form.dataset.sending;
    for (const button of form.querySelectorAll("button")) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.dataset.label) button.textContent = button.dataset.label;
    }
  }
});

// A file name of hundreds of characters makes the whole upload unreadable to the server
// (each part's headers must fit in 1 KB), and everything typed would be lost: send such
// a file under a shorter name, keeping its extension.
const LONGEST_NAME = 200;

function shortenLongNames(form) {
  for (const input of form.querySelectorAll('input[type="file"]')) {
    const files = Array.from(input.files || []);
    if (!files.some((file) => file.name.length > LONGEST_NAME)) continue;
    const renamed = new DataTransfer();
    for (const file of files) {
      if (file.name.length <= LONGEST_NAME) {
        renamed.items.add(file);
        continue;
      }
      const dot = file.name.lastIndexOf(".");
      const extension = dot > 0 && file.name.length - dot <= 10 ? file.name.slice(dot) : "";
      const name = file.name.slice(0, LONGEST_NAME - extension.length) + extension;
      renamed.items.add(new File([file], name, { type: file.type, lastModified: file.lastModified }));
    }
    input.files = renamed.files;
  }
}
