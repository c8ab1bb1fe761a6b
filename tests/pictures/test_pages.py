"""The step-through page, opened in a real browser: Debian's Chromium, headless, driven by Playwright.

No console errors; prev/next, the slider and the arrow keys change the frame; the grad each frame
shows equals the engine's; a wide graph (a 40-term sum) either fits the window or scrolls, with
no node cut off. Playwright drives the system's /usr/bin/chromium (`make test` installs it); it
never downloads a browser of its own.
"""

from __future__ import annotations

import math
import pathlib
import re
import subprocess
import sys

import pytest

import autograd as ag
from autograd import Value, viz

from .browser import Page as BasePage

pytestmark = pytest.mark.browser

COMMAND = pathlib.Path(sys.executable).with_name("chainrule")

# What the page shows, read through the DOM: the frame shown (one picture; the script applies each
# frame's changes to it), and each node's text cells.
_STATE = """() => {
  const view = document.querySelector('[data-cr="view"]');
  const slider = document.querySelector('[data-cr="slider"]');
  const caption = document.querySelector('[data-cr="caption"]').textContent;
  const nodes = [...view.querySelectorAll('g.node')].map(
    g => [...g.querySelectorAll('text')].filter(t => getComputedStyle(t).visibility !== 'hidden')
           .map(t => t.textContent.replace(/\\u00a0/g, ' ').trim()));
  return {shown: [+view.getAttribute('data-frame')], slider: +slider.value, count: +view.getAttribute('data-count'),
          caption, nodes, svgs: view.querySelectorAll('svg').length};
}"""

# Every node of the visible frame: can it be shown whole, by scrolling its frame's box?
_BOUNDS = """() => {
  const frame = document.querySelector('[data-cr="view"]');
  const style = getComputedStyle(frame), box = frame.getBoundingClientRect();
  const scrolls = {x: ['auto', 'scroll'].includes(style.overflowX), y: ['auto', 'scroll'].includes(style.overflowY)};
  const nodes = [...frame.querySelectorAll('g.node')].map((g, index) => {
    const r = g.getBoundingClientRect();
    return {left: r.left - box.left + frame.scrollLeft, top: r.top - box.top + frame.scrollTop,
            width: r.width, height: r.height, index};
  });
  return {nodes, scrolls, clientWidth: frame.clientWidth, clientHeight: frame.clientHeight,
          scrollWidth: frame.scrollWidth, scrollHeight: frame.scrollHeight,
          boxRight: box.right, boxHeight: box.height, viewportWidth: innerWidth, viewportHeight: innerHeight};
}"""


class Page(BasePage):
    """A step-through page: the frame it shows, read through the DOM, and the slider moved as a person would."""

    def state(self) -> dict:
        return self.page.evaluate(_STATE)

    def go(self, k: int) -> dict:
        """Drag the slider to frame k, as a person would (the page listens for 'input')."""
        self.page.evaluate(
            "k => { const s = document.querySelector('[data-cr=\"slider\"]'); s.value = k;"
            " s.dispatchEvent(new Event('input', {bubbles: true})); }",
            k,
        )
        return self.state()


@pytest.fixture
def open_page(browser):
    pages = []

    def open_(path=None, **kwargs):
        pages.append(Page(browser, path, **kwargs))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


def _neuron():
    """tanh(w*x + b) * x: x is used twice, so its grad is a sum of two paths."""
    w, x, b = Value(-0.5, label="w"), Value(2.0, label="x"), Value(0.1, label="b")
    y = (w * x + b).tanh() * x
    y.label = "y"
    return y, {"w": w, "x": x, "b": b}


def _grads_shown(state) -> dict:
    """label -> the grad its node shows (None: blank, not computed yet), for labelled nodes."""
    shown = {}
    for texts in state["nodes"]:
        if not texts or texts[0].startswith(("data", "grad")):
            continue  # an op, or a node without a label
        cells = dict(t.split(" ", 1) if " " in t else (t, "") for t in texts[1:])
        if "grad" in cells:
            shown[texts[0]] = float(cells["grad"]) if cells["grad"].strip() else None
    return shown


def _close(shown: float, engine: float) -> bool:
    """The page prints 4 decimals (or 4 significant digits in scientific notation)."""
    return math.isclose(shown, engine, rel_tol=1e-3, abs_tol=5e-5)


@pytest.fixture(scope="module")
def neuron_page(tmp_path_factory):
    y, leaves = _neuron()
    steps = viz.step_through(y)
    path = steps.save(tmp_path_factory.mktemp("pages") / "neuron.html")
    y.backward()  # the engine's own grads, to hold the page's against
    return path, steps, y, leaves


def test_page_loads_with_no_console_errors_and_shows_the_first_frame(open_page, neuron_page):
    path, steps, _, _ = neuron_page
    page = open_page(path)
    state = page.state()
    assert state["count"] == len(steps) and state["shown"] == [0] and state["slider"] == 0
    assert state["caption"] == steps.captions[0]
    assert page.errors == []


def test_next_prev_slider_and_arrow_keys_change_the_frame(open_page, neuron_page):
    path, steps, _, _ = neuron_page
    page = open_page(path)
    last = len(steps) - 1
    page.page.click('[data-cr="step"][data-by="1"]')
    page.page.click('[data-cr="step"][data-by="1"]')
    assert page.state()["shown"] == [2]
    page.page.click('[data-cr="step"][data-by="-1"]')
    assert page.state()["shown"] == [1]
    assert page.go(last)["shown"] == [last]
    page.page.click('[data-cr="step"][data-by="1"]')  # next on the last frame stays there
    assert page.state()["shown"] == [last]
    page.page.keyboard.press("ArrowLeft")  # the focus is on the widget's button
    assert page.state()["shown"] == [last - 1]
    page.page.keyboard.press("Home")
    assert page.state()["shown"] == [0]
    page.page.keyboard.press("ArrowRight")
    state = page.state()
    assert state["shown"] == [1] and state["slider"] == 1 and state["caption"] == steps.captions[1]
    page.page.keyboard.press("End")
    assert page.state()["shown"] == [last]
    page.page.focus('[data-cr="slider"]')  # on the slider, the browser's own arrow handling moves one frame
    page.page.keyboard.press("ArrowLeft")
    assert page.state()["shown"] == [last - 1]
    assert page.errors == []


def test_play_runs_to_the_last_frame(open_page, neuron_page):
    path, steps, _, _ = neuron_page
    page = open_page(path)
    page.page.click('[data-cr="play"]')
    page.page.wait_for_function(
        f"() => +document.querySelector('[data-cr=\"slider\"]').value === {len(steps) - 1}",
        timeout=800 * len(steps) + 5000,
    )
    assert page.state()["shown"] == [len(steps) - 1]
    assert page.errors == []


def test_each_frame_shows_the_engines_grad_for_the_nodes_visited_so_far(open_page, neuron_page):
    path, steps, y, leaves = neuron_page
    page = open_page(path)
    labelled = {"y": y, **leaves}
    visited_at = {v.label: steps.order.index(v) for v in labelled.values()}
    for k in range(len(steps)):
        shown = _grads_shown(page.go(k))
        assert set(shown) == set(labelled), f"frame {k} shows {sorted(shown)}"
        for label, v in labelled.items():
            if visited_at[label] <= k:
                assert shown[label] is not None and _close(shown[label], v.grad), (k, label, shown[label], v.grad)
            else:
                assert shown[label] is None, f"frame {k}: {label} shows a grad before backward reaches it"
    assert page.errors == []


def _chainrule(*args) -> str:
    done = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_commands_step_through_page_shows_the_grads_it_prints(open_page, tmp_path):
    path = tmp_path / "cli.html"
    printed = _chainrule("graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1", "--step-through", str(path))
    grads = {m[1]: float(m[2]) for m in re.finditer(r"^(\w+)\.grad = (\S+)$", printed, flags=re.M)}
    assert set(grads) == {"w", "x", "b"}
    page = open_page(path)
    shown = _grads_shown(page.go(page.state()["count"] - 1))
    for name, grad in grads.items():
        assert _close(shown[name], grad), (name, shown[name], grad)
    assert page.errors == []


def _wide_chain(tmp):
    """x0 + x1 + ... + x39 from the command line: a chain of 39 additions, very wide left to right."""
    names = [f"x{i}" for i in range(40)]
    path = tmp / "chain.html"
    _chainrule("graph", " + ".join(names), *(f"{n}={i / 10}" for i, n in enumerate(names)), "--step-through", str(path))
    return path


def _wide_sum(tmp):
    """sum(x_i * x_i) for 40 inputs with the fused sum: one node with 40 parents."""
    xs = [Value(i / 10, label=f"x{i}") for i in range(40)]
    total = ag.sum([x * x for x in xs])
    return viz.step_through(total, rankdir="TB", max_nodes=200).save(tmp / "sum.html")


@pytest.mark.parametrize("make", [_wide_chain, _wide_sum], ids=["chain-of-40-additions", "fused-sum-of-40"])
def test_a_wide_graph_fits_or_scrolls_with_no_node_cut_off(open_page, tmp_path, make):
    page = open_page(make(tmp_path))
    last = page.state()["count"] - 1
    for k in (0, last):
        page.go(k)
        b = page.page.evaluate(_BOUNDS)
        assert len(b["nodes"]) >= 80
        assert b["boxRight"] <= b["viewportWidth"], "the frame's box itself sticks out of the window"
        wide, tall = b["scrollWidth"] > b["clientWidth"], b["scrollHeight"] > b["clientHeight"]
        assert (not wide or b["scrolls"]["x"]) and (not tall or b["scrolls"]["y"]), "content beyond the box is hidden"
        assert not wide or b["boxHeight"] <= b["viewportHeight"], (
            "the box is taller than the window: its sideways scrollbar is out of sight"
        )
        for n in b["nodes"]:  # every node lies inside the scrollable area and fits the visible box
            assert n["left"] >= -0.5 and n["top"] >= -0.5, n
            assert n["left"] + n["width"] <= b["scrollWidth"] + 0.5, n
            assert n["top"] + n["height"] <= b["scrollHeight"] + 0.5, n
            assert n["width"] <= b["clientWidth"] and n["height"] <= b["clientHeight"], n
        # scroll to the far corner, as a person would: the farthest node is then wholly in the window
        far = max(b["nodes"], key=lambda n: (n["left"] + n["width"], n["top"] + n["height"]))
        visible = page.page.evaluate(
            """index => {
          const frame = document.querySelector('[data-cr="view"]');
          frame.scrollLeft = frame.scrollWidth; frame.scrollTop = frame.scrollHeight;
          frame.scrollIntoView({block: 'end', inline: 'end'});
          const g = frame.querySelectorAll('g.node')[index];
          const r = g.getBoundingClientRect(), box = frame.getBoundingClientRect();
          return r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
                 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight;
        }""",
            far["index"],
        )
        assert visible, f"frame {k}: the farthest node ({far}) cannot be scrolled into view"
    assert page.errors == []


def test_the_readme_neuron_fits_a_1280_pixel_window_root_included(open_page, tmp_path):
    path = tmp_path / "readme.html"
    _chainrule("graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1", "--step-through", str(path))
    page = open_page(path)
    b = page.page.evaluate(_BOUNDS)
    assert b["scrollWidth"] <= b["clientWidth"] + 1, "fitted to the window, nothing to scroll"
    for n in b["nodes"]:  # every node, the root that frame 1 highlights included, is in sight
        assert n["left"] >= -0.5 and n["left"] + n["width"] <= b["clientWidth"] + 0.5, n
    assert page.state()["svgs"] == 1 and page.errors == []


def test_zoom_buttons_grow_and_shrink_the_one_picture(open_page, neuron_page):
    page = open_page(neuron_page[0])
    width = "() => document.querySelector('[data-cr=\"view\"] svg').getBoundingClientRect().width"
    fitted = page.page.evaluate(width)
    page.page.click('[data-cr="zoom"][data-by="1.25"]')
    bigger = page.page.evaluate(width)
    page.page.click('[data-cr="zoom"][data-by="0.8"]')
    page.page.click('[data-cr="zoom"][data-by="0.8"]')
    smaller = page.page.evaluate(width)
    page.page.click('[data-cr="zoom"][data-by="fit"]')
    assert bigger > fitted > smaller and page.page.evaluate(width) == pytest.approx(fitted, abs=1)
    assert page.errors == []


def test_a_reused_nodes_sum_grows_as_backward_reaches_its_uses(open_page, tmp_path):
    a = Value(2.0, label="a")
    y = 3 * a + 5 * a
    y.label = "y"
    steps = viz.step_through(y)
    page = open_page(steps.save(tmp_path / "reused.html"))
    users = [k for k, u in enumerate(steps.order) if a in u.parents]

    def a_cells(k):
        texts = next(t for t in page.go(k)["nodes"] if t and t[0] == "a")
        return [t for t in texts if t.startswith("=")]

    assert a_cells(0) == []
    assert a_cells(users[0]) == ["= 5.0000 + …"]
    assert a_cells(users[1]) == ["= 3.0000 + 5.0000"]
    assert "'a' now has all 2 shares" in page.state()["caption"]
    assert page.errors == []


def test_a_step_through_at_the_node_limit_loads_and_steps(open_page, tmp_path):
    x = Value(0.5, label="x")
    while len(ag.topological_order(x)) < viz.MAX_NODES:
        x = x.sin()
    steps = viz.step_through(x)
    path = steps.save(tmp_path / "limit.html")
    assert path.stat().st_size < 5_000_000
    page = open_page(path)
    assert page.state()["count"] == viz.MAX_NODES
    page.page.focus('[data-cr="play"]')
    page.page.keyboard.press("End")
    state = page.state()
    assert state["shown"] == [viz.MAX_NODES - 1] and state["caption"] == steps.captions[-1]
    assert _grads_shown(state)["x"] is not None


# ---- the training movie ------------------------------------------------------------------------
# What the movie page shows: its frame, the figures under the controls, each node's box and each
# edge's look, and a pixel of the boundary's canvas.
_MOVIE_STATE = """() => {
  const root = document.getElementById('movie'), text = k => root.querySelector(`[data-mv="${k}"]`).textContent;
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  const canvas = root.querySelector('[data-mv="plane"]');
  let pixels = null;
  if (canvas) {
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    pixels = [0, 0.25, 0.5, 0.75].map(f => Array.from(d.slice(4 * Math.floor(f * d.length / 4), 4 * Math.floor(f * d.length / 4) + 4)));
  }
  return {frame: +root.getAttribute('data-frame'), slider: +root.querySelector('[data-cr="slider"]').value,
          epoch: +text('epoch'), loss: text('loss'), accuracy: text('accuracy'), test_loss: text('test_loss'),
          test_accuracy: text('test_accuracy'),
          nodes: [...root.querySelectorAll('circle[data-mv]')].map(box),
          edges: [...root.querySelectorAll('[data-mv="edge"]')].map(e => [e.style.stroke, e.style.strokeWidth]),
          cursor: [...root.querySelectorAll('[data-mv="cursor"]')].map(c => +c.getAttribute('x1')),
          pixels};
}"""

# Everything the page draws must lie inside the 1280-pixel window and inside its own panel.
_MOVIE_BOUNDS = """() => {
  const inside = (inner, outer) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5
                                   && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
  const out = [];
  const page = {left: 0, right: innerWidth, top: -1e9, bottom: 1e9};
  for (const panel of document.querySelectorAll('.panel, .cr-controls, h1')) {
    if (!inside(panel.getBoundingClientRect(), page)) out.push('sticks out of the window: ' + panel.className);
    if (panel.scrollWidth > panel.clientWidth + 1) out.push('overflows sideways: ' + panel.className);
    for (const e of panel.querySelectorAll('circle, line[data-mv="edge"], text, path, canvas, polyline')) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (!inside(r, panel.getBoundingClientRect())) out.push(`${e.tagName} ${e.textContent || ''} outside ${panel.className}`);
    }
  }
  const canvas = document.querySelector('[data-mv="plane"]');
  for (const mark of document.querySelectorAll('[data-mv="points"] .train, [data-mv="points"] .test')) {
    if (!inside(mark.getBoundingClientRect(), canvas.getBoundingClientRect())) out.push('a point off the plane');
  }
  return {problems: out, scrollWidth: document.documentElement.scrollWidth, innerWidth};
}"""


def _movie_text(value, percent=False) -> str:
    if value is None:
        return "\u2014"
    return f"{100 * value:.1f}%" if percent else f"{value:.4f}"


@pytest.fixture(scope="module")
def movie_page(tmp_path_factory):
    """A small MLP trained on moons for 12 epochs with a frame every 2 (and the last)."""
    nn = pytest.importorskip("nn")
    X, y = nn.datasets.moons(80, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = nn.datasets.train_test_split(X, y, seed=0)
    X_train, mean, std = nn.datasets.normalize(X_train)
    X_test, _, _ = nn.datasets.normalize(X_test, mean, std)
    model = nn.MLP(2, [8, 8, 1], seed=0)
    path = tmp_path_factory.mktemp("movie") / "training.html"
    history, recorded = nn.movie.record(
        model,
        X_train,
        y_train,
        path,
        X_test=X_test,
        y_test=y_test,
        loss="hinge",
        epochs=12,
        every=2,
        batch_size=16,
        progress=False,
        seed=0,
    )
    return path, history, recorded


def test_movie_loads_with_no_console_errors_at_its_first_frame(open_page, movie_page):
    path, _, recorded = movie_page
    page = open_page(path)
    state = page.page.evaluate(_MOVIE_STATE)
    assert state["frame"] == 0 and state["slider"] == 0 and state["epoch"] == 0
    assert len(state["nodes"]) == 2 + 8 + 8 + 1 and len(state["edges"]) == 2 * 8 + 8 * 8 + 8
    assert any(p[3] > 0 for p in state["pixels"]), "the decision boundary is not drawn"
    assert page.errors == []


def test_movie_slider_buttons_keys_and_play_change_the_frame(open_page, movie_page):
    path, _, recorded = movie_page
    page = open_page(path)
    last = len(recorded) - 1
    frame = lambda: page.page.evaluate(_MOVIE_STATE)["frame"]  # noqa: E731
    page.page.keyboard.press("ArrowRight")  # the page takes the keys from the start
    assert frame() == 1
    page.page.keyboard.press("End")
    assert frame() == last
    page.page.keyboard.press("ArrowLeft")
    assert frame() == last - 1
    page.page.keyboard.press("Home")
    assert frame() == 0
    page.page.click('[data-cr="step"][data-by="1"]')
    page.page.click('[data-cr="step"][data-by="1"]')
    assert frame() == 2
    page.page.click('[data-cr="step"][data-by="-1"]')
    assert frame() == 1
    page.page.evaluate(
        "k => { const s = document.querySelector('[data-cr=\"slider\"]'); s.value = k;"
        " s.dispatchEvent(new Event('input', {bubbles: true})); }",
        3,
    )
    assert frame() == 3
    page.page.click('[data-cr="play"]')
    page.page.wait_for_function(
        f"() => +document.getElementById('movie').getAttribute('data-frame') === {last}",
        timeout=150 * len(recorded) + 5000,
    )
    assert page.page.text_content('[data-cr="play"]').endswith("play")  # it stopped at the end
    assert page.errors == []


def test_each_movie_frame_shows_the_figures_fit_reported_for_its_epoch(open_page, movie_page):
    path, history, recorded = movie_page
    page = open_page(path)
    cursors = []
    for k, frame in enumerate(recorded.frames):
        state = _movie_go(page, k)
        assert state["epoch"] == frame["epoch"]
        e = frame["epoch"]
        if e:
            assert state["loss"] == _movie_text(history["loss"][e - 1])
            assert state["accuracy"] == _movie_text(history["accuracy"][e - 1], percent=True)
            assert state["test_loss"] == _movie_text(history["test_loss"][e - 1])
            assert state["test_accuracy"] == _movie_text(history["test_accuracy"][e - 1], percent=True)
        else:
            assert state["loss"] == _movie_text(frame["loss"])  # the untrained model, evaluated
        cursors.append(state["cursor"])
    assert all(a[0] < b[0] for a, b in zip(cursors, cursors[1:])), "the curves' cursor moves with the epoch"
    assert page.errors == []


def _movie_go(page, k: int) -> dict:
    page.page.evaluate(
        "k => { const s = document.querySelector('[data-cr=\"slider\"]'); s.value = k;"
        " s.dispatchEvent(new Event('input', {bubbles: true})); }",
        k,
    )
    return page.page.evaluate(_MOVIE_STATE)


def test_movie_layout_holds_still_while_weights_and_boundary_change(open_page, movie_page):
    path, _, recorded = movie_page
    page = open_page(path)
    first, last = _movie_go(page, 0), _movie_go(page, len(recorded) - 1)
    assert first["nodes"] == last["nodes"], "a node moved between frames"
    assert first["edges"] != last["edges"], "the edges do not show the weights changing"
    assert first["pixels"] != last["pixels"], "the decision boundary does not change"
    assert page.errors == []


@pytest.mark.parametrize("data", ["moons", "spiral"])
def test_the_commands_movie_fits_a_1280_pixel_window_with_nothing_cut_off(open_page, tmp_path, data):
    path = tmp_path / "training.html"
    _chainrule(
        "train",
        "--data",
        data,
        "--epochs",
        "3",
        "--samples",
        "60",
        "--no-progress",
        "--out",
        str(tmp_path),
        "--movie",
        str(path),
    )
    page = open_page(path)
    for k in (0, 3):
        _movie_go(page, k)
        bounds = page.page.evaluate(_MOVIE_BOUNDS)
        assert bounds["scrollWidth"] <= bounds["innerWidth"], "the page scrolls sideways"
        assert bounds["problems"] == []
    assert page.errors == []


# ---- keys at once, a viewport, a heading -------------------------------------------------------------
def test_the_only_player_on_a_page_answers_keys_without_a_click(open_page, neuron_page):
    path, steps, _, _ = neuron_page
    page = open_page(path)
    last = len(steps) - 1
    for key, frame in (("ArrowRight", 1), ("ArrowRight", 2), ("ArrowLeft", 1), ("End", last), ("Home", 0)):
        page.page.keyboard.press(key)
        assert page.state()["shown"] == [frame], key
    assert page.errors == []


def test_the_page_declares_a_viewport_and_says_what_it_shows(open_page, tmp_path):
    path = tmp_path / "graph_backprop.html"
    _chainrule("graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1", "--step-through", str(path))
    page = open_page(path)
    viewport = page.page.get_attribute('meta[name="viewport"]', "content")
    assert "width=device-width" in viewport
    heading = page.page.text_content("h1")
    assert "backward pass" in heading and "tanh(w*x + b)" in heading
    assert "Each frame is one node of the backward pass" in page.page.text_content("h1 + p")
    assert page.errors == []


def test_with_several_players_keys_go_to_the_one_under_the_pointer_or_focus_never_to_a_text_field(open_page, tmp_path):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    first, second = viz.step_through(a * b + a), viz.step_through((a - b).tanh())
    body = f"<textarea id='cell'></textarea>{first.fragment()}<div style='height:40px'></div>{second.fragment()}"
    path = tmp_path / "notebook.html"
    path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    page = open_page(path)
    frames = "() => [...document.querySelectorAll('[data-cr=\"view\"]')].map(v => +v.getAttribute('data-frame'))"
    page.page.keyboard.press("ArrowRight")  # two players, neither pointed at nor focused: no one moves
    assert page.page.evaluate(frames) == [0, 0]
    page.page.hover('[data-cr="caption"] >> nth=1')
    page.page.keyboard.press("ArrowRight")
    assert page.page.evaluate(frames) == [0, 1]
    page.page.focus('[data-cr="play"] >> nth=0')  # the focus wins over the pointer
    page.page.keyboard.press("End")
    assert page.page.evaluate(frames) == [len(first) - 1, 1]
    page.page.focus("#cell")  # typing in a notebook cell moves nothing
    page.page.keyboard.press("Home")
    page.page.keyboard.press("ArrowLeft")
    assert page.page.evaluate(frames) == [len(first) - 1, 1]
    assert page.errors == []


def test_a_movie_whose_names_hold_comment_and_script_markup_still_plays(open_page, tmp_path):
    nn = pytest.importorskip("nn")
    hostile = "soft<!--<script>"
    nn.activations.register(hostile, Value.tanh)
    try:
        X, y = nn.datasets.moons(40, noise=0.1, seed=0)
        model = nn.MLP(2, [4, 1], activation=hostile, seed=0)
        recorded = nn.movie.Movie(model, X, y, loss="hinge", grid=8)
        nn.fit(model, X, y, loss="hinge", epochs=3, progress=False, callback=recorded)
        path = recorded.save(tmp_path / "hostile.html", title="a <!-- title")
    finally:
        nn.activations._REGISTRY.pop(hostile, None)
    page = open_page(path)
    page.page.keyboard.press("End")
    assert page.page.evaluate(_MOVIE_STATE)["frame"] == len(recorded) - 1
    assert hostile in page.page.text_content('[data-mv="graph"]')
    assert page.errors == []
