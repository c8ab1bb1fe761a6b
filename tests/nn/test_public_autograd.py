"""`nn` uses `autograd` as any user would (issue 18): through public names only, read from every
import of every `nn` module with `ast`; the old private module names keep working as aliases."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def private_uses(path: Path) -> list:
    """(line, what) for each import of a private autograd module or name in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("autograd")]
            found += [(node.lineno, n) for n in names if any(part.startswith("_") for part in n.split("."))]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("autograd"):
            module_private = any(part.startswith("_") for part in node.module.split("."))
            found += [
                (node.lineno, f"{node.module}.{a.name}") for a in node.names if module_private or a.name.startswith("_")
            ]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            text = node.args[0].value  # importlib.import_module("autograd._x")
            if isinstance(text, str) and text.startswith("autograd.") and "._" in f".{text.partition('.')[2]}":
                found.append((node.lineno, text))
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "nn").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT / "nn")))
def test_nn_imports_only_public_autograd_names(path):
    assert private_uses(path) == []


def test_the_public_names_are_the_private_ones():
    import autograd._clash
    import autograd._optional
    import autograd.clash
    import autograd.extras

    for name in ("require", "hint", "MissingExtraError", "EXTRAS"):
        assert getattr(autograd.extras, name) is getattr(autograd._optional, name)
    for name in ("check", "AutogradClashError", "hips_files", "MARKER", "clash_message"):
        assert getattr(autograd.clash, name) is getattr(autograd._clash, name)


def test_require_from_the_public_module_names_the_extra(monkeypatch):
    import sys

    from autograd.extras import MissingExtraError, require

    monkeypatch.setitem(sys.modules, "torch", None)  # an import of torch now fails as if it were not installed
    with pytest.raises(MissingExtraError, match=r"^to_torch needs PyTorch: pip install 'chainrule\[torch\]'$"):
        require("torch", "to_torch")
