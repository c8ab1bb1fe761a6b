/* chainrule's frame player, shared by the backward-pass step-through and the training movie: a
   slider, play/pause, prev/next, the keys (left/right arrow, Home, End; space plays; + and - zoom)
   and, when the widget holds a picture in a [data-cr="view"] box, zoom out / fit / zoom in.
   Every page inlines this file (pages stay self-contained), so it defines itself only once.

   Keys: the player that holds the focus gets them; else the one under the pointer; else, when a
   page holds one player, that one, at once, without a click first. Keys typed into a text field
   elsewhere (a notebook cell) are never taken. */
(function () {
  "use strict";
  if (window.chainrulePlayer) return;
  var players = [], pointed = null;

  function editable(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable === true;
  }

  function addressee(e) {  // [player, how it was chosen: "focus", "pointer" or "page"]
    players = players.filter(function (p) { return p.box.isConnected; });
    for (var i = 0; i < players.length; i++) {
      if (players[i].box.contains(e.target)) return [players[i], "focus"];
    }
    if (editable(e.target)) return [null, ""];
    if (pointed && pointed.box.isConnected) return [pointed, "pointer"];
    return players.length === 1 ? [players[0], "page"] : [null, ""];
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    var found = addressee(e);
    if (found[0]) found[0].key(e, found[1]);
  });

  // box: the widget's element, holding [data-cr="slider"], [data-cr="play"], [data-cr="step"]
  // buttons (data-by="-1" or "1") and, optionally, [data-cr="zoom"] buttons and a [data-cr="view"]
  // box with an SVG picture. options: count (frames), show(i) (draws frame i), interval (ms between
  // frames when playing). Returns {go(i), stop()}.
  window.chainrulePlayer = function (box, options) {
    var count = options.count, current = 0, timer = null;
    var slider = box.querySelector('[data-cr="slider"]'), play = box.querySelector('[data-cr="play"]');
    var zoomer = makeZoomer(box);

    function go(i) {
      current = Math.max(0, Math.min(count - 1, i));
      slider.value = current;
      box.setAttribute("data-frame", current);
      options.show(current);
    }
    function stop() {
      clearInterval(timer);
      timer = null;
      play.textContent = "\u25b6 play";
    }
    function start() {
      if (current >= count - 1) go(0);
      play.textContent = "\u275a\u275a pause";
      timer = setInterval(function () {
        if (current < count - 1) go(current + 1);
        if (current >= count - 1) stop();
      }, options.interval || 500);
    }
    function toggle() { if (timer) stop(); else start(); }

    play.onclick = toggle;
    box.querySelectorAll('[data-cr="step"]').forEach(function (b) {
      b.onclick = function () { stop(); go(current + +b.getAttribute("data-by")); };
    });
    slider.oninput = function () { stop(); go(+slider.value); };
    box.addEventListener("mouseenter", function () { pointed = player; });
    box.addEventListener("mouseleave", function () { if (pointed === player) pointed = null; });

    var player = {
      box: box,
      key: function (e, how) {
        var k = e.key, near = how === "focus" || how === "pointer";
        if (near && zoomer && (k === "+" || k === "=" || k === "-")) {
          e.preventDefault();
          zoomer.by(k === "-" ? 0.8 : 1.25);
          return;
        }
        if (near && k === " " && e.target.tagName !== "BUTTON") {
          e.preventDefault();
          toggle();
          return;
        }
        var to = {ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: count - 1}[k];
        if (to === undefined || e.target === slider) return;  // the slider moves itself (and says so by 'input')
        e.preventDefault();
        stop();
        go(to);
      }
    };
    players.push(player);
    go(0);
    return {go: go, stop: stop};
  };

  // One layout, scaled: fit the width (never below a third of full size: beyond that, scroll), or zoom.
  function makeZoomer(box) {
    var view = box.querySelector('[data-cr="view"]'), buttons = box.querySelectorAll('[data-cr="zoom"]');
    var svg = view && view.querySelector("svg");
    if (!svg || !buttons.length) return null;
    var vb = svg.viewBox && svg.viewBox.baseVal;
    var natural = vb && vb.width ? vb.width * 4 / 3 : svg.getBoundingClientRect().width;
    var fitted = true;
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.style.height = "auto";
    svg.style.display = "block";
    svg.style.maxWidth = "none";
    function zoom(z) { svg.style.width = Math.round(natural * Math.max(0.1, Math.min(4, z))) + "px"; }
    function fit() {
      fitted = true;
      if (view.clientWidth > 0) zoom(Math.max(1 / 3, Math.min(1, (view.clientWidth - 4) / natural)));
    }
    function by(f) { fitted = false; zoom(svg.getBoundingClientRect().width / natural * f); }
    buttons.forEach(function (b) {
      b.onclick = function () { var f = b.getAttribute("data-by"); if (f === "fit") fit(); else by(+f); };
    });
    // refit when the box changes width: a window resized, or a notebook that lays its output out late
    if (window.ResizeObserver) new ResizeObserver(function () { if (fitted) fit(); }).observe(view);
    else window.addEventListener("resize", function () { if (fitted) fit(); });
    fit();
    return {by: by, fit: fit};
  }
})();
