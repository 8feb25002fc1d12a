// The settings of an earlier video, read in a side panel beside the form: nothing in the
// form changes until "Copy into the form", which sets the model first (so the options
// that depend on it load), then the prompt and every other option. Without this script
// the button is a link to the form filled from that video ("generate again").
(function () {
  "use strict";
  var panel = document.getElementById("settings-panel");
  if (!panel) return;

  function form() { return document.querySelector("form.generate"); }

  function field(name) {
    var f = form();
    return f ? f.querySelector("[name='" + name + "']:not([type=hidden])") : null;
  }

  function setValue(name, value) {
    var input = field(name);
    if (!input) return false;
    if (input.type === "checkbox") input.checked = value === true || value === "true" || value === "on";
    else if (input.tagName === "SELECT" && value !== null && value !== undefined && !input.querySelector("option[value='" + String(value).replace(/'/g, "") + "']")) return false;
    else input.value = value === null || value === undefined ? "" : String(value);
    return true;
  }

  // The options region is swapped by htmx when the model changes: wait for the new one.
  function whenModelShown(model, then) {
    var options = document.getElementById("options");
    if (options && options.dataset.model === model && !document.querySelector(".options-wrap.htmx-request")) { then(); return; }
    var waited = 0;
    var timer = setInterval(function () {
      var region = document.getElementById("options");
      waited += 50;
      if ((region && region.dataset.model === model && !document.querySelector(".options-wrap.htmx-request")) || waited > 8000) {
        clearInterval(timer);
        then();
      }
    }, 50);
  }

  function copy(settings, done) {
    var model = field("model");
    if (model && settings.model && model.value !== settings.model && setValue("model", settings.model)) {
      model.dispatchEvent(new Event("change", { bubbles: true }));
    }
    whenModelShown(model ? model.value : "", function () {
      var last = null;
      Object.keys(settings).forEach(function (name) {
        if (name === "model") return;
        if (setValue(name, settings[name])) last = field(name);
      });
      var prompt = field("prompt");
      if (prompt) prompt.dispatchEvent(new Event("input", { bubbles: true }));
      var seed = field("seed");
      if (seed && seed.value) { var more = seed.closest("details"); if (more) more.open = true; }
      // One change in the options region: the estimate (and what depends on sound) follows.
      var inOptions = document.querySelector("#options select[name=duration]") || (last && last.closest("#options") ? last : null);
      if (inOptions) inOptions.dispatchEvent(new Event("change", { bubbles: true }));
      done();
    });
  }

  panel.addEventListener("click", function (event) {
    var close = event.target.closest("[data-settings-close]");
    if (close) { panel.replaceChildren(); return; }
    var button = event.target.closest("[data-settings-copy]");
    if (!button) return;
    var view = button.closest("[data-settings]");
    if (!view || !form() || view.dataset.settingsEndpoint !== panel.dataset.endpoint) {
      return; // another kind of video: the link opens its own form, filled from it
    }
    event.preventDefault();
    var note = view.querySelector("[data-settings-note]");
    button.setAttribute("aria-busy", "true");
    copy(JSON.parse(view.dataset.settings), function () {
      button.removeAttribute("aria-busy");
      var said = "Copied into the form. Check it, then press Generate video.";
      if (note) note.textContent = said;
      panel.dataset.copied = "true";
      if (window.matchMedia("(max-width: 800px)").matches) {
        // On a phone the panel covers the form: close it and show the form, filled.
        var opener = document.querySelector("[data-earlier-settings] > p");
        if (opener) { opener.textContent = said; opener.setAttribute("role", "status"); }
        panel.replaceChildren();
        var prompt = field("prompt");
        if (prompt) { prompt.scrollIntoView({ block: "center" }); prompt.focus({ preventScroll: true }); }
      }
    });
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== panel) return;
    delete panel.dataset.copied;
    panel.querySelectorAll("[data-settings-close]").forEach(function (b) { b.hidden = false; });
    var note = panel.querySelector("[data-settings-note]");
    if (note && panel.querySelector("[data-settings-copy]")) {
      note.textContent = "Fills in the prompt and the options; the images in the form stay as they are.";
    }
    var heading = panel.querySelector("h2");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  });
})();
