"""autograd.viz: what the pictures hold (DOT text), that `dot` renders them, the step-through, collapsing."""

import html
import math
import re

import graphviz
import pytest

import autograd
from autograd import Value, dot, parameter, scope, topological_order, viz
from autograd.viz import style

from .dot_source import dot_lines, node_ids, op_id


def _known_graph():
    """micrograd's lecture example: L = (a*b + c) * f, with every data and grad known."""
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    return L, dict(a=a, b=b, c=c, d=d, e=e, f=f, L=L)


def _edge_label(lines, tail, head) -> str:
    return re.search(r"label=\"?([^\s\"\]]+)", lines[tail, head])[1]


# ---- what draw() puts in the picture ------------------------------------------------------------
def test_dot_source_holds_every_label_data_grad_and_op_of_a_known_graph():
    L, v = _known_graph()
    lines, ids = dot_lines(viz.draw(L).source), node_ids(L)
    expected = {  # name: (data, grad), values from the micrograd lecture
        "a": (2.0, 6.0),
        "b": (-3.0, -4.0),
        "c": (10.0, -2.0),
        "e": (-6.0, -2.0),
        "d": (4.0, -2.0),
        "f": (-2.0, 4.0),
        "L": (-8.0, 1.0),
    }
    for name, (data, grad) in expected.items():
        line = lines[ids[v[name]]]
        assert f"<B>{name}</B>" in line and f"data {data:.4f}" in line and f"grad {grad:.4f}" in line
    assert "label=<×>" in lines[op_id(ids[v["e"]])]
    assert "label=<+>" in lines[op_id(ids[v["d"]])]
    assert "label=<×>" in lines[op_id(ids[v["L"]])]
    assert "label=" not in lines[ids[v["a"]], op_id(ids[v["e"]])]  # no edge labels unless asked


def test_dot_source_holds_every_edge_label_with_local_grads():
    L, v = _known_graph()
    lines, ids = dot_lines(viz.draw(L, show_local_grads=True).source), node_ids(L)
    edges = {  # (parent, child): ∂child/∂parent
        ("a", "e"): -3.0,
        ("b", "e"): 2.0,
        ("e", "d"): 1.0,
        ("c", "d"): 1.0,
        ("d", "L"): -2.0,
        ("f", "L"): 4.0,
    }
    for (parent, child), d in edges.items():
        assert _edge_label(lines, ids[v[parent]], op_id(ids[v[child]])) == f"{d:.4f}"
    for parent, _child in edges:  # grad(parent) = Σ edge × grad(child) reads off the picture
        assert v[parent].grad == pytest.approx(sum(e * v[c].grad for (p, c), e in edges.items() if p == parent))


def test_svg_rendering_with_the_real_dot_program():
    L, _ = _known_graph()
    svg = html.unescape(viz.draw(L, show_local_grads=True).pipe(format="svg").decode("utf-8"))
    assert "<svg" in svg and "data 4.0000" in svg and "grad -2.0000" in svg and "∂out/∂in" in svg


def test_local_derivative_on_each_edge_of_tanh_neuron_equals_its_closed_form():
    w, x, b = Value(-0.5, "w"), Value(2.0, "x"), Value(0.1, "b")
    wx = w * x
    z = wx + b
    y = z.tanh()
    lines, ids = dot_lines(viz.draw(y, show_local_grads=True).source), node_ids(y)
    closed = {  # ∂(w·x)/∂w = x, ∂(w·x)/∂x = w, ∂z/∂(w·x) = ∂z/∂b = 1, ∂tanh z/∂z = 1 − tanh² z
        (w, wx): x.data,
        (x, wx): w.data,
        (wx, z): 1.0,
        (b, z): 1.0,
        (z, y): 1 - math.tanh(z.data) ** 2,
    }
    for (parent, child), d in closed.items():
        assert _edge_label(lines, ids[parent], op_id(ids[child])) == f"{d:.4f}"


def test_a_parent_used_twice_gets_one_edge_with_the_summed_derivative():
    x = Value(3.0, "x")
    y = x * x
    lines, ids = dot_lines(viz.draw(y, show_local_grads=True).source), node_ids(y)
    assert sum(1 for key in lines if key == (ids[x], op_id(ids[y]))) == 1
    assert _edge_label(lines, ids[x], op_id(ids[y])) == "6.0000"  # d(x²)/dx = 2x


def test_leaf_kinds_differ_in_shape_and_colour_the_root_stands_out_and_a_legend_names_them():
    x, w = Value(1.5, "x"), parameter(0.5, "w")
    y = (w * x + 2.0).relu()
    lines, ids = dot_lines(viz.draw(y).source), node_ids(y)
    const = next(n for n in topological_order(y) if n.data == 2.0)
    styles = {
        kind: re.search(r"fillcolor=\"(#\w+)\".*style=\"?([\w,]+)", lines[ids[n]]).groups()
        for kind, n in [("input", x), ("parameter", w), ("constant", const), ("computed", y.parents[0])]
    }
    assert len(set(styles.values())) == 4
    assert "peripheries=2" in lines[ids[y]] and all("peripheries" not in lines[ids[n]] for n in (x, w, const))
    legend = viz.draw(y).source
    assert all(word in legend for word in ("input", "parameter", "constant", "computed", "root", "op"))


def test_user_labels_are_escaped_and_still_render():
    x = Value(1.0, 'a<b & "c"')
    g = viz.draw(x * 2)
    assert "a&lt;b &amp; &quot;c&quot;" in g.source
    assert b"<svg" in g.pipe(format="svg")


def test_show_grad_false_leaves_grads_out():
    L, _ = _known_graph()
    assert "grad " not in viz.draw(L, show_grad=False).source


def test_op_glyphs_for_fused_nodes():
    ws, xs = [Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]
    with_bias = viz.draw(dot(ws, xs, Value(0.5))).source
    without = viz.draw(dot(ws, xs)).source
    assert "label=<Σ w·x + b>" in with_bias and "label=<Σ w·x>" in without


def test_highlight_marks_the_node_its_op_and_the_edges_into_it():
    L, v = _known_graph()
    lines, ids = dot_lines(viz.draw(L, highlight=v["d"]).source), node_ids(L)
    lit = style.HIGHLIGHT_FILL
    assert lit in lines[ids[v["d"]]] and lit in lines[op_id(ids[v["d"]])]
    assert "penwidth" in lines[ids[v["e"]], op_id(ids[v["d"]])]
    assert lit not in lines[ids[v["e"]]]


def test_draw_checks_its_options():
    L, _ = _known_graph()
    with pytest.raises(TypeError):
        viz.draw(3.0)
    for bad in (dict(rankdir="XY"), dict(collapse="module"), dict(max_nodes=0), dict(highlight=Value(1.0))):
        with pytest.raises(ValueError):
            viz.draw(L, **bad)


def test_autograd_draw_is_viz_draw_and_a_value_keeps_its_text_repr():
    L, _ = _known_graph()
    assert autograd.draw is viz.draw
    assert "Value(" in repr(L)  # no automatic picture


def test_numbers_show_4_decimals_and_tiny_or_huge_ones_in_scientific_notation():
    assert [style.fmt(x) for x in (0.5, -2.0, 0.0, 1.5e-7, 3e8, math.inf)] == [
        "0.5000",
        "-2.0000",
        "0.0000",
        "1.5000e-07",
        "3.0000e+08",
        "inf",
    ]


# ---- no `dot` on PATH -----------------------------------------------------------------------------
def test_without_dot_draw_still_gives_dot_source_and_rendering_says_how_to_install(monkeypatch, tmp_path):
    L, _ = _known_graph()
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` anywhere
    g = viz.draw(L)
    assert g.source.startswith("digraph")
    for render in (lambda: g.pipe(format="svg"), lambda: g._repr_mimebundle_(), lambda: g.render(tmp_path / "g")):
        with pytest.raises(viz.GraphvizNotFoundError, match=r"install Graphviz.*apt-get install graphviz"):
            render()
    with pytest.raises(graphviz.ExecutableNotFound):  # still what graphviz users catch
        _ = viz.step_through(L).svg


# ---- the step-through ----------------------------------------------------------------------------
def test_step_through_has_one_frame_per_node_in_backward_order():
    L, _ = _known_graph()
    order = topological_order(L)
    steps = viz.step_through(L)
    assert steps.order == order[::-1]  # backward's visiting order, leaves included
    assert len(steps) == len(steps.captions) == len(steps.plan["lit"]) == len(order)
    ids = node_ids(L)
    for k, node in enumerate(steps.order):
        shown = steps.shown(k)
        assert shown["lit"][0] == ids[node]  # the current node is the one highlighted ...
        if node.parents:  # ... with its op, the op's edge to it and the edges into the op
            op = op_id(ids[node])
            assert set(shown["lit"][1:]) == {op, f"{op}-{ids[node]}", *(f"{ids[p]}-{op}" for p in node.parents)}
        visited = set(steps.order[: k + 1])
        for n in order:  # grads filled in up to this point, blank after
            assert shown["grads"][ids[n]] == (n in visited)
    assert steps.svg.startswith("<svg") and steps.svg.count("<svg") == 1  # one picture for every frame


def test_step_through_lays_out_once_and_the_page_grows_linearly():
    """One dot run, one SVG; each frame adds a caption and a few ids, never a picture."""

    def sizes(n):
        x = Value(0.5, "x")
        for _ in range(n):
            x = x.tanh()
        steps = viz.step_through(x)
        page = steps._repr_html_()
        return page.count("<svg"), len(page) - len(steps.svg), len(steps.svg)

    (svgs_small, rest_small, svg_small), (svgs_big, rest_big, svg_big) = sizes(20), sizes(80)
    assert svgs_small == svgs_big == 1
    assert rest_big < 5 * rest_small and svg_big < 5 * svg_small  # 4x the nodes: about 4x the bytes, not 16x


def test_step_through_grads_are_backwards_and_leave_grad_untouched():
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    y = (a * b + a).tanh()
    steps = viz.step_through(y)
    assert a.grad == b.grad == 0.0
    last = dot_lines(steps.graph.source)
    y.backward()
    for node, key in node_ids(y).items():
        assert f"grad {style.fmt(node.grad)}" in last[key]


def test_step_through_html_is_self_contained(tmp_path):
    L, _ = _known_graph()
    steps = viz.step_through(L)
    page = steps._repr_html_()
    assert page.count("<svg") == 1 and 'type="range"' in page
    assert all(word in page for word in ("prev", "next", "play", "<script>"))
    assert not re.search(r"<script[^>]*\bsrc|<link|<iframe|@import|url\(", page, re.I)
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'<img src="([^"]*)"', page))
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.I)
    assert set(re.findall(r"(\S+)=\"https?://", page)) <= {"xmlns", "xmlns:xlink"}  # namespaces only, no loads
    saved = steps.save(tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>") and saved.count("<svg") == 1
    assert "</script" not in page.split('data-cr="data">')[1].split("</script>")[0]  # the JSON cannot close its tag


def test_a_40_term_sum_steps_through_in_one_small_page():
    """It used to store a whole picture per frame: 121 nodes made a 22.7 MB page."""
    total = Value(0.0, "x0")
    for i in range(1, 40):
        total = total + Value(i / 10, f"x{i}")
    steps = viz.step_through(total)
    page = steps._repr_html_()
    assert len(steps) == 79 and page.count("<svg") == 1 and len(page.encode("utf-8")) < 300_000


def test_step_through_refuses_too_many_frames():
    x = Value(1.0)
    for _ in range(60):
        x = x.tanh()
    with pytest.raises(ValueError, match="max_nodes"):
        viz.step_through(x, max_nodes=50)


# ---- big graphs and collapsing --------------------------------------------------------------------
def _tagged_chain(n_layers: int, steps: int):
    """A chain of 2·n_layers·steps + 1 nodes whose nodes carry module paths like nn's."""
    x = Value(0.3, "x")
    for layer in range(n_layers):
        with scope(f"layers.{layer}.neurons.0"):
            for _ in range(steps):
                x = x * 1.0001
    return x


def test_a_3000_node_graph_is_refused_with_a_hint():
    root = _tagged_chain(10, 150)
    assert len(topological_order(root)) > 3000
    with pytest.raises(ValueError, match=r"collapse=.*max_nodes="):
        viz.draw(root)


def test_a_3000_node_graph_collapsed_by_layer_is_small():
    root = _tagged_chain(10, 150)
    g = viz.draw(root, collapse="layer")
    assert g.source.count("subgraph cluster_") == 10  # one box per layer
    assert b"<svg" in g.pipe(format="svg")


def _hand_tagged_mlp(sizes, inputs):
    """What nn does, by hand: a neuron's dot, activation and parameters carry its path."""
    xs = inputs
    for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        out = []
        for j in range(nout):
            path = f"layers.{layer}.neurons.{j}"
            ws = [parameter(0.1 * (i - j), f"{path}.w.{i}") for i in range(nin)]
            b = parameter(0.0, f"{path}.b")
            with scope(path):
                out.append(dot(ws, xs, b).tanh())
        xs = out
    return xs[0]


def test_collapse_folds_each_neuron_or_layer_into_one_box_with_its_inputs_and_outputs():
    x0, x1 = Value(0.5, "x0"), Value(-1.0, "x1")
    y = _hand_tagged_mlp([2, 3, 1], [x0, x1])
    loss = (y - 1.0) ** 2
    loss.backward()
    by_neuron, by_layer = viz.draw(loss, collapse="neuron").source, viz.draw(loss, collapse="layer").source
    assert by_neuron.count("subgraph cluster_") == 4 and by_layer.count("subgraph cluster_") == 2
    for source in (by_neuron, by_layer):
        assert "<B>x0</B>" in source and "<B>x1</B>" in source  # inputs stay visible
        assert "w.0" not in source  # parameters are folded into their box
        assert f"data {style.fmt(y.data)}" in source  # the network's output stays visible
    assert "3 parameters" in by_neuron and "9 parameters" in by_layer
    assert by_layer.count("-> m0") == 2  # layer 0's box takes both inputs


def test_2_16_16_1_mlp_collapsed_by_layer_renders_three_boxes():
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = (model([Value(0.5, "x0"), Value(-1.0, "x1")]) - 1.0) ** 2
    loss.backward()
    svg = viz.draw(loss, collapse="layer").pipe(format="svg").decode("utf-8")
    assert svg.count("parameters") == 3 and "layer.3" in svg  # layers counted from 1, as in W3


def test_hand_scoped_2_16_16_1_mlp_collapsed_by_neuron_renders_one_box_per_neuron():
    loss = _hand_tagged_mlp([2, 16, 16, 1], [Value(0.5, "x0"), Value(-1.0, "x1")]) ** 2
    loss.backward()
    g = viz.draw(loss, collapse="neuron")
    assert g.source.count("subgraph cluster_") == 33
    assert b"<svg" in g.pipe(format="svg")
