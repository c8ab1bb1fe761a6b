"""What the pictures point out on their own: the shares of a reused node, a finite-difference check,
problem marks (dead relu, nan/inf, exploding/vanishing), focus on one node, odd labels, live sliders."""

import html
import math
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value, extend, parameter, scope, topological_order, viz
from autograd.viz import marks, scene, style

from .dot_source import dot_lines, node_ids, op_id


def _green(text: str) -> list:
    """The green texts (shares) in a DOT line."""
    return re.findall(rf'<FONT COLOR="{style.SHARE}">([^<]*)</FONT>', text)


def _reused():
    """y = 3*a + 5*a: a is used by two products, so its grad 8 is 3 + 5."""
    a = Value(2.0, "a")
    y = 3 * a + 5 * a
    y.label = "y"
    y.backward()
    return y, a


# ---- fan-out: a reused node's grad as the sum of its shares ----------------------------------------
def test_a_node_used_twice_shows_its_grad_as_the_sum_of_the_two_shares():
    y, a = _reused()
    lines, ids = dot_lines(viz.draw(y).source), node_ids(y)
    assert "grad 8.0000" in lines[ids[a]] and _green(lines[ids[a]]) == ["= 3.0000 + 5.0000"]
    first, second = (u for u in topological_order(y) if a in u.parents)
    assert _green(lines[ids[a], op_id(ids[first])]) == ["3.0000"]  # grad(out)·∂out/∂a = 1 × 3
    assert _green(lines[ids[a], op_id(ids[second])]) == ["5.0000"]
    assert "reused node" in viz.draw(y).source  # the legend says what green means


def test_shares_with_local_grads_show_both_numbers_on_each_edge():
    y, a = _reused()
    lines, ids = dot_lines(viz.draw(y, show_local_grads=True).source), node_ids(y)
    first = next(u for u in topological_order(y) if a in u.parents)
    edge = lines[ids[a], op_id(ids[first])]
    assert ">3.0000</FONT><BR/>" in edge and _green(edge) == ["3.0000"]  # ∂out/∂a = 3, then the share


def test_the_shares_of_every_reused_node_add_up_to_its_grad():
    x, w = Value(0.7, "x"), Value(-1.3, "w")
    h = (w * x).tanh()
    y = h * x + h * h * w + x.exp()
    y.backward()
    source, ids = viz.draw(y).source, node_ids(y)
    lines = dot_lines(source)
    reused = [n for n in topological_order(y) if sum(n in u.parents for u in topological_order(y)) > 1]
    assert {x, w, h} <= set(reused)
    for n in reused:
        shares = [float(s) for s in _green(lines[ids[n]])[0].removeprefix("= ").split(" + ")]
        assert math.fsum(shares) == pytest.approx(n.grad, rel=1e-3, abs=1e-4)


def test_a_node_used_once_or_twice_by_one_op_shows_no_sum():
    x = Value(3.0, "x")
    y = (x * x).tanh()
    y.backward()
    assert style.SHARE not in viz.draw(y).source  # x*x is one op: one edge with the summed derivative


def test_a_collapsed_input_used_by_several_boxes_shows_one_share_per_box():
    x0, x1 = Value(0.5, "x0"), Value(-1.0, "x1")
    hidden = []
    for j in range(3):
        with scope(f"layers.0.neurons.{j}"):
            hidden.append(ag.dot([parameter(0.1 * (j + 1)), parameter(-0.2)], [x0, x1], parameter(0.0)).tanh())
    y = ag.sum(hidden)
    y.backward()
    lines = dot_lines(viz.draw(y, collapse="neuron").source)
    x0_line = next(line for key, line in lines.items() if isinstance(key, str) and "<B>x0</B>" in line)
    terms = _green(x0_line)[0].removeprefix("= ").split(" + ")
    assert len(terms) == 3 and math.fsum(map(float, terms)) == pytest.approx(x0.grad, abs=1e-4)
    assert style.SHARE not in viz.draw(y, collapse="layer").source  # one layer box: one use, no sum


def test_step_through_grows_the_sum_and_the_frame_that_completes_it_says_so():
    y, a = _reused()
    steps = viz.step_through(y)
    ids = node_ids(y)
    users = [u for u in steps.order if a in u.parents]  # in the order backward visits them
    k1, k2 = steps.order.index(users[0]), steps.order.index(users[1])
    assert steps.shown(k1 - 1)["sums"][ids[a]] == ""
    assert steps.shown(k1)["sums"][ids[a]] == "= 5.0000 + …"  # 5*a is visited first
    assert steps.shown(k2)["sums"][ids[a]] == "= 3.0000 + 5.0000"
    assert "'a' now has all 2 shares: grad 8.0000 = 3.0000 + 5.0000" in steps.captions[k2]
    assert "now has all" not in " ".join(steps.captions[:k2] + steps.captions[k2 + 1 :])
    edge = f"{ids[a]}-{op_id(ids[users[0]])}"
    assert not steps.shown(k1 - 1)["shares"][edge] and steps.shown(k1)["shares"][edge]
    assert "= 3.0000 + 5.0000" in steps.captions[steps.order.index(a)]


# ---- check=True: finite differences for every node ------------------------------------------------
@extend.primitive("cube", derivative=lambda ans, x: 2.0 * x * x)  # wrong on purpose: d(x³)/dx is 3x²
def _bad_cube(x):
    return x * x * x


def test_check_flags_the_inputs_of_a_primitive_whose_derivative_rule_is_wrong():
    x, w = Value(1.5, "x"), Value(0.5, "w")
    c = _bad_cube(x)
    c.label = "c"
    y = (c * w).tanh()
    y.label = "y"
    y.backward()
    g = viz.draw(y, check=True)
    lines, ids = dot_lines(g.source), node_ids(y)
    assert "finite diff." in lines[ids[x]] and style.PROBLEM_FILL["mismatch"] in lines[ids[x]]
    fd = (1 - math.tanh(x.data**3 * w.data) ** 2) * w.data * 3 * x.data**2  # the true derivative
    assert f"finite diff. {style.fmt(fd)}" in lines[ids[x]] and f"engine {style.fmt(x.grad)}" in lines[ids[x]]
    for n in (c, w, y):  # above the bad rule, every grad is right
        assert "finite diff." not in lines[ids[n]]
    assert "a wrong derivative rule" in g.source  # the legend
    assert b"<svg" in g.pipe(format="svg")


def test_check_is_quiet_on_a_correct_graph_with_every_kind_of_op():
    a, b = Value(0.7, "a"), parameter(-1.2, "b")
    y = ag.sum([(a * b).tanh(), (a / (b * b + 1.0)).exp(), ag.dot([a, b], [b, a], 0.3).sigmoid(), (a**3).log()])
    y = y + ag.logsumexp([a, b, y])
    y.backward()
    source = viz.draw(y, check=True).source
    assert "finite diff." not in source and style.PROBLEM_FILL["mismatch"] not in source


def test_check_estimates_interior_nodes_by_replaying_the_forward_rules_downstream():
    x = Value(0.3, "x")
    h = x.sin()
    y = h * h + h.exp()
    found = marks.mismatches(topological_order(y), y)
    assert found == {}
    expected = 2 * h.data + math.exp(h.data)  # d(h² + eʰ)/dh
    order = topological_order(y)
    index = {n: i for i, n in enumerate(order)}
    users = {n: [u for u in order if n in u.parents] for n in order}
    step = 1e-6
    up = marks.replay(h, h.data + step, y, index, users)
    down = marks.replay(h, h.data - step, y, index, users)
    assert (up - down) / (2 * step) == pytest.approx(expected, rel=1e-8)


def _tree(k: int):
    """k neurons tanh(w·x + b) summed by a balanced tree of additions: each node reaches a few others."""
    terms = [(Value(0.1 * i, label=f"w{i}") * 0.5 + 0.01 * i).tanh() for i in range(k)]
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def test_check_replays_only_what_a_change_reaches_not_every_later_node(monkeypatch):
    root = _tree(96)
    order = topological_order(root)
    reach = {n: set() for n in order}  # node -> the nodes downstream of it
    for n in reversed(order):
        for p in n.parents:
            reach[p] |= {n} | reach[n]
    reads = [0]  # how often the check looks at a node's parents: once per node it visits
    parents = Value.parents

    def counted(node):
        reads[0] += 1
        return parents.fget(node)

    monkeypatch.setattr(Value, "parents", property(counted))
    assert marks.mismatches(order, root) == {}
    monkeypatch.undo()
    checked = [n for n in order if n.role != "constant"]
    reached = 2 * sum(len(reach[n]) for n in checked)  # up and down
    assert reads[0] <= 2 * len(order) + 2 * reached  # finding the users once, then each reached node
    every_later = sum(len(order) - 1 - order.index(n) for n in checked)
    assert reads[0] < 0.1 * every_later  # what looking at every later node, for every node, costs


# ---- problem marks ---------------------------------------------------------------------------------
def test_a_dead_relu_says_dead_and_a_live_one_does_not():
    x, z = Value(-1.0, "x"), Value(2.0, "z")
    dead, live = x.relu(), z.relu()
    y = dead + live
    y.backward()
    lines, ids = dot_lines(viz.draw(y).source), node_ids(y)
    assert "<B>dead</B>" in lines[ids[dead]] and style.PROBLEM_FILL["dead"] in lines[ids[dead]]
    assert "dead" not in lines[ids[live]]
    assert "dead relu: input ≤ 0" in viz.draw(y).source  # the legend
    assert b"<svg" in viz.draw(y).pipe(format="svg")


def test_relu_at_exactly_zero_is_dead():
    x = Value(0.0, "x")
    y = x.relu()
    assert marks.problems(topological_order(y), y, lambda n: n.grad) == {y: ["dead"]}


def test_nan_and_inf_in_data_and_grad_are_flagged():
    x = Value(float("nan"), "x")
    y = x * 2.0
    y.backward()
    lines, ids = dot_lines(viz.draw(y).source), node_ids(y)
    assert "<B>nan</B>" in lines[ids[x]] and "<B>nan</B>" in lines[ids[y]]
    z = Value(0.0, "z")
    r = z.sqrt()  # d√z/dz = inf at 0
    r.backward()
    lines, ids = dot_lines(viz.draw(r).source), node_ids(r)
    assert "<B>inf</B>" in lines[ids[z]] and "inf data or grad" in viz.draw(r).source
    assert b"<svg" in viz.draw(r).pipe(format="svg")


def test_exploding_and_vanishing_grads_relative_to_the_root_are_flagged():
    big, tiny, fine = Value(1.0, "big"), Value(1.0, "tiny"), Value(1.0, "fine")
    y = big * 2e3 + tiny * 5e-7 + fine * 3.0
    y.backward()
    lines, ids = dot_lines(viz.draw(y).source), node_ids(y)
    assert "<B>exploding</B>" in lines[ids[big]] and "<B>vanishing</B>" in lines[ids[tiny]]
    assert "<B>" not in lines[ids[fine]].replace("<B>fine</B>", "")
    g = viz.draw(y)
    assert f"&gt; {viz.EXPLODING:g} × root's" in g.source and f"&lt; {viz.VANISHING:g} × root's" in g.source
    assert b"exploding" in g.pipe(format="svg")  # the legend's &lt; and &gt; are escaped, so dot reads it
    y.grad = 1e6  # the thresholds are relative to the root's grad: now nothing explodes
    assert "<B>exploding</B>" not in viz.draw(y).source


def test_a_healthy_graph_has_no_problem_marks_and_no_problem_legend():
    w, x, b = Value(-0.5, "w"), Value(2.0, "x"), Value(0.1, "b")
    y = (w * x + b).tanh()
    y.backward()
    source = viz.draw(y, check=True).source
    assert style.PROBLEM_TEXT not in source and all(fill not in source for fill in style.PROBLEM_FILL.values())
    assert viz.draw(y, problems=False).source == viz.draw(y).source


def test_a_box_counts_the_problems_folded_into_it():
    x = Value(1.0, "x")
    with scope("layers.0.neurons.0"):
        inner = (x * parameter(-2.0)).relu() * 3.0  # the dead relu is folded inside the box
    y = inner + 1.0
    y.backward()
    assert "1 dead" in viz.draw(y, collapse="neuron").source


# ---- focus --------------------------------------------------------------------------------------------
def test_focus_keeps_what_feeds_the_node_and_what_it_feeds():
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(3.0, "c")
    left = (a * b).tanh()
    right = (c * c).exp()
    y = left + right
    y.backward()
    source = viz.draw(y, focus=left).source
    assert all(f"<B>{n}</B>" in source for n in ("a", "b")) and "<B>c</B>" not in source
    assert f"data {style.fmt(y.data)}" in source  # the root is downstream
    assert "1 other input" in source  # the + also takes `right`, left out
    with pytest.raises(ValueError, match="focus"):
        viz.draw(y, focus=Value(1.0))


def test_focus_with_collapse_draws_only_the_boxes_on_the_way():
    x0, x1 = Value(0.5, "x0"), Value(-1.0, "x1")
    xs = [x0, x1]
    first = None
    for layer, (nin, nout) in enumerate([(2, 3), (3, 1)]):
        out = []
        for j in range(nout):
            ws = [parameter(0.1 * (i - j + 1)) for i in range(nin)]
            if first is None:
                first = ws[0]
            with scope(f"layers.{layer}.neurons.{j}"):
                out.append(ag.dot(ws, xs, parameter(0.0)).tanh())
        xs = out
    loss = xs[0] ** 2
    loss.backward()
    whole = viz.draw(loss, collapse="neuron").source
    focused = viz.draw(loss, collapse="neuron", focus=first).source
    assert whole.count("subgraph cluster_") == 4 and focused.count("subgraph cluster_") == 2
    assert style.HIGHLIGHT_FILL in focused  # the focused weight stays visible, highlighted


def test_focus_makes_a_too_big_graph_drawable():
    x = Value(0.1, "x")
    parts = []
    for _ in range(30):
        t = x
        for _ in range(40):
            t = t.sin()
        parts.append(t)
    y = ag.sum(parts)
    with pytest.raises(ValueError, match="focus=node"):
        viz.draw(y, max_nodes=200)
    assert viz.draw(y, focus=parts[3], max_nodes=200).source.count("subgraph") == 0


# ---- odd labels, collapse of a bare Layer ------------------------------------------------------------
@pytest.mark.parametrize(
    "label",
    [
        "bell\x07",
        "nul\x00byte",
        "tab\tnew\nline",
        "\x1b[31mred",
        "zero\u200bwidth",
        "sep\u2028par",
        "lone \ud800 surrogate",
        "del\x7f",
        "]]> <!-- & \"'",
        "]",
        "]]",
    ],
)
def test_labels_with_control_characters_render_and_show_an_escape(label):
    x = Value(1.0, label)
    with scope(label):
        y = x * 2.0
    y.label = label
    g = viz.draw(y, collapse="neuron")
    svg = g.pipe(format="svg").decode("utf-8")
    assert "<svg" in svg
    assert style.printable(label).isprintable()
    steps = viz.step_through(y)
    assert "<svg" in steps._repr_html_()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=12))
def test_any_label_renders(label):
    y = Value(1.0, label) * 2.0
    assert b"<svg" in viz.draw(y).pipe(format="svg")


def test_collapse_layer_of_a_bare_layer_draws_one_layer_box():
    nn = pytest.importorskip("nn")
    layer = nn.Layer(2, 3, "tanh", seed=0)
    y = ag.sum(layer([Value(0.5, "x0"), Value(-1.0, "x1")]))
    y.backward()
    assert viz.draw(y, collapse="layer").source.count("subgraph cluster_") == 1
    assert viz.draw(y, collapse="neuron").source.count("subgraph cluster_") == 3


def test_the_layer_of_a_scope():
    assert scene.layer_of("layers.0.neurons.3") == "layers.0"
    assert scene.layer_of("neurons.3") == "layer"
    assert scene.layer_of("encoder.layers.1.neurons.0") == "encoder.layers.1"
    assert scene.layer_of("layer 1.neuron a") == "layer 1.neuron a"
    assert scene.layer_of("mlp.layer 2.neuron a") == "mlp.layer 2"


# ---- one limit ---------------------------------------------------------------------------------------
def test_draw_step_through_and_the_command_share_one_node_limit():
    import inspect

    from nn.cli import args, graph

    assert inspect.signature(viz.draw).parameters["max_nodes"].default == viz.MAX_NODES
    assert inspect.signature(viz.step_through).parameters["max_nodes"].default == viz.MAX_NODES
    parser = args.Parser(prog="chainrule")
    graph.add_graph_command(parser.add_subparsers())
    assert parser.parse_args(["graph", "x", "x=1"]).max_nodes == viz.MAX_NODES


# ---- explore: sliders in Jupyter ---------------------------------------------------------------------
def test_explore_has_one_slider_per_input_and_redraws_when_one_moves():
    widgets = pytest.importorskip("ipywidgets")
    w = viz.explore(lambda x, y: (x * y).tanh() + x, x=(-2, 2), y=(0, 1, 0.25))
    sliders = [c for c in w.children if isinstance(c, widgets.FloatSlider)]
    assert [s.description for s in sliders] == ["x", "y"]
    assert (sliders[0].min, sliders[0].max, sliders[0].value, sliders[1].value) == (-2, 2, 0, 0.25)
    picture = w.children[-1]
    before, source = picture.value, w.graph.source
    assert "<svg" in before and "data 0.2500" in source and style.SHARE in source  # x is reused: its shares show
    sliders[0].value = 1.5
    assert picture.value != before and "data 1.5000" in w.graph.source
    x_grad = 1 + 0.25 * (1 - math.tanh(1.5 * 0.25) ** 2)
    assert f"grad {style.fmt(x_grad)}" in w.graph.source
    assert "label=0.2500" in viz.explore(lambda x: x * 0.25, x=(0, 1)).graph.source  # local derivatives on edges


def test_explore_shows_an_error_in_place_of_the_picture_and_checks_its_ranges():
    pytest.importorskip("ipywidgets")
    w = viz.explore(lambda x: x.log(), x=(0.5, 2))
    w.children[0].value = 0.5
    assert "<svg" in w.children[-1].value
    for bad in ((1, 1), (2, 1), (0, float("inf")), (0, 1, 2), "ab", (0,)):
        with pytest.raises(ValueError):
            viz.explore(lambda x: x, x=bad)
    with pytest.raises(ValueError):
        viz.explore(lambda x: x)
    w = viz.explore(lambda x: 3.0, x=(0, 1))
    assert "needs f to return a Value" in w.children[-1].value


def test_explore_without_ipywidgets_says_which_extra_in_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # importing it now fails, as if not installed
    with pytest.raises(ImportError, match=r"^explore needs ipywidgets: pip install 'chainrule\[notebooks\]'$"):
        viz.explore(lambda x: x, x=(0, 1))


def _shown_grad(source: str, label: str) -> float:
    """The grad a picture's DOT shows for the node labelled `label`."""
    return float(re.search(rf"<B>{label}</B></TD>.*?<TD>grad (\S+)</TD>", source)[1])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(-2, 2), st.floats(-1, 1)), min_size=2, max_size=5))
def test_every_explore_frame_equals_value_and_grad_there_and_leaves_every_grad_alone(positions):
    pytest.importorskip("ipywidgets")
    w = parameter(0.7, label="w")
    w.grad = 0.125  # what the user's own backward left there

    def f(x, y):
        return (w * x + y).tanh() * w + x * y

    widget = viz.explore(f, x=(-2, 2), y=(-1, 1))
    sx, sy = widget.children[:2]
    for x, y in positions:
        sx.value, sy.value = x, y
        x, y = sx.value, sy.value  # where the sliders stand
        source = widget.graph.source
        value, (dx, dy) = ag.value_and_grad(f, argnums=(0, 1))(x, y)
        _, dw = ag.value_and_grad(lambda v, x=x, y=y: (v * x + y).tanh() * v + x * y)(w.data)
        assert f"data {style.fmt(value)}" in source
        for label, expected in (("x", dx), ("y", dy), ("w", dw)):
            assert _shown_grad(source, label) == pytest.approx(expected, rel=1e-3, abs=1e-4), (label, x, y)
        assert w.grad == 0.125


# ---- odd input: a highlight that is not a node, an op name DOT would misread ---------------------------------
@pytest.mark.parametrize("bad", [3, "x", 2.5, [3], {"x": 1}])
def test_highlight_of_something_not_a_node_is_refused_naming_highlight(bad):
    x = Value(1.0, label="x")
    with pytest.raises(TypeError, match=r"^highlight must be a Value of this graph or a list of them, got "):
        viz.draw(x * 2, highlight=bad)
    with pytest.raises(ValueError, match=r"^highlight: .* is not in this graph$"):
        viz.draw(x * 2, highlight=Value(2.0))


@pytest.mark.parametrize("name", ["back\\slash", "ends in \\", 'say "hi"', "both \\\" and '", "<b>&amp;</b>"])
def test_an_op_name_with_backslashes_or_quotes_makes_dot_that_dot_parses(name, tmp_path):
    import shutil
    import subprocess

    odd = extend.primitive(name, derivative=lambda ans, x: 2.0)(lambda x: 2.0 * x)
    y = odd(Value(1.5, label="x")) + 1.0
    y.backward()
    source = viz.draw(y, show_local_grads=True).source
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    done = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stderr.lower(), done.stderr
    shown = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", done.stdout)]
    assert name in shown  # the name as the user wrote it, not bent by escapes
