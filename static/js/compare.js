// Videos compared side by side play in step: one play/pause, one seek bar and one clock
// drive them all. A video that stalls holds the others until it can play again; one
// that drifts is put back in step. On a phone the videos are swiped (CSS scroll-snap)
// and the dots say which one is on screen, the one heard when sound is on. Without this
// script each video keeps its own controls.
(function () {
  "use strict";
  var DRIFT = 0.25; // seconds a video may wander from the leader before it is put back

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function known(video) { return isFinite(video.duration) ? video.duration : 0; }

  function atEnd(video) { return known(video) > 0 && video.currentTime >= known(video) - 0.05; }

  // The shared state and what it does to every video.
  function Together(root, videos, controls) {
    this.root = root;
    this.videos = videos;
    this.button = controls.querySelector("[data-compare-play]");
    this.seek = controls.querySelector("[data-compare-seek]");
    this.time = controls.querySelector("[data-compare-time]");
    this.playing = false;
    this.seeking = false;
    this.stalled = new Set();
  }

  Together.prototype.longest = function () {
    return this.videos.reduce(function (most, v) { return Math.max(most, known(v)); },
      parseFloat(this.root.dataset.longest) || 0);
  };

  // The video the clock follows: the longest one that has not ended.
  Together.prototype.leader = function () {
    return this.videos.reduce(function (best, v) {
      return !v.ended && (!best || known(v) > known(best)) ? v : best;
    }, null) || this.videos[0];
  };

  Together.prototype.show = function () {
    var now = this.leader().currentTime;
    this.seek.max = this.longest();
    if (!this.seeking) this.seek.value = now;
    this.time.textContent = clock(now) + " / " + clock(this.longest());
    this.button.textContent = this.playing ? "❚❚ Pause all" : "▶ Play all";
    this.button.setAttribute("aria-label", this.playing ? "Pause all" : "Play all");
    this.root.dataset.playing = String(this.playing);
  };

  Together.prototype.play = function () {
    if (this.videos.every(atEnd)) this.seekTo(0);
    this.playing = true;
    this.videos.forEach(function (v) { if (!atEnd(v)) v.play().catch(function () {}); });
    this.show();
  };

  Together.prototype.pause = function () {
    this.playing = false;
    this.videos.forEach(function (v) { v.pause(); });
    this.show();
  };

  Together.prototype.seekTo = function (to) {
    this.videos.forEach(function (v) { v.currentTime = Math.min(to, known(v) || to); });
    this.show();
  };

  // One waits, all wait: the others pause until it has enough to play on.
  Together.prototype.stall = function (video) {
    if (!this.playing) return;
    this.stalled.add(video);
    this.videos.forEach(function (v) { if (v !== video) v.pause(); });
    this.root.dataset.buffering = "true";
  };

  Together.prototype.resume = function (video) {
    if (!this.stalled.delete(video) || this.stalled.size) return;
    this.root.dataset.buffering = "false";
    var at = video.currentTime;
    this.videos.forEach(function (v) {
      if (v !== video && Math.abs(v.currentTime - at) > DRIFT) v.currentTime = Math.min(at, known(v) || at);
    });
    if (this.playing) this.play();
  };

  Together.prototype.keepInStep = function (video) {
    var lead = this.leader();
    if (video === lead) { this.show(); return; }
    if (this.playing && !video.ended && !this.stalled.size && lead.currentTime < known(video) &&
        Math.abs(video.currentTime - lead.currentTime) > DRIFT) {
      video.currentTime = lead.currentTime;
    }
  };

  Together.prototype.ended = function () {
    if (this.videos.every(function (v) { return v.ended || atEnd(v); })) { this.playing = false; this.show(); }
  };

  function listen(together) {
    together.button.addEventListener("click", function () {
      if (together.playing) together.pause(); else together.play();
    });
    together.seek.addEventListener("input", function () {
      together.seeking = true;
      together.seekTo(parseFloat(together.seek.value));
    });
    together.seek.addEventListener("change", function () { together.seeking = false; together.show(); });
    together.videos.forEach(function (video) {
      video.addEventListener("waiting", function () { together.stall(video); });
      video.addEventListener("canplay", function () { together.resume(video); });
      video.addEventListener("playing", function () { together.resume(video); });
      video.addEventListener("timeupdate", function () { together.keepInStep(video); });
      video.addEventListener("ended", function () { together.ended(); });
      video.addEventListener("loadedmetadata", function () { together.show(); });
    });
  }

  // One video is heard at a time: the first, or on a phone the one on screen.
  function setUpSound(root, videos, controls) {
    var sound = controls.querySelector("[data-compare-sound]");
    var of = controls.querySelector("[data-compare-sound-of]");
    function hear() {
      var current = parseInt(root.dataset.current || "0", 10);
      videos.forEach(function (v, i) { v.muted = !(sound && sound.checked && i === current); });
      if (of) of.textContent = String(current + 1);
    }
    if (sound) sound.addEventListener("change", hear);
    root.addEventListener("compare:current", hear);
    hear();
  }

  function setUp(root) {
    var videos = Array.prototype.slice.call(root.querySelectorAll("[data-compare-video]"));
    var controls = root.querySelector("[data-compare-controls]");
    if (!videos.length || !controls) return;
    videos.forEach(function (video) { video.controls = false; });
    controls.hidden = false;
    var together = new Together(root, videos, controls);
    listen(together);
    setUpSound(root, videos, controls);
    together.show();
  }

  // On a phone: which video is on screen, as dots and "2 of 3".
  function setUpSwipe(root) {
    var strip = root.querySelector("[data-compare-strip]");
    var dots = Array.prototype.slice.call(root.querySelectorAll("[data-compare-dot]"));
    var where = root.querySelector("[data-compare-where]");
    if (!strip || !where) return;
    function update() {
      var index = Math.min(dots.length - 1, Math.max(0, Math.round(strip.scrollLeft / (strip.clientWidth || 1))));
      where.textContent = (index + 1) + " of " + dots.length;
      dots.forEach(function (dot, i) {
        dot.classList.toggle("current", i === index);
        if (i === index) dot.setAttribute("aria-current", "true"); else dot.removeAttribute("aria-current");
      });
      if (root.dataset.current !== String(index)) {
        root.dataset.current = String(index);
        root.dispatchEvent(new CustomEvent("compare:current"));
      }
    }
    strip.addEventListener("scroll", update, { passive: true });
    dots.forEach(function (dot, i) {
      dot.addEventListener("click", function (event) {
        event.preventDefault();
        strip.scrollTo({ left: i * strip.clientWidth, behavior: "smooth" });
      });
    });
    update();
  }

  document.querySelectorAll("[data-compare]").forEach(function (root) {
    setUp(root);
    setUpSwipe(root);
  });
})();
