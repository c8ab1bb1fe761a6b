"""A training movie: one self-contained HTML page (no server, no external script or font) that
replays an MLP's training frame by frame.

Each frame shows the network with a layout fixed for the whole movie (inputs, then one column
per layer, neurons as rows; an edge's thickness and colour are its weight, a neuron's colour the
size of its parameters' gradient), the decision boundary over the plane of the two inputs with
the train and test points (for two-input models), and the loss and accuracy curves with a
cursor at the frame's epoch. A slider, play/pause, prev/next and the arrow keys move through it.

`Movie` is a callback for `nn.fit` that records every ``every``-th epoch; `record` trains and
writes the page in one call. The page is drawn from the model's numbers (inline SVG and a
canvas, a few kB of JSON per frame), so no Graphviz run is needed per frame.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
import numbers
import pathlib
import time
from importlib import resources

from autograd.viz import player

from . import plots as _plots
from . import train as _train

__all__ = ["Movie", "record"]

_MAX_WEIGHTS = 20_000  # every weight is one SVG line, redrawn per frame
_MAX_FRAMES = 2_000
_GRAPH_W, _GRAPH_H = 540, 380  # the network's drawing, in SVG units (it scales to its box)
_PLANE = 300  # the decision boundary's canvas, in CSS pixels
_CURVE_W, _CURVE_H = 330, 150
# A weight's sign: hues no class of a movie's dataset uses (a class owns blue, red, green, ...).
SIGN_COLOURS = {"positive": "#e08214", "negative": "#542788", "nan": "#9ca3af"}


@functools.cache
def _asset(name: str) -> str:
    """The text of one of nn's static files (the movie's page template, script and style)."""
    text = resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")
    if name.endswith((".js", ".css")) and "</" in text:
        raise ValueError(f"nn/static/{name} holds '</', which would end the element it is inlined into")
    return text


class Movie:
    """A `fit` callback that records frames of an MLP's training; `save` writes the page.

    The first frame is the model as given (epoch 0), before training; then one frame after
    every ``every``-th epoch (and after the last epoch `fit` reports, when `save` is called).
    ``X``, ``y`` are the training set, ``X_test``, ``y_test`` an optional test set; both are
    drawn on the decision boundary, which is computed on a ``grid`` × ``grid`` lattice (only
    for models with two inputs). ``loss`` is the loss `fit` trains with ("auto" as in `fit`).
    The movie also appends the test set's loss and accuracy to ``history`` after every epoch,
    as `nn.train.track` does, unless an earlier callback already did.
    """

    def __init__(self, model, X, y, X_test=None, y_test=None, *, loss="auto", every: int = 1, grid: int = 32):
        if not (hasattr(model, "layers") and hasattr(model, "to_numpy")):
            raise TypeError(f"a training movie needs an nn.MLP, got {type(model).__name__}")
        for name, value, low in (("every", every, 1), ("grid", grid, 4)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if grid > 200:
            raise ValueError(f"grid must be at most 200 (cells per side), got {grid}")
        weights = sum(layer.nin * layer.nout for layer in model.layers)
        if weights > _MAX_WEIGHTS:
            raise ValueError(f"the movie draws every weight and this model has {weights}; at most {_MAX_WEIGHTS}")
        self.model, self.every, self.grid = model, int(every), int(grid)
        self.X, self.y = [list(p) for p in X], list(y)
        self.X_test = [list(p) for p in X_test] if X_test is not None else []
        self.y_test = list(y_test) if y_test is not None else []
        self.loss = _train.loss_name(model, loss)
        if self.loss is None:
            raise ValueError("a training movie needs a named loss (it reads the outputs as that loss does)")
        self._loss_arg = loss
        self.multiclass = model.layers[-1].nout > 1
        self.plane = _plane_bounds(self.X + self.X_test) if model.nin == 2 else None
        self.frames = []
        self.history = None
        self.seconds = 0.0  # time spent recording frames (not training)
        self._start = self._evaluate()
        self._capture(0, self._start)

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<Movie: {len(self)} frames of {self.model!r}>"

    def __call__(self, model, history) -> None:
        """Called by `fit` after each epoch: records the test figures, and a frame every ``every`` epochs."""
        if model is not self.model:
            raise ValueError("this Movie records the model it was made with, not another")
        epoch = len(history["loss"])
        self.history = history
        if self.X_test and len(history.get("test_loss", ())) < epoch:
            scores = _train.evaluate(model, self.X_test, self.y_test, self._loss_arg)
            history.setdefault("test_loss", []).append(scores["loss"])
            history.setdefault("test_accuracy", []).append(scores["accuracy"])
        if epoch % self.every == 0:
            self._capture(epoch, self._figures(epoch))
        if len(self.frames) > _MAX_FRAMES:
            raise ValueError(f"the movie has more than {_MAX_FRAMES} frames: record every k-th epoch with every=k")

    # ---- recording ---------------------------------------------------------------------------
    def _evaluate(self) -> dict:
        """Loss and accuracy on the train and test sets at the model's current weights."""
        train = _train.evaluate(self.model, self.X, self.y, self._loss_arg)
        test = _train.evaluate(self.model, self.X_test, self.y_test, self._loss_arg) if self.X_test else {}
        return {
            "loss": train["loss"],
            "accuracy": train["accuracy"],
            "test_loss": test.get("loss"),
            "test_accuracy": test.get("accuracy"),
        }

    def _figures(self, epoch: int) -> dict:
        """The epoch's figures as `fit` reported them (the test ones as recorded after it)."""
        figures = {}
        for key in ("loss", "accuracy", "test_loss", "test_accuracy"):
            values = self.history.get(key, ())
            figures[key] = values[epoch - 1] if len(values) >= epoch else None
        return figures

    def _capture(self, epoch: int, figures: dict) -> None:
        start = time.perf_counter()
        weights, biases, grads = [], [], []
        for layer in self.model.layers:
            for neuron in layer.neurons:
                weights += [w.data for w in neuron.w]
                biases.append(neuron.b.data)
                grads.append(math.sqrt(sum(p.grad * p.grad for p in (*neuron.w, neuron.b))))
        frame = {
            "epoch": epoch,
            "w": _rounded(weights),
            "b": _rounded(biases),
            "g": _rounded(grads),
            **{k: _finite_or_none(v) for k, v in figures.items()},
        }
        if self.plane is not None:
            frame["plane"] = self._plane_image()
        self.frames.append(frame)
        self.seconds += time.perf_counter() - start

    def _plane_image(self) -> str:
        """The readout at each cell centre, rows from the top, as base64 bytes: one byte per cell
        (the shade) for one output, two (class, confidence) for several."""
        x0, x1, y0, y1 = self.plane
        n = self.grid
        gx = [x0 + (x1 - x0) * (i + 0.5) / n for i in range(n)]
        gy = [y0 + (y1 - y0) * (j + 0.5) / n for j in range(n)]
        classes, shades = _plots.grid_readout(self.model, gx, gy, self.loss)
        out = bytearray()
        for j in reversed(range(n)):  # the canvas's first row is the top of the plane
            for i in range(n):
                shade = shades[j][i]
                level = 128 if shade != shade else round(255 * min(max(shade, 0.0), 1.0))
                out += bytes((classes[j][i], level)) if self.multiclass else bytes((level,))
        return base64.b64encode(bytes(out)).decode("ascii")

    # ---- the page ----------------------------------------------------------------------------
    def _final(self) -> None:
        """Add the last epoch's frame if `fit` ended between two recorded ones."""
        if self.history is not None:
            epoch = len(self.history["loss"])
            if self.frames[-1]["epoch"] != epoch:
                self._capture(epoch, self._figures(epoch))

    def data(self) -> dict:
        """Everything the page draws, as plain JSON-able data (the layout, curves and frames)."""
        self._final()
        sizes = [self.model.nin, *self.model.nouts]
        history = self.history or {"loss": []}
        curves = {
            key: [self._start[key], *history.get(key, [])] for key in ("loss", "accuracy", "test_loss", "test_accuracy")
        }
        weights = [abs(w) for f in self.frames for w in f["w"] if w is not None]
        grads = [g for f in self.frames for g in f["g"] if g is not None and g > 0]
        return {
            "sizes": sizes,
            "activations": [layer.activation for layer in self.model.layers],
            "loss_name": self.loss,
            "shade_meaning": _train.SHADE_MEANING.get(self.loss, ""),
            "multiclass": self.multiclass,
            "classes": max([int(t) for t in self.y + self.y_test] + [1]) + 1,
            "wmax": max(weights + [1e-12]),
            "gmax": max(grads + [1e-12]),
            "grid": self.grid,
            "plane": self.plane,
            "points": {"train": _points(self.X, self.y), "test": _points(self.X_test, self.y_test)},
            "curves": {k: [_finite_or_none(v) for v in vals] for k, vals in curves.items()},
            "frames": self.frames,
        }

    def html(self, title: str | None = None) -> str:
        """The whole page, as text: the frame player and the movie's script and style inlined."""
        data = self.data()
        title = title or f"chainrule: training {self.model!r}"
        layout = _layout(data["sizes"])
        colours = {"classes": list(_plots.CLASS_COLOURS), **SIGN_COLOURS}
        return player.fill(
            _asset("movie.html"),
            title=html.escape(title),
            graph=_graph_svg(layout, data),
            plane=_plane_html(data),
            curves=_curves_svg(data),
            last=len(self.frames) - 1,
            data=player.json_for_script(data),
            player_style=player.style(),
            style=_asset("movie.css"),
            player_script=player.script(),
            script=_asset("movie.js"),
            colours=html.escape(json.dumps(colours)),
            positive=SIGN_COLOURS["positive"],
            negative=SIGN_COLOURS["negative"],
        )

    def save(self, path, title: str | None = None) -> pathlib.Path:
        """Write the page to ``path`` (UTF-8); returns the path."""
        path = pathlib.Path(path)
        path.write_text(self.html(title), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:  # Jupyter: the page in a sandboxed frame, its ids kept apart
        return f'<iframe srcdoc="{html.escape(self.html())}" style="width:100%;height:760px;border:0"></iframe>'


def record(model, X, y, path, *, X_test=None, y_test=None, every: int = 1, grid: int = 32, title=None, **fit_args):
    """Train ``model`` with `nn.fit` (``fit_args``: loss, optimizer, epochs, ...) while recording a
    movie, write it to ``path``, and return (history, movie)."""
    callbacks = fit_args.pop("callback", None)
    callbacks = [] if callbacks is None else list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
    movie = Movie(model, X, y, X_test, y_test, loss=fit_args.get("loss", "auto"), every=every, grid=grid)
    history = _train.fit(model, X, y, callback=[*callbacks, movie], **fit_args)
    movie.save(path, title)
    return history, movie


# ---- the page's pieces -------------------------------------------------------------------------
def _rounded(values) -> list:
    """4 significant digits: what the page shows, at a third of the JSON size; None for nan/inf."""
    return [float(f"{v:.4g}") if math.isfinite(v) else None for v in values]


def _finite_or_none(value):
    """JSON has no nan or inf: a figure that is not a finite number is shown as a dash."""
    return value if value is not None and math.isfinite(value) else None


def _points(X, y) -> list:
    return [[round(p[0], 4), round(p[1], 4), int(t)] for p, t in zip(X, y)] if X and len(X[0]) == 2 else []


def _plane_bounds(points, margin: float = 0.5):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin]


def _layout(sizes) -> list:
    """(x, y, r) of every node, column by column (inputs first): fixed for the whole movie."""
    pad_x, pad_top, pad_bottom = 40, 18, 40
    columns = []
    for c, n in enumerate(sizes):
        x = pad_x + (_GRAPH_W - 2 * pad_x) * c / (len(sizes) - 1)
        room = _GRAPH_H - pad_top - pad_bottom
        gap = min(26.0, room / max(n - 1, 1))
        middle = pad_top + room / 2
        r = max(1.5, min(8.0, gap * 0.36))
        columns.append([(x, middle + (j - (n - 1) / 2) * gap, r) for j in range(n)])
    return columns


def _graph_svg(layout, data) -> str:
    sizes, acts = data["sizes"], data["activations"]
    lines, nodes, texts = [], [], []
    for l in range(1, len(sizes)):  # edges in the frames' weight order: layer, neuron j, input i
        for j, (x2, y2, _) in enumerate(layout[l]):
            for i, (x1, y1, _) in enumerate(layout[l - 1]):
                lines.append(
                    f'<line data-mv="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}">'
                    f"<title>W{l}[{j},{i}]</title></line>"
                )
    for i, (x, y, r) in enumerate(layout[0]):
        nodes.append(f'<circle data-mv="input" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"><title>x{i}</title></circle>')
        if len(layout[0]) <= 16:
            texts.append(f'<text x="{x - r - 4:.1f}" y="{y + 4:.1f}" text-anchor="end">x{i}</text>')
    for l in range(1, len(sizes)):
        for j, (x, y, r) in enumerate(layout[l]):
            nodes.append(
                f'<circle data-mv="neuron" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}">'
                f"<title>layer {l}, neuron {j}: W{l}[{j},·], b{l}[{j}]</title></circle>"
            )
    for c, column in enumerate(layout):
        name = "inputs" if c == 0 else f"layer {c} · {acts[c - 1]}"
        texts.append(
            f'<text x="{column[0][0]:.1f}" y="{_GRAPH_H - 14}" text-anchor="middle">{html.escape(name)}</text>'
        )
    return (
        f'<svg data-mv="graph" viewBox="0 0 {_GRAPH_W} {_GRAPH_H}" role="img" aria-label="the network">'
        f'<g class="edges">{"".join(lines)}</g><g class="nodes">{"".join(nodes)}</g>'
        f'<g class="labels">{"".join(texts)}</g></svg>'
    )


def _plane_html(data) -> str:
    if data["plane"] is None:
        return '<p class="note">No decision boundary: the model does not have two inputs.</p>'
    x0, x1, y0, y1 = data["plane"]
    size = _PLANE

    def px(x, y):
        return (x - x0) / (x1 - x0) * size, (y1 - y) / (y1 - y0) * size

    marks = []
    for p in data["points"]["train"]:
        x, y = px(p[0], p[1])
        marks.append(f'<circle class="train" fill="{_colour(p[2])}" cx="{x:.1f}" cy="{y:.1f}" r="3.2"/>')
    for p in data["points"]["test"]:
        x, y = px(p[0], p[1])
        marks.append(f'<path class="test" stroke="{_colour(p[2])}" d="M{x:.1f},{y - 4.2:.1f}l3.8,6.6h-7.6z"/>')
    ticks = []
    for v in _ticks(x0, x1):
        x, _ = px(v, y0)
        ticks.append(f'<text x="{x:.1f}" y="{size + 13}" text-anchor="middle">{v:g}</text>')
    for v in _ticks(y0, y1):
        _, y = px(x0, v)
        ticks.append(f'<text x="-4" y="{y + 3:.1f}" text-anchor="end">{v:g}</text>')
    classes = data["classes"]
    legend = "".join(
        f'<span><i class="swatch" style="background:{_plots.CLASS_COLOURS[k % 10]}"></i>class {k}</span>'
        for k in range(classes)
    )
    shade = html.escape(data["shade_meaning"])
    return f"""<div class="plane" style="width:{size}px;height:{size}px">
<canvas data-mv="plane" width="{data["grid"]}" height="{data["grid"]}" style="width:{size}px;height:{size}px"></canvas>
<svg data-mv="points" viewBox="-34 0 {size + 36} {size + 30}" style="left:-34px;width:{size + 36}px;height:{size + 30}px">
{"".join(ticks)}{"".join(marks)}
<text x="{size / 2}" y="{size + 27}" text-anchor="middle">x0 (normalised)</text>
<text transform="translate(-26,{size / 2}) rotate(-90)" text-anchor="middle">x1 (normalised)</text>
</svg></div>
<div class="legend">{legend}<span><svg width="10" height="10"><circle cx="5" cy="5" r="3.5" class="train" fill="#888"/></svg>train</span>
<span><svg width="10" height="10"><path d="M5,0.5l4,7h-8z" class="test" stroke="#555"/></svg>test</span></div>
<div class="note">shade: {shade}</div>"""


def _colour(k: int) -> str:
    """A class's colour: train points filled with it, test points outlined in it."""
    return _plots.CLASS_COLOURS[k % len(_plots.CLASS_COLOURS)]


def _ticks(low: float, high: float) -> list:
    step = 10 ** math.floor(math.log10(max(high - low, 1e-9) / 2))
    if (high - low) / step > 8:
        step *= 2 if (high - low) / (2 * step) <= 8 else 5
    first = math.ceil(low / step) * step
    return [round(first + k * step, 10) for k in range(int((high - first) / step) + 1)]


def _curves_svg(data) -> str:
    """Two small charts, loss and accuracy per epoch (train solid, test dashed), each with a cursor."""
    curves = data["curves"]
    epochs = len(curves["loss"]) - 1
    charts = []
    for name, keys in (("loss", ("loss", "test_loss")), ("accuracy", ("accuracy", "test_accuracy"))):
        values = [v for k in keys for v in curves[k] if v is not None]
        if not values:
            continue
        top = 1.0 if name == "accuracy" else max(values) * 1.05 or 1.0
        left, right, up, down = 44, 14, 8, 26
        w, h = _CURVE_W - left - right, _CURVE_H - up - down

        def xy(e, v, w=w, h=h, top=top, left=left, up=up):
            return left + w * e / max(epochs, 1), up + h * (1 - v / top)

        paths = []
        for key, cls in zip(keys, ("train", "test")):
            pts = [xy(e, v) for e, v in enumerate(curves[key]) if v is not None]
            if pts:
                paths.append(f'<polyline class="{cls}" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}"/>')
        axis = (
            f'<line class="axis" x1="{left}" y1="{up + h}" x2="{left + w}" y2="{up + h}"/>'
            f'<line class="axis" x1="{left}" y1="{up}" x2="{left}" y2="{up + h}"/>'
            f'<text x="{left - 4}" y="{up + 4}" text-anchor="end">{top:.3g}</text>'
            f'<text x="{left - 4}" y="{up + h}" text-anchor="end">0</text>'
            f'<text x="{left}" y="{up + h + 12}" text-anchor="middle">0</text>'
            f'<text x="{left + w}" y="{up + h + 12}" text-anchor="middle">{epochs}</text>'
            f'<text x="{left + w / 2}" y="{up + h + 22}" text-anchor="middle">epoch</text>'
            f'<text transform="translate(11,{up + h / 2}) rotate(-90)" text-anchor="middle">{name}</text>'
        )
        cursor = f'<line data-mv="cursor" class="cursor" x1="{left}" y1="{up}" x2="{left}" y2="{up + h}"/>'
        charts.append(
            f'<svg data-mv="chart-{name}" data-left="{left}" data-width="{w}" data-epochs="{epochs}" '
            f'viewBox="0 0 {_CURVE_W} {_CURVE_H}">{axis}{"".join(paths)}{cursor}</svg>'
        )
    key = (
        '<div class="legend"><span><svg width="22" height="8"><line class="train" x1="0" y1="4" x2="22" y2="4"/></svg>'
        'train (mean over the epoch\'s batches)</span><span><svg width="22" height="8"><line class="test" x1="0" '
        'y1="4" x2="22" y2="4"/></svg>test (at the epoch\'s end)</span></div>'
    )
    return "".join(charts) + key
