"""Pictures that show everywhere: a drawn graph carries HTML (an <img> fitted to the width), SVG and
PNG, so an untrusted notebook (JupyterLab shows SVG only when trusted) and image-only viewers show
it; the step-through shows a still picture where scripts do not run; graphs fit the width they
are given, root in view, with a way to see them at full size."""

from __future__ import annotations

import base64
import html
import re
import subprocess
import sys

import graphviz
import pytest

import autograd as ag
from autograd import Value, viz
from autograd.viz import picture

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _neuron():
    w, x, b = Value(-0.5, label="w"), Value(2.0, label="x"), Value(0.1, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    y.backward()
    return y


def _wide(n: int = 12):
    """sum of x_i * x_i, added one by one: a graph far wider than a notebook (about 5,000 px)."""
    xs = [Value(i / 10, label=f"x{i}") for i in range(n)]
    total = xs[0] * xs[0]
    for x in xs[1:]:
        total = total + x * x
    total.label = "total"
    total.backward()
    return total


def _unscripted(fragment: str) -> str:
    """What a notebook's sanitizer leaves of HTML output it does not trust: no script, no style."""
    return re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", fragment, flags=re.S | re.I)


# ---- the mimebundle -------------------------------------------------------------------------------
def test_a_drawn_graph_is_still_a_digraph_and_carries_html_svg_and_png():
    g = viz.draw(_neuron())
    assert isinstance(g, graphviz.Digraph) and g.source.startswith("digraph")
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "image/png"}
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert picture.natural_size(bundle["image/svg+xml"])[0] > 0
    assert "<svg" in bundle["image/svg+xml"] and "max-width:100%" in bundle["image/svg+xml"]
    src = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"[^>]*style="max-width:100%', bundle["text/html"])
    assert src and base64.b64decode(src[1]).decode("utf-8") == bundle["image/svg+xml"]
    assert set(g._repr_mimebundle_(include=["image/png"])) == {"image/png"}
    assert set(g._repr_mimebundle_(exclude=["text/html", "image/png"])) == {"image/svg+xml"}


def test_ipython_formats_a_drawn_graph_with_the_png_beside_the_svg():
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(viz.draw(_neuron()))
    assert data["image/png"].startswith(PNG_MAGIC) and "<svg" in data["image/svg+xml"]
    assert "<img" in data["text/html"] and data["text/plain"].startswith("<Digraph:")


def test_the_html_survives_a_sanitizer_and_a_wide_graph_offers_full_size():
    small = viz.draw(Value(2.0, label="x") * 3, legend=False)._repr_mimebundle_(include=["text/html"])["text/html"]
    wide = viz.draw(_wide())._repr_mimebundle_(include=["text/html"])["text/html"]
    for text in (small, wide):
        assert _unscripted(text) == text and "<svg" not in text  # nothing a sanitizer would drop
    assert "full size" not in small and small.count("<img") == 1
    assert "<details>" in wide and "full size" in wide and wide.count("<img") == 2


def test_pipe_and_render_write_svg_that_fits_its_width_and_other_formats_untouched(tmp_path):
    g = viz.draw(_neuron())
    svg = g.pipe(format="svg").decode("utf-8")
    tag = re.search(r"<svg\b[^>]*>", svg)[0]
    assert 'style="max-width:100%;height:auto"' in tag and "viewBox=" in tag
    assert g.pipe(format="svg", encoding="utf-8") == svg
    assert g.pipe(format="png").startswith(PNG_MAGIC)
    path = g.render(tmp_path / "g", format="svg")
    assert "max-width:100%" in re.search(r"<svg\b[^>]*>", open(path, encoding="utf-8").read())[0]
    assert picture.fit_svg(svg) == svg  # fitting twice changes nothing


def test_the_commands_svg_fits_its_width(tmp_path):
    out = tmp_path / "g.svg"
    subprocess.run(
        [sys.executable, "-m", "nn.cli", "graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    assert "max-width:100%" in re.search(r"<svg\b[^>]*>", out.read_text(encoding="utf-8"))[0]


# ---- the step-through's still picture ---------------------------------------------------------------
def test_the_step_through_shows_a_png_where_scripts_do_not_run():
    steps = viz.step_through(_neuron())
    left = _unscripted(steps._repr_html_())
    assert "<svg" not in left  # the SVG rides in a script: no text dump of its labels
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', left)
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(PNG_MAGIC)
    text = html.unescape(re.sub(r"<[^>]+>", " ", left))
    assert "A still picture" in text and not re.search(r"(data|grad) -?\d", text)  # no label text dumped
    assert re.search(r'data-cr="controls" hidden', left)  # no dead buttons


def test_a_saved_page_needs_no_still_picture():
    assert "<img" not in viz.step_through(_neuron()).page()


# ---- in a browser ----------------------------------------------------------------------------------------
_FIT = """() => {
  const img = document.querySelector('img');
  const r = img.getBoundingClientRect();
  return {shown: img.complete && img.naturalWidth > 0, width: r.width, natural: img.naturalWidth, innerWidth,
          scroll: document.documentElement.scrollWidth};
}"""

# the root of a `draw` picture: the value node drawn last (ids follow the topological order)
_ROOT = """() => {
  const nodes = [...document.querySelectorAll('g.node')].filter(g => /^v\\d+$/.test(g.querySelector('title').textContent));
  const root = nodes.reduce((a, b) => +a.querySelector('title').textContent.slice(1) > +b.querySelector('title').textContent.slice(1) ? a : b);
  const r = root.getBoundingClientRect(), svg = document.querySelector('svg').getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, svgWidth: svg.width, innerWidth, innerHeight,
          scroll: document.documentElement.scrollWidth};
}"""


def _in_view(box) -> bool:
    return 0 <= box["left"] and box["right"] <= box["innerWidth"] and box["right"] - box["left"] > 20


@pytest.mark.browser
def test_a_wide_svg_file_fits_an_800_pixel_page_with_its_root_in_view(open_page, tmp_path):
    path = tmp_path / "wide.svg"
    names = [f"x{i}" for i in range(12)]
    subprocess.run(
        [sys.executable, "-m", "nn.cli", "graph", " + ".join(f"{n}*{n}" for n in names)]
        + [f"{n}={i / 10}" for i, n in enumerate(names)]
        + ["-o", str(path)],
        check=True,
        capture_output=True,
    )
    assert picture.natural_size(path.read_text(encoding="utf-8"))[0] > 3000
    page = open_page(path, width=800)
    box = page.page.evaluate(_ROOT)
    assert box["svgWidth"] <= 800 and box["scroll"] <= 800 and _in_view(box), box
    assert page.errors == []


@pytest.mark.browser
def test_a_wide_drawn_graph_fits_an_800_pixel_notebook_output_trusted_or_not(open_page):
    html_out = viz.draw(_wide())._repr_mimebundle_(include=["text/html"])["text/html"]
    page = open_page(html=f"<body style='margin:0'>{_unscripted(html_out)}</body>", width=800)
    fit = page.page.evaluate(_FIT)
    assert fit["shown"] and fit["natural"] > 3000 and fit["width"] <= 800 and fit["scroll"] <= 800, fit
    page.page.click("summary")  # full size: the picture at its natural width, in a box that scrolls
    full = page.page.evaluate("() => document.querySelectorAll('img')[1].getBoundingClientRect().width")
    assert full == pytest.approx(picture.natural_size(viz.draw(_wide()).svg())[0], abs=1)
    assert page.page.evaluate("() => document.documentElement.scrollWidth") <= 800
    assert page.errors == []


@pytest.mark.browser
def test_an_untrusted_step_through_shows_its_still_picture_and_a_trusted_one_the_player(open_page):
    steps = viz.step_through(_wide(6))
    fragment = steps._repr_html_()
    still = open_page(html=f"<body style='margin:0'>{_unscripted(fragment)}</body>", width=800)
    fit = still.page.evaluate(_FIT)
    assert fit["shown"] and fit["width"] <= 800 and fit["scroll"] <= 800, fit
    assert not still.page.is_visible('[data-cr="play"]')
    live = open_page(html=f"<body>{fragment}</body>", width=800)
    assert live.page.evaluate("() => document.querySelectorAll('[data-cr=\"view\"] img').length") == 0
    assert live.page.is_visible('[data-cr="play"]') and live.page.is_visible('[data-cr="view"] svg')
    assert live.errors == []


@pytest.mark.browser
def test_explore_fits_its_picture_to_the_width_and_shows_it_at_full_size_on_request(open_page):
    pytest.importorskip("ipywidgets")

    def f(**xs):
        return ag.sum([x * x for x in xs.values()])

    w = viz.explore(f, **{f"x{i}": (-1, 1) for i in range(10)})
    full, shown = w.children[-2], w.children[-1]
    page = open_page(html=f"<body style='margin:0'>{shown.value}</body>", width=800)
    box = page.page.evaluate(_ROOT)
    assert box["svgWidth"] <= 800 and _in_view(box), box
    full.value = True
    page = open_page(html=f"<body style='margin:0'>{shown.value}</body>", width=800)
    box = page.page.evaluate(_ROOT)
    natural = picture.natural_size(w.graph.svg())[0]
    assert natural > 800 and box["svgWidth"] == pytest.approx(natural, abs=1)


def test_render_to_an_svg_outfile_fits_too(tmp_path):
    path = viz.draw(_neuron()).render(outfile=tmp_path / "g.svg")
    assert "max-width:100%" in re.search(r"<svg\b[^>]*>", open(path, encoding="utf-8").read())[0]


def test_the_static_files_are_package_data_and_hold_nothing_that_ends_a_script():
    from pathlib import Path

    from autograd.viz import player

    root = Path(__file__).resolve().parents[2]
    table = (root / "pyproject.toml").read_text(encoding="utf-8").split("[tool.setuptools.package-data]")[1]
    table = table.split("\n[")[0]  # up to the next table
    data = {k: re.findall(r'"([^"]+)"', v) for k, v in re.findall(r'^"([\w.]+)" = \[(.*)\]$', table, re.M)}
    for package, folder in (("autograd.viz", root / "autograd/viz/static"), ("nn", root / "nn/static")):
        files = sorted(p.name for p in folder.iterdir())
        assert files and all(any(Path("static", f).match(p) for p in data[package]) for f in files), package
        for name in files:
            if name.endswith((".js", ".css")):
                assert "</" not in (folder / name).read_text(encoding="utf-8"), name
    assert "chainrulePlayer" in player.script() and ".cr-controls" in player.style()
