"""nn.cli.graph (grammar: autograd.expr): `chainrule graph` computes and draws what it should, and refuses everything else in one line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, expr
from nn.cli import main

NEURON = ["graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1"]


def _chainrule(*args, cwd, env=None):
    """Run the command line in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "nn.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def _one_line_error(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.startswith("chainrule") and "Traceback" not in stderr


# ---- what a valid expression gives ------------------------------------------------------------------
def test_prints_the_value_and_each_variables_gradient(capsys):
    assert main(NEURON) == 0
    w, x, b = Value(-0.5), Value(2.0), Value(0.1)
    y = (w * x + b).tanh()
    y.backward()
    assert capsys.readouterr().out.splitlines() == [
        f"value = {y.data:.6g}",
        f"w.grad = {w.grad:.6g}",
        f"x.grad = {x.grad:.6g}",
        f"b.grad = {b.grad:.6g}",
    ]


@pytest.mark.parametrize(
    "suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".dot", b"digraph")]
)
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
    for argv, words in [
        (["--help"], ["graph", "train"]),
        (
            ["graph", "--help"],
            ["-o", "--local-grads", "--step-through", "--rankdir", "--max-nodes", "exp log sqrt tanh"],
        ),
    ]:
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


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 10_000 + "x" + ")" * 10_000,
        "-" * 10_000 + "x",
        "x+" * 10_000 + "x",
        "x**" * 10_000 + "x",
        "tanh(" * 10_000 + "x" + ")" * 10_000,
        "-(" * 500 + "x" + ")" * 500,
    ],
)
def test_deep_nesting_fails_cleanly_even_without_the_length_limit(expression):
    with pytest.raises(expr.ExpressionError, match="nest"):
        expr.evaluate(expression, {"x": 1.0}, max_length=None)


@pytest.mark.parametrize(
    "argv, message",
    [
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
        (["train", "--lr", "-1"], "--lr must be a finite number > 0"),
        (["train", "--epochs", "0"], "--epochs must be between 1 and 10000"),
        (["graph", "x*y", "x=inf", "y=1"], "bad assignment 'x=inf': the value must be a finite number"),
        (["graph", "x*y", "x=1", "y=nan"], "bad assignment 'y=nan': the value must be a finite number"),
        (["train", "--data", "spiral", "--loss", "hinge"], "use --loss cross_entropy"),
        ([], "required"),
    ],
)
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


@pytest.mark.parametrize("option", ["-o", "--step-through"])
def test_an_output_below_a_file_or_naming_a_folder_is_refused_before_any_work(tmp_path, capsys, option):
    blocker = tmp_path / "file"
    blocker.write_text("")
    suffix = ".dot" if option == "-o" else ".html"
    folder = tmp_path / f"pictures{suffix}"
    folder.mkdir()
    for path, says in [(blocker / f"g{suffix}", f"{blocker} is not a directory"), (folder, "is a directory")]:
        assert main([*NEURON, option, str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and _one_line_error(captured.err) and says in captured.err, captured.err


def test_an_output_that_fails_while_writing_fails_in_one_line_with_status_1(tmp_path, capsys, monkeypatch):
    def disk_full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    assert main([*NEURON, "-o", str(tmp_path / "g.dot")]) == 1
    err = capsys.readouterr().err
    assert _one_line_error(err) and "No space left on device" in err


# ---- an expression may start with '-' -------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, lines",
    [
        (["graph", "-x*y", "x=1", "y=2"], ["value = -2", "x.grad = -2", "y.grad = -1"]),
        (["graph", "-2*x", "x=3"], ["value = -6", "x.grad = -2"]),
        (["graph", "-x", "x=3"], ["value = -3", "x.grad = -1"]),
        (["graph", "-tanh(x)", "x=0"], ["value = -0", "x.grad = -1"]),
        (["graph", "--rankdir", "TB", "-x*y", "x=1", "y=2"], ["value = -2", "x.grad = -2", "y.grad = -1"]),
        (["graph", "--", "-x*y", "x=1", "y=2"], ["value = -2", "x.grad = -2", "y.grad = -1"]),
    ],
)
def test_an_expression_may_start_with_a_minus_sign(capsys, argv, lines):
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_short_options_keep_their_meaning_next_to_a_dash_expression(tmp_path, capsys):
    assert main(["graph", "-x*y", "x=1", "y=2", f"-o{tmp_path / 'a.dot'}"]) == 0
    assert main(["graph", "-o", str(tmp_path / "b.dot"), "-x*y", "x=1", "y=2"]) == 0
    assert (tmp_path / "a.dot").read_text().startswith("digraph") and (tmp_path / "b.dot").exists()
    with pytest.raises(SystemExit) as done:
        main(["graph", "x", "x=1", "--bogus"])
    assert done.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err


# ---- inf and nan: printed, with one warning naming the first operation that made one -------------
@pytest.mark.parametrize(
    "argv, printed, op",
    [
        (["graph", "log(x)*y", "x=0", "y=2"], ["value = -inf", "x.grad = inf", "y.grad = -inf"], "'log'"),
        (["graph", "sqrt(x)+y", "x=0", "y=2"], ["value = 2", "x.grad = inf", "y.grad = 1"], "'sqrt'"),
        (["graph", "exp(x)*y", "x=1000", "y=1"], ["value = inf", "x.grad = inf", "y.grad = inf"], "'exp'"),
    ],
)
def test_a_non_finite_result_prints_one_warning_naming_the_first_op_and_exits_0(capsys, argv, printed, op):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == printed
    assert captured.err.count("\n") == 1 and captured.err.startswith("chainrule graph: warning: ")
    assert "; detect_anomaly finds it first where " in captured.err and op in captured.err, captured.err


def test_a_finite_result_prints_no_warning(capsys):
    assert main(["graph", "log(x)", "x=2"]) == 0
    assert capsys.readouterr().err == ""


def test_the_evaluator_computes_with_engine_functions_and_labels_variables():
    root, variables = expr.evaluate(
        "sigmoid(a) * relu(b) - abs(-a) / sqrt(b) + log(exp(+a)) ** 2", {"a": 0.5, "b": 4.0}
    )
    assert [v.label for v in variables.values()] == ["a", "b"]
    a, b = 0.5, 4.0
    expected = 1 / (1 + 2.718281828459045**-a) * b - a / b**0.5 + a**2
    assert root.data == pytest.approx(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="x()+-*/%. 0123456789eaplogtnhsqrbc,[]'\"_:=<>!@", max_size=30))
def test_any_text_either_evaluates_or_fails_with_an_expression_error(text):
    try:
        root, _ = expr.evaluate(text, {"x": 1.5})
    except expr.ExpressionError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(root, Value)


@pytest.mark.parametrize("breaker", ["\x85", "\u2028", "\u2029", "\x1c", "\x0b"])
def test_an_argument_holding_any_line_break_str_splitlines_knows_is_refused_in_one_line(breaker, capsys):
    """U+0085 (NEL) and the Unicode separators break lines too; the fuzz suite found NEL slipping through."""
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--no-progress", f"a{breaker}b"])
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
