"""Models as JSON files: `save` writes the architecture and the weights, `load` reads them back.

Plain JSON, never pickle: a model file is data and cannot run code. The module types a file may
name are the ones registered here with `register` (`nn.module` registers Neuron, Layer, MLP).
"""

from __future__ import annotations

import json
import math
import os
import tempfile

__all__ = ["save", "load", "register", "FORMAT", "VERSION"]

FORMAT = "chainrule.nn"  # the "format" tag of a saved model
VERSION = 1  # the newest file version this code writes and reads

_TYPES: dict = {}  # "MLP" -> the class; each has _architecture() and _from_architecture(arch)


def register(cls):
    """Let files name `cls` by its class name (a class decorator)."""
    _TYPES[cls.__name__] = cls
    return cls


def save(module, path) -> None:
    """Write the architecture and the weights of `module` to ``path`` as JSON (read back with `load`)."""
    state = module.state_dict()
    for name, value in state.items():
        if not math.isfinite(value):
            raise ValueError(f"cannot save {module!r}: parameter {name!r} is {value}")
    document = {"format": FORMAT, "version": VERSION, "architecture": module._architecture(), "state_dict": state}
    text = json.dumps(document, indent=1, allow_nan=False)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".chainrule-", suffix=".json.tmp")
    try:  # write then rename, so a crash never leaves a half-written model behind
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(path):
    """Read a model written by `Module.save`. A file that is not one raises ValueError saying why."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise ValueError(f"{where}: is a directory, not a chainrule model file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not a chainrule model file (not UTF-8 text)") from None
    if not text.strip():
        raise ValueError(f"{where}: not a chainrule model file (it is empty)")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not a chainrule model file: malformed or truncated JSON ({e})") from None
    except _NonFinite as e:
        raise ValueError(f"{where}: {e}") from None
    return _from_document(document, where)


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonFinite(f"the file holds {name}, which is not a valid weight (and not standard JSON)")


def _from_document(document, where: str):
    def bad(msg: str):
        return ValueError(f"{where}: {msg}")

    if not isinstance(document, dict):
        raise bad(f"not a chainrule model file: the top level is a JSON {type(document).__name__}, expected an object")
    if "format" not in document:
        raise bad(f"not a chainrule model file: no 'format' tag (expected {FORMAT!r})")
    if document["format"] != FORMAT:
        raise bad(f"not a chainrule model file: format tag is {document['format']!r}, expected {FORMAT!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad(f"'version' must be a positive integer, got {version!r}")
    if version > VERSION:
        raise bad(f"file version {version} is newer than this chainrule reads (version {VERSION}); upgrade chainrule")
    for key in ("architecture", "state_dict"):
        if not isinstance(document.get(key), dict):
            raise bad(f"{key!r} must be a JSON object, got {type(document.get(key)).__name__}")
    try:
        module = _build(document["architecture"])
    except (TypeError, ValueError, KeyError) as e:
        raise bad(f"bad 'architecture': {_message(e)}") from None
    state = document["state_dict"]
    missing, unexpected = key_mismatch([n for n, _ in module.named_parameters()], state)
    if missing or unexpected:
        raise bad(f"weights do not fit the architecture: {describe_mismatch(module, missing, unexpected)}")
    for name, value in state.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"weight {name!r} must be a number, got {json.dumps(value)[:40]}")
    module.load_state_dict(state)
    return module


def _message(e: Exception) -> str:
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


def _build(arch: dict):
    """An untrained module of the saved architecture (zero weights, soon overwritten)."""
    kind = arch.get("type")
    cls = _TYPES.get(kind) if type(kind) is str else None
    if cls is None:
        raise ValueError(f"unknown module type {kind!r}; expected one of {', '.join(repr(t) for t in _TYPES)}")
    return cls._from_architecture(arch)


def key_mismatch(expected: list, given) -> tuple[list, list]:
    """(missing, unexpected): names in `expected` not in `given`, and the other way round."""
    expected_set = set(expected)
    return [k for k in expected if k not in given], [k for k in given if k not in expected_set]


def describe_mismatch(module, missing: list, unexpected: list) -> str:
    parts = []
    if missing:
        parts.append(f"missing {len(missing)} key(s): {_some(missing)}")
    if unexpected:
        parts.append(f"unexpected {len(unexpected)} key(s): {_some(unexpected)}")
    return f"state_dict does not match {module!r}: " + "; ".join(parts)


def _some(names: list, limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
