"""The command line has one home above nn (issue 18): `nn/cli/` uses autograd's public names only,
the grammar is `autograd.expr` with no argparse, and the old import names keep working."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _autograd_imports(path: Path) -> list:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("autograd"):
            found += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("autograd")]
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "nn" / "cli").glob("*.py")), ids=lambda p: p.name)
def test_the_command_uses_only_public_autograd_names(path):
    private = [n for n in _autograd_imports(path) if any(part.startswith("_") for part in n.split("."))]
    assert private == []


def test_the_expression_grammar_knows_nothing_of_argparse():
    tree = ast.parse((ROOT / "autograd" / "expr.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "argparse" not in imported and "sys" not in imported


def test_old_names_still_work():
    from autograd import cli as old_grammar
    from autograd import expr
    from nn import cli, doctor
    from nn.cli import doctor as new_doctor
    from nn.cli import train

    assert old_grammar.evaluate is expr.evaluate and old_grammar.ExpressionError is expr.ExpressionError
    assert cli.run is train.run and cli.TrainError is train.TrainError and cli.LIMITS is train.LIMITS
    assert doctor.run is new_doctor.run and doctor.collect is new_doctor.collect


def test_a_name_that_moved_above_nn_says_where_it_went():
    from autograd import cli

    with pytest.raises(AttributeError, match=r"^autograd.cli.Parser moved to nn.cli.args.Parser"):
        cli.Parser  # noqa: B018


def test_python_m_nn_cli_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "nn.cli", "graph", "x*x", "x=3"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0 and done.stdout.splitlines() == ["value = 9", "x.grad = 6"], done.stderr


def test_the_entry_point_names_the_package_main():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'chainrule = "nn.cli:main"' in text
    from nn.cli import main
    from nn.cli.main import main as main_main

    assert main is main_main
