// Telling a person in another tab that a video is done (or failed): the tab's title and
// icon change, and the browser shows a notification where they allowed it. Permission is
// asked for once, on the first submit of a form marked data-ask-notify, never on load.
(() => {
  "use strict";

  const ASKED = "studio.notify.asked";
  const ENDINGS = { success: "✓ Done", failed: "Failed" };
  const watched = "[data-generation-id][data-state]";
  const seen = new Map(); // generation id -> the state the page last showed
  let plainTitle = null; // the title to restore when the person comes back

  function canNotify() {
    return "Notification" in window;
  }

  function remembered() {
    try {
      return window.localStorage.getItem(ASKED) === "1";
    } catch {
      return false;
    }
  }

  function remember() {
    try {
      window.localStorage.setItem(ASKED, "1");
    } catch {
      // private mode without storage: it may ask again on a later submit
    }
  }

  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-ask-notify")) return;
      if (!canNotify() || Notification.permission !== "default" || remembered()) return;
      remember();
      Notification.requestPermission();
    },
    true,
  );

  function icon() {
    return document.querySelector("link[rel~=icon]");
  }

  function mark(state) {
    if (plainTitle === null) plainTitle = document.title;
    document.title = `${ENDINGS[state]} · ${plainTitle}`;
    const link = icon();
    if (link) {
      if (!link.dataset.plain) link.dataset.plain = link.getAttribute("href");
      const variant = link.dataset[state === "success" ? "done" : "failed"];
      if (variant) link.setAttribute("href", variant);
    }
  }

  function unmark() {
    if (plainTitle !== null) document.title = plainTitle;
    plainTitle = null;
    const link = icon();
    if (link && link.dataset.plain) link.setAttribute("href", link.dataset.plain);
  }

  function notify(state, element) {
    if (!canNotify() || Notification.permission !== "granted") return;
    const what = element.dataset.notifyTitle || document.title;
    const text = state === "success" ? "Your video is ready." : "Your video could not be made.";
    const link = icon();
    try {
      const shown = new Notification(text, {
        body: what,
        tag: `generation-${element.dataset.generationId}`,
        icon: link ? link.href : undefined,
      });
      shown.addEventListener("click", () => window.focus());
    } catch {
      // a browser that allows notifications only from a service worker
    }
  }

  function look() {
    for (const element of document.querySelectorAll(watched)) {
      const id = element.dataset.generationId;
      const state = element.dataset.state;
      const before = seen.get(id);
      seen.set(id, state);
      if (before === undefined || before === state || !(state in ENDINGS)) continue;
      if (before in ENDINGS) continue;
      if (document.hidden) {
        mark(state);
        notify(state, element);
      }
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) unmark();
  });
  document.addEventListener("DOMContentLoaded", () => {
    look();
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-state"],
    });
  });
})();
