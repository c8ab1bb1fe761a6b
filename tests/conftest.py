"""Shared test settings: hypothesis profiles sized for a 2-core CI machine, and the test files that
need an extra, left out (and named in the header) where that extra is not installed."""

import importlib.util

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# import name -> the test files that cannot be collected without it (a core-only install has neither)
NEEDS = {
    "numpy": ["nn/test_closed_forms.py", "nn/test_datasets.py", "nn/test_losses.py", "nn/test_reference.py"],
}
MISSING = sorted(name for name in NEEDS if importlib.util.find_spec(name) is None)
collect_ignore = [path for name in MISSING for path in NEEDS[name]]


def pytest_report_header(config):
    if MISSING:
        return f"left out for want of {', '.join(MISSING)}: {', '.join(collect_ignore)}"


def pytest_runtest_setup(item):
    """`@pytest.mark.needs("numpy", ...)`: skipped, naming what is missing, where an extra is not installed."""
    for mark in item.iter_markers("needs"):
        missing = [name for name in mark.args if importlib.util.find_spec(name) is None]
        if missing:
            pytest.skip(f"needs {', '.join(missing)} (an extra that is not installed)")
