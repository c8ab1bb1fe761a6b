"""The engine has one observer hook and knows no observer: compile's trace and anomaly mode both
install through it, and may watch at once (issue 19)."""

import ast
import math
from pathlib import Path

import pytest

import autograd as ag
from autograd import engine
from autograd.anomaly import AnomalyMode, detecting


def test_the_engine_keeps_one_slot_and_names_no_mode():
    """No import of anomaly mode or compile, and no name in the engine's code that mentions either."""
    tree = ast.parse(Path(engine.__file__).read_text(encoding="utf-8"))
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if "anomaly" in m or "compile" in m}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not {n for n in names if "anomaly" in n.lower() or "trace" in n.lower()}
    assert not hasattr(engine._state, "anomaly") and issubclass(AnomalyMode, engine.Observer)


def test_anomaly_mode_installs_through_the_hook_and_leaves():
    assert engine.observers() == () and not detecting()
    with ag.detect_anomaly():
        assert [type(o) for o in engine.observers()] == [AnomalyMode] and detecting()
        with ag.detect_anomaly():  # nested: one mode
            assert len(engine.observers()) == 1
    assert engine.observers() == ()


def test_a_trace_and_anomaly_mode_watch_at_once():
    seen = []

    class Spy(engine.Observer):
        def saw(self, what, node, other, result):
            seen.append(what)

    with engine.observing(Spy()), ag.detect_anomaly():
        x = ag.Value(2.0)
        y = x * 3.0
        assert y > 1.0
        with pytest.raises(FloatingPointError, match="'log'"):
            ag.log(x - 2.0)
    assert {"leaf", "observer", "made", ">"} <= set(seen)


def test_detect_anomaly_inside_a_compiled_function_runs_it_eagerly():
    """The replay could not check nodes it never makes: a trace that sees detect_anomaly() entered
    inside f gives up, and every call runs eagerly, so the inf is caught where eager catches it."""

    def f(x):
        with ag.detect_anomaly():
            return ag.log(x) * 2.0

    g = ag.compile(f)
    assert g(2.0) == ag.value_and_grad(f)(2.0)
    with pytest.raises(FloatingPointError, match="'log'"):
        g(0.0)
    assert g(3.0) == ag.value_and_grad(f)(3.0) and g.stats["eager"] >= 2 and math.isfinite(g(3.0)[0])
