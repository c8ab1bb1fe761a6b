"""Models as JSON files: `save` writes the architecture and the weights, `load` reads them back.

Plain JSON, never pickle: a model file is data and cannot run code. The module types a file may
name are the ones registered here with `register` (`nn.module` registers Neuron, Layer, MLP).
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import stat

__all__ = ["save", "load", "register", "FORMAT", "VERSION", "MAX_PARAMETERS", "MAX_FILE_BYTES"]

FORMAT = "chainrule.nn"  # the "format" tag of a saved model
VERSION = 1  # the newest file version this code writes and reads
# `load`'s limits, overridable per call. 10**6 parameters is what `chainrule train` may build; such
# a model is about 51 MiB of JSON and takes tens of seconds to load (docs/limits.md).
MAX_PARAMETERS = 10**6  # an architecture declaring more is refused before anything is built
MAX_FILE_BYTES = 64 << 20  # 64 MiB: a larger file is refused before it is read

_TYPES: dict = {}  # "MLP" -> the class; each has _architecture(), _parameter_count(arch), _from_architecture(arch)


def register(cls):
    """Let files name `cls` by its class name (a class decorator)."""
    _TYPES[cls.__name__] = cls
    return cls


# ---- save ----------------------------------------------------------------------------------------
def save(module, path) -> None:
    """Write the architecture and the weights of `module` to ``path`` as JSON (read back with `load`).

    The file is written beside its target and renamed over it, so a crash never leaves half a
    model. A symlink is followed (its target is replaced; the link stays). A directory, FIFO,
    device or socket at ``path`` raises ValueError and is left untouched. The new file gets the
    mode of the file it replaces, or 0o666 less the umask (the process umask is never changed).
    OS errors are re-raised naming ``path``, not the temporary file.
    """
    where = os.fspath(path)
    _refuse_tied(module, where)
    state = module.state_dict()
    for name, value in state.items():
        if not math.isfinite(value):
            raise ValueError(f"cannot save {module!r} to {where}: parameter {name!r} is {value}")
    document = {"format": FORMAT, "version": VERSION, "architecture": module._architecture(), "state_dict": state}
    data = (json.dumps(document, indent=1, allow_nan=False) + "\n").encode("utf-8")
    try:
        _replace(where, data)
    except OSError as err:
        raise _naming(err, where) from None


def _refuse_tied(module, where: str) -> None:
    """A file records an architecture and one weight per name: loading it would untie a tied parameter."""
    first = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        other = first.setdefault(p, name)
        if other != name:
            raise ValueError(
                f"cannot save {module!r} to {where}: {other!r} and {name!r} are one tied parameter, which "
                f"a model file cannot record (loading would untie them); save its state_dict() instead"
            )


def _replace(where: str, data: bytes) -> None:
    target = os.path.realpath(where)  # follow symlinks: replace what a link points to, keep the link
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise ValueError(f"{where}: is {_kind(existing.st_mode)}, not a regular file; not saved, and left untouched")
    fd, tmp = _create_beside(target)
    try:  # write then rename, so a crash never leaves a half-written model behind
        if existing is not None:
            os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)  # keep the replaced file's permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _create_beside(target: str) -> tuple[int, str]:
    """A new empty file in target's folder, created 0o666 so the kernel applies the umask."""
    directory, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a temporary file beside it", target)


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def _naming(err: OSError, where: str) -> OSError:
    """The same error, naming the user's path (not a temporary file or a link's target)."""
    if err.errno is None:
        return err
    return type(err)(err.errno, err.strerror, where)


# ---- load ----------------------------------------------------------------------------------------
def load(path, *, max_parameters: int = MAX_PARAMETERS, max_bytes: int = MAX_FILE_BYTES):
    """Read a model written by `Module.save`.

    Any file that is not one raises ValueError naming ``path`` and saying why: not a regular
    file, larger than ``max_bytes``, not UTF-8, not JSON (or nested too deeply), the wrong
    format or version, a bad architecture, one declaring more than ``max_parameters`` (checked
    before anything is built), weights that do not match it in number or names, or a weight
    that is not a finite number. A missing or unreadable file raises the usual OSError.
    """
    where = os.fspath(path)
    raw = _read(where, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not a chainrule model file (not UTF-8 text)") from None
    if not text.strip():
        raise ValueError(f"{where}: not a chainrule model file (it is empty)")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except _NonFinite as e:
        raise ValueError(f"{where}: {e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not a chainrule model file: malformed or truncated JSON ({e})") from None
    except RecursionError:
        raise ValueError(f"{where}: not a chainrule model file: the JSON is nested too deeply") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise ValueError(f"{where}: not a chainrule model file: {_short(str(e), 100)}") from None
    return _from_document(document, where, max_parameters)


def _read(where: str, max_bytes: int) -> bytes:
    """The file's bytes, refusing anything but a regular file of at most max_bytes (checked before reading)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below
    fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{where}: is {_kind(info.st_mode)}, not a chainrule model file")
        if info.st_size > max_bytes:
            raise ValueError(
                f"{where}: the file is {info.st_size} bytes, more than the limit of {max_bytes} "
                f"(pass max_bytes= to nn.load to read it)"
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(min(info.st_size, max_bytes) + 1)  # +1: to notice a file that grew
    finally:
        os.close(fd)
    if len(raw) > max_bytes:  # it grew while we read
        raise ValueError(f"{where}: the file is more than the limit of {max_bytes} bytes")
    return raw


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonFinite(f"the file holds {name}, which is not a valid weight (and not standard JSON)")


def _from_document(document, where: str, max_parameters: int):
    def bad(msg: str):
        return ValueError(f"{where}: {msg}")

    if not isinstance(document, dict):
        raise bad(f"not a chainrule model file: the top level is a JSON {_json_type(document)}, expected an object")
    if "format" not in document:
        raise bad(f"not a chainrule model file: no 'format' tag (expected {FORMAT!r})")
    if document["format"] != FORMAT:
        raise bad(f"not a chainrule model file: format tag is {_short(document['format'])}, expected {FORMAT!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad(f"'version' must be a positive integer, got {_short(version)}")
    if version > VERSION:
        raise bad(f"file version {version} is newer than this chainrule reads (version {VERSION}); upgrade chainrule")
    for key in ("architecture", "state_dict"):
        if not isinstance(document.get(key), dict):
            raise bad(f"{key!r} must be a JSON object, got {_json_type(document.get(key))}")
    arch, state = document["architecture"], document["state_dict"]
    try:
        cls = _module_type(arch)
        count = cls._parameter_count(arch)
    except (TypeError, ValueError, KeyError) as e:
        raise bad(f"bad 'architecture': {_short(_message(e), 200, quote=False)}") from None
    if count > max_parameters:
        raise bad(
            f"the architecture declares {count} parameters, more than the limit of {max_parameters} "
            f"(pass max_parameters= to nn.load to read it)"
        )
    for name, value in state.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"weight {_short(name)} must be a number, got {_short(value)}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer with more digits than a float holds (JSON allows it)
            raise bad(f"weight {_short(name)} is an integer too large for a float (beyond ±1.8e308)") from None
        if not finite:
            raise bad(f"weight {_short(name)} is {float(value)}, not a finite number")
    try:
        module = cls._from_architecture(arch)
    except (TypeError, ValueError, KeyError) as e:
        raise bad(f"bad 'architecture': {_short(_message(e), 200, quote=False)}") from None
    missing, unexpected = key_mismatch([n for n, _ in module.named_parameters()], state)
    if missing or unexpected or len(state) != count:
        numbers = f"it has {count} parameters, the file holds {len(state)} weights; "
        raise bad(f"weights do not fit the architecture: {numbers}{describe_mismatch(module, missing, unexpected)}")
    module.load_state_dict(state)
    return module


def _json_type(value) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(value, limit: int = 60, quote: bool = True) -> str:
    """A value as it appears in an error: its repr (or the text itself), cut to `limit` characters."""
    text = repr(value) if quote else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(e: Exception) -> str:
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


def _module_type(arch: dict):
    """The registered class the architecture names."""
    kind = arch.get("type")
    cls = _TYPES.get(kind) if type(kind) is str else None
    if cls is None:
        raise ValueError(f"unknown module type {_short(kind)}; expected one of {', '.join(repr(t) for t in _TYPES)}")
    return cls


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
    shown = ", ".join(_short(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
