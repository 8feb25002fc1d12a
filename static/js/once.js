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
