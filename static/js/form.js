// The generation form's helpers. Without this script every field still works as a plain
// form: the file inputs take a file, the server counts the prompt and names mistakes.
//
// - a mistake: the summary of what is wrong takes the focus and comes into view;
// - the table of models folds away below the form on a narrow screen;
// - the prompt's length, counted against the chosen model's limit as it is typed;
// - each frame: a preview of the chosen image, a drop zone, paste from the clipboard,
//   and on start and end frames a button that swaps the two;
// - a recent prompt pressed: it fills the prompt in place (without this script, its link
//   opens the form with that prompt).
(() => {
  const NARROW = window.matchMedia("(max-width: 800px)");

  // A mistake: the summary above the form is what to read first.
  function showErrors(root) {
    const box = root.querySelector ? root.querySelector("#errors") : null;
    const summary = root.id === "errors" ? root : box;
    if (!summary) return;
    summary.focus({ preventScroll: true });
    summary.scrollIntoView({ block: "start" });
  }

  // The reference table: open beside the form, folded below it on a phone.
  function foldReference() {
    for (const details of document.querySelectorAll("details[data-fold-narrow]")) {
      details.open = !NARROW.matches;
    }
  }

  // The prompt's count. The server counts what it receives: the text trimmed, each
  // character once, each line break as two (a browser sends it as CR LF).
  function promptLength(text) {
    const trimmed = text.trim();
    return Array.from(trimmed).length + (trimmed.match(/\n/g) || []).length;
  }

  function count(textarea) {
    const counter = document.querySelector(`[data-counter-for="${textarea.id}"]`);
    if (!counter) return;
    const options = document.querySelector("#options[data-prompt-max]");
    const limit = Number(options ? options.dataset.promptMax : textarea.dataset.countMax);
    const length = promptLength(textarea.value);
    const over = length > limit;
    counter.hidden = false;
    counter.classList.toggle("over", over);
    counter.querySelector("[data-count]").textContent =
      `${length.toLocaleString("en")} / ${limit.toLocaleString("en")} characters`;
    const note = counter.querySelector("[data-over-note]");
    const said = over ? `— over the limit by ${(length - limit).toLocaleString("en")}: shorten it.` : "";
    if (note.textContent !== said) note.textContent = said;
  }

  function countAll() {
    for (const textarea of document.querySelectorAll("textarea[data-count-max]")) count(textarea);
  }

  // The frames.
  const fileOf = (slot) => slot.querySelector('input[type="file"]');

  function megabytes(bytes) {
    if (bytes >= 1000 * 1000) return `${(bytes / 1000 / 1000).toFixed(1)} MB`;
    return `${Math.max(1, Math.round(bytes / 1000))} KB`;
  }

  // Drawn on a canvas, read here: the Content-Security-Policy lets no blob: image in.
  const THUMB = 360;

  async function draw(canvas, file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, THUMB / Math.max(bitmap.width, bitmap.height));
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const size = [bitmap.width, bitmap.height];
    bitmap.close();
    return size;
  }

  function preview(slot) {
    const figure = slot.querySelector("[data-preview]");
    const kept = slot.querySelector("[data-kept-slot]");
    const file = fileOf(slot).files[0];
    if (kept) kept.classList.toggle("replaced", Boolean(file && kept.children.length));
    delete figure.dataset.size;
    if (!file) {
      figure.hidden = true;
      return;
    }
    const canvas = figure.querySelector("canvas");
    const caption = figure.querySelector("figcaption");
    const said = `${file.name} · ${megabytes(file.size)}`;
    caption.textContent = said;
    canvas.setAttribute("aria-label", `Chosen: ${file.name}`);
    figure.hidden = false;
    draw(canvas, file).then(
      ([width, height]) => {
        if (fileOf(slot).files[0] !== file) return; // replaced meanwhile
        caption.textContent = `${said} · ${width}×${height}`;
        figure.dataset.size = `${width}x${height}`;
      },
      () => {
        caption.textContent = `${said} · not a picture this browser can read`;
      },
    );
  }

  function put(slot, file) {
    const chosen = new DataTransfer();
    if (file) chosen.items.add(file);
    fileOf(slot).files = chosen.files;
    preview(slot);
  }

  const firstImage = (files) => Array.from(files || []).find((f) => f.type.startsWith("image/"));
  const isEmpty = (slot) =>
    fileOf(slot).files.length === 0 && !slot.querySelector('[data-kept-slot] input[type="hidden"]');

  function dropZone(slot) {
    const zone = slot.querySelector("[data-drop-zone]");
    const carriesFiles = (event) => Array.from(event.dataTransfer.types).includes("Files");
    slot.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      zone.classList.add("dragging");
    });
    slot.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    slot.addEventListener("drop", (event) => {
      zone.classList.remove("dragging");
      const file = firstImage(event.dataTransfer.files);
      if (!file) return;
      event.preventDefault();
      put(slot, file);
    });
  }

  function pasteInto(form, event) {
    const file = firstImage(event.clipboardData && event.clipboardData.files);
    if (!file) return;
    const target = event.target instanceof Element ? event.target : null;
    const typing = target && target.matches("textarea, input:not([type=file])");
    if (typing && event.clipboardData.types.includes("text/plain")) return; // text wins
    const slots = Array.from(form.querySelectorAll("[data-frame-slot]"));
    const focused = target && target.closest("[data-frame-slot]");
    const slot = focused || slots.find(isEmpty) || slots[0];
    if (!slot) return;
    event.preventDefault();
    put(slot, file);
  }

  // Swapping the frames swaps the chosen files and the images kept from before, with
  // the hidden fields that name them.
  function swap(form) {
    const [first, second] = form.querySelectorAll("[data-frame-slot]");
    const files = [fileOf(first).files[0], fileOf(second).files[0]];
    const kept = [first, second].map((slot) => slot.querySelector("[data-kept-slot]"));
    const moved = kept.map((box) => Array.from(box.childNodes));
    kept[0].replaceChildren(...moved[1]);
    kept[1].replaceChildren(...moved[0]);
    for (const slot of [first, second]) {
      const hidden = slot.querySelector('[data-kept-slot] input[type="hidden"]');
      if (hidden) hidden.name = slot.dataset.stagedName;
    }
    put(first, files[1]);
    put(second, files[0]);
  }

  function setUpFrames(form) {
    for (const slot of form.querySelectorAll("[data-frame-slot]")) {
      dropZone(slot);
      fileOf(slot).addEventListener("change", () => preview(slot));
      slot.querySelector(".drop-hint").hidden = false;
      if (fileOf(slot).files.length) preview(slot); // chosen before a reload
    }
    const button = form.querySelector("[data-swap-frames]");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", () => swap(form));
    }
    document.addEventListener("paste", (event) => {
      const inside = event.target === document.body || form.contains(event.target);
      if (inside) pasteInto(form, event);
    });
  }

  // A recent prompt: into the prompt field, counted, ready to edit.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("[data-fill-prompt]") : null;
    const prompt = document.querySelector("textarea[name=prompt]");
    if (!link || !prompt) return;
    event.preventDefault();
    prompt.value = link.dataset.fillPrompt;
    count(prompt);
    prompt.focus();
  });

  document.addEventListener("input", (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.dataset.countMax) {
      count(event.target);
    }
  });
  // A model chosen: the options are swapped in, and with them the model's limit.
  document.addEventListener("htmx:afterSettle", (event) => {
    countAll();
    showErrors(event.target);
  });
  NARROW.addEventListener("change", foldReference);

  foldReference();
  countAll();
  const form = document.querySelector("form[data-frames]");
  if (form) setUpFrames(form);
  showErrors(document);
})();
