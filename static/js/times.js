// Times in the person's own time zone, and clocks that tick. The server writes every
// <time data-local datetime="..."> in UTC (the text without JavaScript); this rewrites it
// with toLocaleString, keeping the UTC text as its tooltip. An element with
// data-elapsed-base="<seconds>" counts up from that many seconds, by this browser's own
// clock since it first saw the element, so a clock set wrong does not matter; one with
// data-ago-base says the same as "just now" or "3 min ago".
(() => {
  "use strict";

  const FORMATS = {
    time: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
    date: { year: "numeric", month: "short", day: "numeric" },
    datetime: {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "short",
    },
  };

  function localize() {
    for (const element of document.querySelectorAll("time[data-local]:not([data-localized])")) {
      const moment = new Date(element.getAttribute("datetime"));
      if (Number.isNaN(moment.getTime())) continue;
      const format = FORMATS[element.dataset.local] || FORMATS.datetime;
      if (!element.title) element.title = element.textContent.trim();
      element.textContent = moment.toLocaleString(undefined, format);
      element.setAttribute("data-localized", "");
    }
  }

  // Seconds as the server's `span` filter says them: "9 s", "1 min 40 s", "2 h 5 min", "3 d 4 h".
  function span(total) {
    const whole = Math.max(0, Math.round(total));
    if (whole < 60) return `${whole} s`;
    const minutes = Math.floor(whole / 60);
    const seconds = whole % 60;
    if (minutes < 60) return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    if (hours < 24) return rest ? `${hours} h ${rest} min` : `${hours} h`;
    const days = Math.floor(hours / 24);
    return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
  }

  // Each element marked with `attribute` counts up from its base in seconds, by this
  // browser's clock since it first saw the element; `say` words the count.
  function count(attribute, say) {
    const now = performance.now();
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      if (!element.dataset.seenAt) element.dataset.seenAt = String(now);
      const base = Number(element.getAttribute(attribute));
      if (Number.isNaN(base)) continue;
      element.textContent = say(base + (now - Number(element.dataset.seenAt)) / 1000);
    }
  }

  const tick = () => count("data-elapsed-base", span);
  // "just now" under a minute, then "3 min ago".
  const ago = () =>
    count("data-ago-base", (seconds) =>
      seconds < 60 ? "just now" : `${span(Math.floor(seconds / 60) * 60)} ago`,
    );

  function refresh() {
    ago();
    localize();
    tick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    document.body.addEventListener("htmx:afterSettle", refresh);
    document.body.addEventListener("htmx:oobAfterSwap", refresh);
    window.setInterval(refresh, 1000);
  });
})();
