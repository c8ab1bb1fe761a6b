/* The training movie: draws frame i (the weights on the edges, the gradient sizes on the neurons,
   the decision boundary, the figures and the curves' cursor); chainrulePlayer does the rest. */
(function () {
  "use strict";
  var root = document.getElementById("movie");
  var data = JSON.parse(document.getElementById("movie-data").textContent);
  var colours = JSON.parse(root.getAttribute("data-colours"));
  var frames = data.frames;
  var edges = root.querySelectorAll('[data-mv="edge"]'), neurons = root.querySelectorAll('[data-mv="neuron"]');
  var canvas = root.querySelector('[data-mv="plane"]'), cursors = root.querySelectorAll('[data-mv="cursor"]');
  var small = null;
  if (canvas) { small = document.createElement("canvas"); small.width = small.height = data.grid; }
  function hex(c) { return [1, 3, 5].map(function (i) { return parseInt(c.substr(i, 2), 16); }); }
  var palette = colours.classes.map(hex);
  function mix(a, b, t) { return a.map(function (v, i) { return Math.round(v + (b[i] - v) * t); }); }
  var WHITE = [247, 247, 247], BLACK = [17, 24, 39];
  function fmt(v, pct) {
    if (v === null || v === undefined) return "\u2014";
    return pct ? (100 * v).toFixed(1) + "%" : v.toFixed(4);
  }
  function drawPlane(f) {
    if (!canvas || !f.plane) return;
    var bytes = atob(f.plane), n = data.grid, ctx = small.getContext("2d"), img = ctx.createImageData(n, n);
    var k = data.classes, low = 1 / k;
    for (var c = 0; c < n * n; c++) {
      var rgb, alpha = 255;
      if (data.multiclass) {
        var cls = bytes.charCodeAt(2 * c), conf = bytes.charCodeAt(2 * c + 1) / 255;
        rgb = palette[cls % palette.length];
        alpha = Math.round(255 * (0.1 + 0.65 * Math.max(0, Math.min(1, (conf - low) / (1 - low)))));
      } else {  // one output: class 0's colour, through white, to class 1's
        var s = bytes.charCodeAt(c) / 255;
        rgb = s < 0.5 ? mix(palette[0], WHITE, s / 0.5) : mix(WHITE, palette[1], (s - 0.5) / 0.5);
        alpha = 190;
      }
      img.data[4 * c] = rgb[0]; img.data[4 * c + 1] = rgb[1]; img.data[4 * c + 2] = rgb[2]; img.data[4 * c + 3] = alpha;
    }
    ctx.putImageData(img, 0, 0);
    var big = canvas.getContext("2d");
    if (canvas.width !== canvas.clientWidth) { canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight; }
    big.imageSmoothingEnabled = true; big.imageSmoothingQuality = "high";
    big.clearRect(0, 0, canvas.width, canvas.height);
    big.drawImage(small, 0, 0, canvas.width, canvas.height);
  }
  function show(i) {
    var f = frames[i];
    root.setAttribute("data-frame", i);
    for (var e = 0; e < edges.length; e++) {
      var w = f.w[e], t = w === null ? 0 : Math.min(1, Math.abs(w) / data.wmax);
      edges[e].style.stroke = w === null ? colours.nan : (w >= 0 ? colours.positive : colours.negative);
      edges[e].style.strokeWidth = (0.2 + 3.8 * t).toFixed(2);
      edges[e].style.strokeOpacity = (0.15 + 0.85 * t).toFixed(2);
    }
    for (var j = 0; j < neurons.length; j++) {
      var g = f.g[j], level = (g === null) ? 1 : (g > 0 ? Math.max(0, 1 + Math.log10(g / data.gmax) / 4) : 0);
      neurons[j].style.fill = "rgb(" + mix([255, 255, 255], BLACK, 0.85 * level).join(",") + ")";
    }
    drawPlane(f);
    cursors.forEach(function (c) {
      var svg = c.ownerSVGElement;
      var x = +svg.getAttribute("data-left") + (+svg.getAttribute("data-width")) * f.epoch / Math.max(1, +svg.getAttribute("data-epochs"));
      c.setAttribute("x1", x); c.setAttribute("x2", x);
    });
    root.querySelector('[data-mv="epoch"]').textContent = f.epoch;
    root.querySelector('[data-mv="loss"]').textContent = fmt(f.loss);
    root.querySelector('[data-mv="accuracy"]').textContent = fmt(f.accuracy, true);
    root.querySelector('[data-mv="test_loss"]').textContent = fmt(f.test_loss);
    root.querySelector('[data-mv="test_accuracy"]').textContent = fmt(f.test_accuracy, true);
  }
  window.chainrulePlayer(root, {count: frames.length, show: show, interval: 150});
})();
