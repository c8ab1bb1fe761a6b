"""The house has no circles: every import of autograd/ and nn/ (read with `ast`, function-level ones
included) points to the same floor or one below, `autograd` never imports `nn`, and an op added to
the op table reaches `autograd`'s exports, the command's grammar and its help."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The floors of docs/layout.md: a module may import its own floor or lower ones.
FLOORS = {
    "autograd._ieee": 0,
    "autograd._optional": 0,
    "autograd._clash": 0,
    "autograd.extras": 0,
    "autograd.clash": 0,
    "autograd.engine": 0,
    "autograd.extend": 1,
    "autograd.ops": 1,
    "autograd.functional": 1,
    "autograd.pytree": 1,
    "autograd.gradcheck": 1,
    "autograd.anomaly": 1,
    "autograd.compile": 2,
    "autograd.compile.signals": 2,
    "autograd.compile.ir": 2,
    "autograd.compile.symbols": 2,
    "autograd.compile.names": 2,
    "autograd.compile.pytree": 2,
    "autograd.compile.trace": 2,
    "autograd.compile.body": 2,
    "autograd.compile.emit": 2,
    "autograd.compile.lift": 2,
    "autograd.compile.arrays": 2,
    "autograd.compile.dispatch": 2,
    "autograd.viz": 2,
    "autograd.viz.style": 2,
    "autograd.viz.marks": 2,
    "autograd.viz.picture": 2,
    "autograd.viz.scene": 2,
    "autograd.viz.graph": 2,
    "autograd.viz.steps": 2,
    "autograd.viz.sliders": 2,
    "autograd.viz.player": 2,
    "autograd.expr": 2,
    "autograd.cli": 2,  # old name of autograd.expr
    "autograd": 2,  # the package: exports floors 0-2
    "nn.activations": 3,
    "nn.init": 3,
    "nn.serialize": 3,
    "nn.module": 3,
    "nn.losses": 3,
    "nn.optim": 3,
    "nn.datasets": 3,
    "nn.train": 3,
    "nn.reference": 3,
    "nn.plots": 3,
    "nn.pytorch": 3,
    "nn.movie": 3,
    "nn": 3,
    "nn.doctor": 4,  # old name of nn.cli.doctor
    "nn.cli": 4,
    "nn.cli.__main__": 4,
    "nn.cli.main": 4,
    "nn.cli.args": 4,
    "nn.cli.files": 4,
    "nn.cli.graph": 4,
    "nn.cli.train": 4,
    "nn.cli.train_options": 4,
    "nn.cli.doctor": 4,
}


def _modules() -> dict:
    """module name -> path, for every .py file of the two packages."""
    found = {}
    for package in ("autograd", "nn"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, known) -> set:
    """The project modules `name` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            for alias in node.names:  # `from . import ops` imports a module; `from .engine import Value`, a name
                sub = f"{module}.{alias.name}"
                targets.add(sub if sub in known else module)
    return {t for t in targets if t in known and t != name}


MODULES = _modules()
GRAPH = {name: _imports(name, path, MODULES) for name, path in MODULES.items()}


def test_every_module_has_a_floor():
    assert sorted(set(MODULES) - set(FLOORS)) == [], "give each new module a floor in FLOORS (and docs/layout.md)"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_to_the_same_floor_or_lower(name):
    upward = {t: FLOORS.get(t) for t in GRAPH[name] if FLOORS.get(t, 0) > FLOORS.get(name, 0)}
    assert upward == {}, f"{name} (floor {FLOORS.get(name)}) imports upward"


def test_autograd_never_imports_nn():
    assert {
        (m, t) for m, ts in GRAPH.items() if m.startswith("autograd") for t in ts if t.split(".")[0] == "nn"
    } == set()


def test_the_engine_imports_nothing_of_the_project_but_ieee_floats():
    assert GRAPH["autograd.engine"] <= {"autograd._ieee"}


def test_the_import_graph_has_no_cycle():
    """Depth-first search for a back edge; package __init__ files count as modules too."""
    state, cycle = {}, []

    def visit(m, path):
        state[m] = "open"
        for t in sorted(GRAPH[m]):
            if t.startswith(m + "."):  # a package importing its own submodules is how packages work
                continue
            if state.get(t) == "open":
                cycle.append(path + [t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert cycle == []


def test_the_check_sees_a_planted_upward_import(tmp_path):
    """The walker is not blind: an engine that imported viz would be caught."""
    planted = tmp_path / "engine.py"
    planted.write_text("from . import viz\n\ndef f():\n    from .functional import grad\n")
    assert _imports("autograd.engine", planted, MODULES) == {"autograd.viz", "autograd.functional"}


# ---- an op is added in one place ------------------------------------------------------------------
def test_an_op_added_to_the_table_is_exported_accepted_by_the_command_and_listed_in_its_help(capsys):
    import autograd
    from autograd import expr, extend, ops

    softplus = extend.primitive("softplus", derivative=lambda ans, x: autograd.sigmoid(x))(
        lambda x: autograd.log(1.0 + autograd.exp(x))
    )
    ops.export("softplus", softplus)
    try:
        importlib.reload(autograd)
        assert "softplus" in autograd.__all__ and autograd.softplus is softplus
        assert "softplus" in expr.functions()
        root, variables = expr.evaluate("softplus(x) * 2", {"x": 0.5})
        root.backward()
        assert variables["x"].grad == pytest.approx(2 * autograd.sigmoid(0.5))
        from nn.cli import main

        with pytest.raises(SystemExit):
            main(["graph", "--help"])
        assert "softplus" in capsys.readouterr().out
    finally:
        del ops.PUBLIC["softplus"]
        importlib.reload(autograd)
    assert "softplus" not in autograd.__all__


def test_a_fresh_interpreter_imports_autograd_without_loading_nn():
    code = "import sys, autograd; print(sorted(m for m in sys.modules if m == 'nn' or m.startswith('nn.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
