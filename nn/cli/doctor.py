"""`chainrule doctor`: one line per thing chainrule relies on, to paste into a bug report.

Modelled on PyTorch's ``collect_env``: versions and locations, what is missing and how to get
it. Exit status 0 when the core works (the engine computes a gradient, `nn` imports, graphviz
and tqdm import, no HIPS autograd clash), 1 otherwise; the pictures, plots and notebooks are
optional, so their absence is reported but is no failure.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import math
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile

import autograd
from autograd import Value, clash
from autograd.extras import hint

from ..module import MLP

__all__ = ["DESCRIPTION", "EXIT_STATUS", "Check", "add_arguments", "collect", "run"]

DESCRIPTION = (
    "Print one line for each thing chainrule relies on (its version and location, Python, Graphviz's "
    "dot, matplotlib, tqdm, NumPy, scikit-learn, PyTorch and whether it is the CPU or CUDA build, "
    "Jupyter, JupyterLab, the HIPS autograd clash, the notebooks' kernel). "
    "Exit status 0 when the core works, 1 when it does not; optional parts that are missing are "
    "reported with how to get them, and do not fail it."
)
EXIT_STATUS = "exit status: 0 the core works; 1 it does not (the lines marked FAIL say why); 2 a usage mistake."
_WIDTH = 16  # of the name column
_TIMEOUT = 60  # seconds for the kernel's Python to import chainrule


class Check:
    """One line of the report: a name, what was found, and whether the core depends on it being ok."""

    def __init__(self, name: str, ok: bool, detail: str, core: bool = False):
        self.name, self.ok, self.detail, self.core = name, ok, detail, core

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.core else "--  ")
        return f"{mark} {self.name:<{_WIDTH}} {self.detail}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`chainrule doctor` takes no options beyond --help."""


def run(args=None) -> int:
    """Print the report; return 0 when the core works, else 1."""
    checks = collect()
    for check in checks:
        print(check.line())
    broken = [c.name for c in checks if c.core and not c.ok]
    if broken:
        print(f"the core does not work: {', '.join(broken)} (see above)")
        return 1
    print("the core works" + ("" if all(c.ok for c in checks) else "; the lines marked -- are optional extras"))
    return 0


def collect() -> list[Check]:
    """Every line of the report, in order."""
    return [
        _chainrule(),
        _python(),
        _core_engine(),
        _module("graphviz", "graphviz", core=True),
        _dot(),
        _module("tqdm", "tqdm", core=True),
        _module("matplotlib", "matplotlib"),
        _module("numpy", "NumPy"),
        _module("sklearn", "scikit-learn"),
        _torch(),
        _jupyter(),
        _jupyterlab(),
        _hips(),
        _kernel(),
    ]


def _version(dist: str):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _chainrule() -> Check:
    root = pathlib.Path(clash.__file__).resolve().parent.parent
    version = _version("chainrule")
    where = f"at {root} (autograd/, nn/)"
    if version is None:
        return Check("chainrule", True, f"not installed as a package, imported from the source tree {where}")
    return Check("chainrule", True, f"{version} {where}")


def _python() -> Check:
    ok = sys.version_info >= (3, 10)
    detail = f"{platform.python_implementation()} {platform.python_version()} at {sys.executable}"
    return Check("Python", ok, detail if ok else detail + ": chainrule needs Python >= 3.10", core=True)


def _core_engine() -> Check:
    """Backpropagate through tanh(w*x + b) and an MLP, and compare with the closed form."""
    try:
        w, x, b = Value(-0.5), Value(2.0), Value(0.1)
        y = (w * x + b).tanh()
        y.backward()
        expected = x.data * (1 - math.tanh(-0.9) ** 2)
        MLP(2, [4, 1], seed=0)([0.5, -1.0]).backward()
    except Exception as err:  # noqa: BLE001 - any failure here is the report's answer
        return Check("engine", False, f"{type(err).__name__}: {err}", core=True)
    if abs(w.grad - expected) > 1e-12:
        return Check("engine", False, f"d tanh(w*x+b)/dw = {w.grad!r}, expected {expected!r}", core=True)
    return Check(
        "engine", True, "backward() gives the closed-form gradient; nn builds and backpropagates an MLP", core=True
    )


def _module(name: str, label: str, core: bool = False) -> Check:
    try:
        module = importlib.import_module(name)
    except ImportError:
        how = "pip install chainrule (it is a core dependency)" if core else hint(name)
        return Check(label, False, f"not installed: {how}", core=core)
    version = getattr(module, "__version__", None) or _version(name) or "?"
    return Check(label, True, f"{version} at {pathlib.Path(module.__file__).parent}", core=core)


def _dot() -> Check:
    path = shutil.which("dot")
    if path is None:
        return Check(
            "Graphviz dot",
            False,
            "not on PATH: pictures cannot be rendered; install Graphviz "
            "('sudo apt-get install graphviz', 'brew install graphviz')",
        )
    try:
        done = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as err:
        return Check("Graphviz dot", False, f"{path} does not run: {err}")
    version = (done.stderr or done.stdout).strip().splitlines()
    return Check("Graphviz dot", done.returncode == 0, f"{version[0] if version else '?'} at {path}")


def _jupyter() -> Check:
    found, missing = [], []
    for name in ("ipykernel", "ipywidgets", "nbclient", "nbformat"):
        version = _version(name)
        (found if version else missing).append(f"{name} {version}" if version else name)
    if missing:
        return Check(
            "Jupyter",
            False,
            f"{', '.join(missing)} not installed: {hint('ipykernel')}"
            + (f" (found {', '.join(found)})" if found else ""),
        )
    return Check("Jupyter", True, ", ".join(found) + " (progress bars show as widgets)")


def _torch() -> Check:
    """PyTorch's version and build: CPU-only (what `make` installs) or CUDA (and whether a GPU is there)."""
    try:
        import torch
    except ImportError:
        return Check("PyTorch", False, f"not installed: {hint('torch')}")
    except Exception as err:  # noqa: BLE001 - a broken install is the report's answer
        return Check("PyTorch", False, f"does not import: {type(err).__name__}: {err}")
    cuda = getattr(torch.version, "cuda", None)
    if cuda is None:
        build = "CPU-only build"
    else:
        try:
            gpu = "a GPU is available" if torch.cuda.is_available() else "no GPU found"
        except Exception:  # noqa: BLE001
            gpu = "GPU state unknown"
        build = f"CUDA {cuda} build ({gpu})"
    return Check("PyTorch", True, f"{torch.__version__}, {build}, at {pathlib.Path(torch.__file__).parent}")


def _jupyterlab() -> Check:
    version = _version("jupyterlab")
    if version is None:
        return Check(
            "JupyterLab",
            False,
            "not installed: pip install 'chainrule[notebooks]' (to open the notebooks in a browser)",
        )
    return Check("JupyterLab", True, f"{version} (jupyter lab notebooks/)")


def _hips() -> Check:
    """chainrule imported, so HIPS autograd is not mixed into our folder; it may still sit elsewhere on sys.path."""
    folder = pathlib.Path(autograd.__file__).parent
    try:
        dist = importlib.metadata.distribution("autograd")
    except importlib.metadata.PackageNotFoundError:
        return Check(
            "HIPS autograd", True, f"not installed: the import name 'autograd' is chainrule's ({folder})", core=True
        )
    where = pathlib.Path(dist.locate_file("autograd"))
    return Check(
        "HIPS autograd",
        True,
        f"{dist.version} is also installed, in {where}, and hidden by chainrule's "
        f"{folder}; both use the import name 'autograd': keep them in separate "
        f"virtual environments",
        core=True,
    )


def _kernel() -> Check:
    """Whether the Python that runs the notebooks (the python3 kernel) imports this chainrule."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Check("notebook kernel", False, f"jupyter_client not installed: {hint('ipykernel')}")
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return Check("notebook kernel", False, f"no 'python3' kernel: {hint('ipykernel')}")
    python = spec.argv[0]
    if python in ("python", "python3", f"python3.{sys.version_info[1]}"):
        python = sys.executable  # what jupyter_client runs for these names: the Python that starts the kernel
    code = "import autograd, nn; print(autograd.__file__)"
    try:  # from a neutral folder, so a source tree in the current one cannot stand in for an install
        done = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=_TIMEOUT, cwd=tempfile.gettempdir()
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return Check("notebook kernel", False, f"python3 kernel ({python}) does not run: {err}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return Check("notebook kernel", False, f"python3 kernel ({python}) cannot import chainrule: {last}")

    theirs = pathlib.Path(done.stdout.strip()).resolve()
    ours = pathlib.Path(autograd.__file__).resolve()
    same = "" if theirs == ours else f" (a different copy: {theirs.parent})"
    return Check("notebook kernel", not same, f"python3 kernel ({python}) imports chainrule{same}")
