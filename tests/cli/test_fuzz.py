"""Fuzzing the doors a user's input comes in by: model files, the command line, node labels.

Each test feeds random input and checks the documented outcome (docs/limits.md, "Limits and failure
behaviour"): `nn.load` returns a model or raises ValueError; `chainrule` returns 0, or 1 or 2
with one line on stderr, never a traceback; `autograd.draw` takes any str label and escapes
it, and refuses a label that is not a str with TypeError. Each runs in a temporary folder and
checks afterwards that no file outside it changed.
"""

import json
import math
import os
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value
from nn.cli import main

REPO = pathlib.Path(__file__).resolve().parents[2]
_SKIP = {".git", ".venv", ".hypothesis", ".pytest_cache", ".ruff_cache", "__pycache__", "build"}


def _fuzz(examples: int):
    """Hypothesis settings for one fuzz test: `examples` inputs, no per-example deadline."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _snapshot(tmp_path: pathlib.Path) -> dict:
    """Every file of the repository (name, size, mtime) and the names beside the temporary folder."""
    files = {}
    for folder, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in _SKIP and not d.endswith(".egg-info")]
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            files[os.path.join(folder, name)] = (info.st_size, info.st_mtime_ns)
    files["beside the temporary folder"] = sorted(os.listdir(tmp_path.parent))
    return files


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working folder inside tmp_path as the current directory; afterwards, nothing else changed."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _snapshot(tmp_path)
    yield work
    assert _snapshot(tmp_path) == before, "a file outside the temporary folder changed"


# ---- nn.load: a model, or a ValueError naming the file ----------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
SIZES = st.one_of(
    st.integers(-3, 6), st.integers(), st.floats(), st.text(max_size=3), st.none(), st.lists(st.integers(0, 4))
)


def _good() -> dict:
    model = nn.MLP(2, [3, 1], seed=0)
    return {
        "format": "chainrule.nn",
        "version": 1,
        "architecture": model._architecture(),
        "state_dict": model.state_dict(),
    }


@st.composite
def near_models(draw):
    """A good model file with one part replaced by something random: the likeliest kind of damage."""
    document = _good()
    where = draw(st.sampled_from(["top", "format", "version", "architecture", "arch field", "state_dict", "weight"]))
    if where == "top":
        return draw(JSON)
    if where in ("format", "version", "architecture", "state_dict"):
        document[where] = draw(JSON)
    elif where == "arch field":
        key = draw(st.sampled_from(["type", "nin", "nout", "nouts", "activation", "activations", "extra"]))
        document["architecture"][key] = draw(SIZES | JSON)
    else:
        key = draw(st.sampled_from([*document["state_dict"], "bogus"]))
        document["state_dict"][key] = draw(JSON | st.sampled_from([1e308, -0.0, 5e-324]))
    return document


def _load_outcome(path: pathlib.Path):
    try:
        model = nn.load(path)
    except ValueError as err:
        message = str(err)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        return None
    assert isinstance(model, nn.Module)
    assert all(math.isfinite(p.data) for p in model.parameters())
    return model


def test_random_bytes_to_load_raise_a_value_error_naming_the_file(sandbox):
    @_fuzz(150)
    @given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    def check(raw):
        path = sandbox / "model.json"
        path.write_bytes(raw)
        assert _load_outcome(path) is None

    check()


def test_random_json_documents_to_load_give_a_model_or_a_value_error(sandbox):
    @_fuzz(200)
    @given(JSON | near_models() | st.integers(1, 3000).map(lambda n: "[" * n + "]" * n))
    def check(document):
        path = sandbox / "model.json"
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        _load_outcome(path)

    check()


# ---- the command line: 0, or 1 or 2 with one line on stderr -----------------------------------------
def _ints_outside(low, high):
    return st.integers().filter(lambda n: not low <= n <= high).map(str)


JUNK = st.text(alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=["Cs"]), max_size=8)
NUMBER_TEXT = st.sampled_from(["nan", "inf", "-inf", "1e999", "", "1_000", "0x10", " 3 ", "1e3", "abc"])
TRAIN_VALUES = {  # option: (values that keep a run tiny, values it must refuse or that may fail)
    "--samples": (st.integers(8, 40).map(str), _ints_outside(8, 100_000) | NUMBER_TEXT),
    "--epochs": (st.integers(1, 2).map(str), _ints_outside(1, 10_000) | NUMBER_TEXT),
    "--batch-size": (st.integers(0, 64).map(str), _ints_outside(0, 100_000) | NUMBER_TEXT),
    "--hidden": (
        st.lists(st.integers(1, 4), min_size=1, max_size=3).map(lambda s: ",".join(map(str, s))),
        st.integers(1_000_001, 10**30).map(str)
        | st.lists(st.integers(-5, 0), min_size=1, max_size=3).map(lambda s: ",".join(map(str, s)))
        | st.just(",".join(["1"] * 101))
        | JUNK,
    ),
    "--lr": (st.floats(1e-4, 1.0).map(repr), st.floats().map(repr) | NUMBER_TEXT),
    "--noise": (st.floats(0.0, 10.0).map(repr), st.floats().map(repr) | NUMBER_TEXT),
    "--seed": (st.integers().map(str), NUMBER_TEXT),
    "--data": (st.sampled_from(["moons", "circles", "xor", "spiral"]), JUNK),
    "--loss": (st.sampled_from(["auto", "hinge", "bce", "cross_entropy"]), JUNK),
    "--optimizer": (st.sampled_from(["sgd", "adam"]), JUNK),
    "--activation": (st.sampled_from(["relu", "tanh", "sigmoid", "linear"]), JUNK),
    "--out": (st.sampled_from(["out", "new/deeper/out", "."]), st.sampled_from(["a file", "a file/below"])),
}
GRAPH_VALUES = {
    "-o": (st.sampled_from(["g.svg", "g.dot", "sub/g.dot"]), st.sampled_from(["g.jpg", "g", "a file/g.svg", "."])),
    "--step-through": (st.sampled_from(["s.html", "sub/s.html"]), st.sampled_from(["a file/s.html", "."])),
    "--rankdir": (st.sampled_from(["LR", "TB"]), JUNK),
    "--max-nodes": (st.integers(1, 600).map(str), st.integers(-5, 0).map(str) | NUMBER_TEXT),
    "--local-grads": (st.none(), st.none()),
}
EXPRESSIONS = st.sampled_from(
    [
        "x*y",
        "-x*y",
        "tanh(w*x + b)",
        "log(x)",
        "sqrt(x) - y",
        "x**y",
        "exp(x)*1e308",
        "x/y",
        "-(x)",
        "x",
        "-2*x",
        "relu(x)+abs(y)",
        "x+x+x+x+x+x",
    ]
)
EXPRESSION_TEXT = st.text(alphabet="xyb()+-*/. 0123456789elogtanhsqr,'_=", max_size=20)
ASSIGNMENT = st.tuples(
    st.sampled_from(["x", "y", "w", "b", "z", "exp", "1x", ""]), st.floats().map(repr) | NUMBER_TEXT
).map("=".join)


@st.composite
def options(draw, values: dict, max_size: int):
    """Options with values: half the time all of them valid, else mixed with bad values and junk words."""
    valid = draw(st.booleans())
    argv = []
    for _ in range(draw(st.integers(0, max_size))):
        kind = "option" if valid else draw(st.sampled_from(["option", "option", "junk", "flag"]))
        if kind == "option":
            name = draw(st.sampled_from(sorted(values)))
            good, bad = values[name]
            value = draw(good if valid or draw(st.booleans()) else bad)
            argv += [name] if value is None else [name, value]
        elif kind == "junk":
            argv.append(draw(JUNK))
        else:
            argv.append(draw(st.sampled_from(["--no-progress", "--local-grads", "--help", "-h", "--", "--bogus"])))
    return argv


@st.composite
def graph_arguments(draw):
    """An expression with a value for each of its variables (or, a third of the time, anything)."""
    if draw(st.integers(0, 2)):
        expression = draw(EXPRESSIONS)
        names = sorted(set(re.findall(r"\b[a-z]\b", expression)))
        assignments = [
            f"{n}={draw(st.floats(-3, 3).map(repr) | st.sampled_from(['0', '1e308', 'nan']))}" for n in names
        ]
    else:
        expression, assignments = draw(EXPRESSION_TEXT), draw(st.lists(ASSIGNMENT, max_size=4))
    return ["graph", *draw(options(GRAPH_VALUES, 3)), expression, *assignments]


def _cli_outcome(argv, capsys) -> int:
    try:
        status = main(argv)
    except SystemExit as done:  # argparse: --help (0) or a usage mistake (2)
        status = done.code
    out, err = capsys.readouterr()
    assert status in (0, 1, 2), (argv, status)
    assert "Traceback" not in err, err
    if status:  # one line saying why, after at most a warning (graph: an inf or nan it computed)
        *before, last = err.splitlines() or [""]
        assert last.startswith("chainrule") and ": error: " in last and err.endswith("\n"), (argv, err)
        assert all(": warning: " in line for line in before) and len(before) <= 1, (argv, err)
    return status


def test_random_train_arguments_run_or_fail_in_one_line(sandbox, capsys):
    (sandbox / "a file").write_text("not a folder")

    @_fuzz(40)  # about half of them train (a second each at most): the slowest fuzz test here
    @given(options(TRAIN_VALUES, 5))
    def check(extra):
        base = ["train", "--no-progress", "--epochs", "1", "--samples", "16", "--hidden", "2", "--out", "out"]
        status = _cli_outcome(base + extra, capsys)
        assert (sandbox / "a file").read_text() == "not a folder"
        assert status != 0 or "--help" in extra or "-h" in extra or (sandbox / "out").exists() or "--out" in extra

    check()


def test_random_graph_arguments_run_or_fail_in_one_line(sandbox, capsys):
    (sandbox / "a file").write_text("not a folder")

    @_fuzz(80)
    @given(graph_arguments())
    def check(argv):
        _cli_outcome(argv, capsys)
        assert (sandbox / "a file").read_text() == "not a folder"

    check()


# ---- draw: any str label is escaped; anything else is a TypeError --------------------------------
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def _graph(labels):
    x = Value(1.5, label=labels[0])
    w = Value(-0.5, label=labels[1])
    y = (w * x).tanh()
    y.label = labels[2]
    y.backward()
    return y


def _assert_labels_escaped(source: str) -> None:
    for cell in re.findall(r"<B>(.*?)</B>", source, flags=re.S):
        assert "<" not in cell and ">" not in cell and '"' not in cell, cell
        assert "&" not in _ENTITY.sub("", cell), cell


def test_random_labels_to_draw_are_escaped_in_the_dot_source():
    @_fuzz(150)
    @given(st.lists(st.text(max_size=30), min_size=3, max_size=3), st.booleans())
    def check(labels, local_grads):
        source = autograd.draw(_graph(labels), show_local_grads=local_grads).source
        assert isinstance(source, str) and source.startswith("digraph")
        assert source.count("<B>") == sum(1 for label in labels if label)
        _assert_labels_escaped(source)

    check()


def test_a_label_that_is_not_a_str_is_a_type_error():
    @_fuzz(30)
    @given(st.none() | st.integers() | st.binary() | st.lists(st.text()) | st.floats())
    def check(label):
        with pytest.raises(TypeError, match="label must be a str"):
            Value(1.0, label=label)
        v = Value(1.0)
        with pytest.raises(TypeError, match="label must be a str"):
            v.label = label

    check()


PRINTABLE = st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Co", "Cn"]), max_size=20)


def test_random_printable_labels_render_with_dot():
    @_fuzz(5)
    @given(st.lists(PRINTABLE, min_size=3, max_size=3))
    def check(labels):
        assert autograd.draw(_graph(labels)).pipe(format="svg").startswith(b"<?xml")

    check()
