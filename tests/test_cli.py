"""autograd.cli: `chainrule graph` computes and draws what it should, and refuses everything else in one line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, cli
from nn.cli import main

NEURON = ["graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1"]


def _chainrule(*args, cwd, env=None):
    """Run the command line in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "nn.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def _one_line_error(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.startswith("chainrule") and "Traceback" not in stderr


# ---- what a valid expression gives ------------------------------------------------------------------
def test_prints_the_value_and_each_variables_gradient(capsys):
    assert main(NEURON) == 0
    w, x, b = Value(-0.5), Value(2.0), Value(0.1)
    y = (w * x + b).tanh()
    y.backward()
    assert capsys.readouterr().out.splitlines() == [
        f"value = {y.data:.6g}", f"w.grad = {w.grad:.6g}", f"x.grad = {x.grad:.6g}", f"b.grad = {b.grad:.6g}",
    ]  # fmt: skip


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".dot", b"digraph")])
def test_a_valid_expression_writes_each_format(tmp_path, capsys, suffix, magic):
    out = tmp_path / "pictures" / f"graph{suffix}"
    assert main([*NEURON, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)
    assert f"wrote {out}" in capsys.readouterr().out


def test_local_grads_and_step_through_options(tmp_path):
    out, page = tmp_path / "g.dot", tmp_path / "steps.html"
    assert main(["graph", "x*x + 3*x", "x=2", "--local-grads", "-o", str(out), "--step-through", str(page)]) == 0
    assert re.search(r"(label=\"?|>)4\.0000\b", out.read_text(encoding="utf-8"))  # d(x·x)/dx = 2x on the edge
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 1 and text.count("step ") >= 5  # one picture; frames x, 3, x*x, 3*x, the sum


def test_python_dash_m_and_the_installed_script_both_run(tmp_path):
    result = _chainrule(*NEURON, "-o", "g.svg", cwd=tmp_path)
    assert result.returncode == 0 and "w.grad = " in result.stdout and (tmp_path / "g.svg").exists()
    script = Path(sys.executable).parent / "chainrule"
    if script.exists():
        installed = subprocess.run([str(script), "graph", "x*y", "x=2", "y=3"], capture_output=True, text=True)
        assert installed.returncode == 0 and "x.grad = 3" in installed.stdout


def test_help_explains_each_option(capsys):
    for argv, words in [(["--help"], ["graph", "train"]),
                        (["graph", "--help"], ["-o", "--local-grads", "--step-through", "--rankdir", "--max-nodes", "exp log sqrt tanh"])]:  # fmt: skip
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert all(word in text for word in words)


# ---- what is refused -----------------------------------------------------------------------------------
HOSTILE = [
    "__import__('os').system('touch PWNED')",
    "x.__class__",
    "open('PWNED', 'w')",
    "(lambda: 1)()",
    "[x for x in ()]",
    "'a' * 3",
    "(" * 10_000 + "x" + ")" * 10_000,
    "-" * 10_000 + "x",
    "tanh(" * 10_000 + "x" + ")" * 10_000,
]


@pytest.mark.parametrize("expression", HOSTILE, ids=lambda e: e if len(e) < 40 else f"{e[:8]}...deep")
def test_hostile_expressions_exit_nonzero_with_one_line_and_run_nothing(tmp_path, expression):
    result = _chainrule("graph", expression, "x=1", "-o", "g.svg", cwd=tmp_path)
    assert result.returncode != 0
    assert _one_line_error(result.stderr), result.stderr
    assert result.stdout == ""  # nothing was evaluated, so nothing printed
    assert list(tmp_path.iterdir()) == []  # and nothing written or run


@pytest.mark.parametrize("expression", [
    "(" * 10_000 + "x" + ")" * 10_000, "-" * 10_000 + "x", "x+" * 10_000 + "x", "x**" * 10_000 + "x",
    "tanh(" * 10_000 + "x" + ")" * 10_000, "-(" * 500 + "x" + ")" * 500,
])  # fmt: skip
def test_deep_nesting_fails_cleanly_even_without_the_length_limit(expression):
    with pytest.raises(cli.ExpressionError, match="nest"):
        cli.evaluate(expression, {"x": 1.0}, max_length=None)


@pytest.mark.parametrize("argv, message", [
    (["graph", "x*y", "x=1"], "y has no value"),
    (["graph", "x", "x=abc"], "not a number"),
    (["graph", "x", "x"], "expected name=number"),
    (["graph", "x", "1x=2"], "expected name=number"),
    (["graph", "x", "x=1", "z=2"], "z=2 is not used"),
    (["graph", "x", "x=1", "x=2"], "x is assigned twice"),
    (["graph", "x", "exp=1"], "exp is a function"),
    (["graph", "x +", "x=1"], "syntax error"),
    (["graph", "exp", "x=1"], "exp is a function"),
    (["graph", "exp(x, x)", "x=1"], "exactly one argument"),
    (["graph", "x // 2", "x=1"], "'//'"),
    (["graph", "3 * 4"], "no variables"),
    (["graph", "x", "x=1", "-o", "g.jpg"], "picture format"),
    (["graph", "x" + "+x" * 10, "x=1", "--max-nodes", "5"], "more than --max-nodes 5"),
    (["graph", "x" * 3000, "x=1"], "the limit is 2000"),
    (["graph", "x", "x=1", "--bogus"], "unrecognized arguments"),
    (["train", "--hidden", "0"], "--hidden sizes must be at least 1"),
    (["train", "--hidden", "16,x"], "--hidden takes whole numbers"),
    (["train", "--data", "nope"], "invalid choice: 'nope'"),
    (["train", "--lr", "-1"], "--lr must be a positive number"),
    (["train", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "--data", "spiral", "--loss", "hinge"], "use --loss cross_entropy"),
    ([], "required"),
])  # fmt: skip
def test_mistakes_exit_2_with_one_line_naming_the_problem(capsys, argv, message):
    try:
        status = main(argv)
    except SystemExit as done:  # argparse's own errors
        status = done.code
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert _one_line_error(captured.err) and message in captured.err, captured.err


def test_without_dot_pictures_fail_in_one_line_saying_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` anywhere
    assert main([*NEURON, "-o", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert _one_line_error(err) and "install Graphviz" in err
    assert main([*NEURON, "-o", str(tmp_path / "g.dot")]) == 0  # DOT text needs no dot


def test_an_unwritable_output_fails_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([*NEURON, "-o", str(blocker / "g.dot")]) == 1
    assert _one_line_error(capsys.readouterr().err)


def test_the_evaluator_computes_with_engine_functions_and_labels_variables():
    root, variables = cli.evaluate("sigmoid(a) * relu(b) - abs(-a) / sqrt(b) + log(exp(+a)) ** 2", {"a": 0.5, "b": 4.0})
    assert [v.label for v in variables.values()] == ["a", "b"]
    a, b = 0.5, 4.0
    expected = 1 / (1 + 2.718281828459045**-a) * b - a / b**0.5 + a**2
    assert root.data == pytest.approx(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="x()+-*/%. 0123456789eaplogtnhsqrbc,[]'\"_:=<>!@", max_size=30))
def test_any_text_either_evaluates_or_fails_with_an_expression_error(text):
    try:
        root, _ = cli.evaluate(text, {"x": 1.5})
    except cli.ExpressionError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(root, Value)
