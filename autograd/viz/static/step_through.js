/* The backward pass, one node per frame, over one picture: the frame's node, its op and the edges
   into it are highlighted; the grads of the nodes visited so far are filled in; a reused node's
   sum of shares grows as its uses are visited. The frames' changes come as JSON in the widget. */
window.chainruleStepThrough = window.chainruleStepThrough || function (box) {
  "use strict";
  if (!box || box.getAttribute("data-ready")) return;
  box.setAttribute("data-ready", "1");
  var data = JSON.parse(box.querySelector('[data-cr="data"]').textContent), colours = data.colours;
  var view = box.querySelector('[data-cr="view"]');
  view.innerHTML = box.querySelector('[data-cr="svg"]').textContent;  // the picture replaces the still one
  box.querySelector('[data-cr="controls"]').hidden = false;
  var svg = view.querySelector("svg");
  var caption = box.querySelector('[data-cr="caption"]'), byId = {}, lit = [];
  svg.querySelectorAll("g[id]").forEach(function (g) { byId[g.id] = g; });
  function texts(id) { return byId[id] ? Array.prototype.slice.call(byId[id].querySelectorAll("text")) : []; }
  function green(id) {
    return texts(id).filter(function (t) { return (t.getAttribute("fill") || "").toLowerCase() === colours.share; });
  }
  var grads = [];
  data.visit.forEach(function (e) {  // a node's grad cell: filled in from the frame that visits it
    texts(e[0]).forEach(function (t) {
      if (t.textContent.indexOf("grad") === 0) grads.push({el: t, full: t.textContent, at: e[1]});
    });
  });
  var sums = data.sums.map(function (e) { return {els: green(e[0]), steps: e[1]}; });
  var shares = data.shares.map(function (e) { return {els: green(e[0]), at: e[1]}; });
  function set(el, attr, v) { lit.push([el, attr, el.getAttribute(attr)]); el.setAttribute(attr, v); }
  function light(ids) {  // the current node, its op and the edges into it, as draw(highlight=) marks them
    lit.forEach(function (s) { if (s[2] === null) s[0].removeAttribute(s[1]); else s[0].setAttribute(s[1], s[2]); });
    lit = [];
    ids.forEach(function (id) {
      var g = byId[id];
      if (!g) return;
      if (g.getAttribute("class") === "edge") {
        g.querySelectorAll("path, polygon").forEach(function (s) {
          set(s, "stroke", colours.litEdge);
          set(s, "stroke-width", "2.5");
          if (s.tagName === "polygon") set(s, "fill", colours.litEdge);
        });
      } else {
        g.querySelectorAll("polygon, path, ellipse").forEach(function (s) {
          var f = s.getAttribute("fill");
          if (f && f !== "none") set(s, "fill", colours.lit);
        });
      }
    });
  }
  function show(i) {
    grads.forEach(function (g) { g.el.textContent = i >= g.at ? g.full : "grad\u00a0"; });
    sums.forEach(function (s) {
      var text = "\u00a0";
      s.steps.forEach(function (st) { if (st[0] <= i) text = st[1]; });
      s.els.forEach(function (el) { el.textContent = text; });
    });
    shares.forEach(function (s) { s.els.forEach(function (el) { el.style.visibility = i >= s.at ? "" : "hidden"; }); });
    light(data.lit[i]);
    caption.textContent = data.captions[i];
    view.setAttribute("data-frame", i);
  }
  window.chainrulePlayer(box, {count: data.captions.length, show: show, interval: 800});
};
