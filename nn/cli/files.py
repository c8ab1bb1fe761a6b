"""The one safe writer behind every file the command writes.

`Outputs.claim` checks each output path before any work: not a folder, not below a file, not a
FIFO, device or socket (refused by `stat`, never opened, so nothing blocks), and no two outputs on
one path (a symlink or ``./`` spelling counts as the same file). `Outputs.write` then writes a
temporary file beside the target and renames it over it, so a failure leaves a user's existing
file as it was; it keeps the mode of the file it replaces and follows a symlink (the link stays).
"""

from __future__ import annotations

import os
import pathlib
import secrets
import stat

from .args import CommandError, one_line

__all__ = ["Outputs", "check_output_path", "kind_of"]


def kind_of(mode: int) -> str | None:
    """What a path is when it is not a regular file ('a FIFO', ...), or None for a regular file."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def check_output_path(option: str, path) -> pathlib.Path:
    """Refuse (status 2), before any work, a path that is not a regular file or cannot become one."""
    target = pathlib.Path(path)
    try:
        mode = os.stat(target).st_mode  # stat never opens the path, so a FIFO cannot block here
    except (FileNotFoundError, NotADirectoryError):  # not there yet, or below a file: said below
        mode = None
    except OSError as err:
        raise CommandError(f"{option} {path} cannot be written: {err.strerror or err}", 2) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise CommandError(f"{option} {path} is a directory; give a file name", 2)
    if mode is not None and kind_of(mode):
        raise CommandError(f"{option} {path} is {kind_of(mode)}, not a regular file; nothing was written", 2)
    blocker = next((p for p in target.absolute().parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise CommandError(f"{option} {path} cannot be written: {blocker} is not a directory", 2)
    return target


class Outputs:
    """The files one command run writes: each claimed up front, each written atomically."""

    def __init__(self):
        self._claimed = {}  # real path -> (option, path as given)

    def claim(self, option: str, path) -> pathlib.Path:
        """Check `path` for `option`, and refuse it (status 2) when another output already has it."""
        target = check_output_path(option, path)
        key = os.path.realpath(target)
        if key in self._claimed:
            other, other_path = self._claimed[key]
            raise CommandError(
                f"{option} {path} is the same file as {other} {other_path}: give each output its own path", 2
            )
        self._claimed[key] = (option, str(path))
        return target

    def write(self, path, write) -> pathlib.Path:
        """Call `write(temporary path)` beside `path`, then rename it over `path`; say so in one line.

        An OSError (a full disk, a folder that cannot be made) is one line with status 1; any
        failure removes the temporary file and leaves what was at `path` untouched.
        """
        target = pathlib.Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _replace(target, write)
        except OSError as err:
            raise CommandError(f"cannot write {path}: {err.strerror or err}", 1) from None
        print(one_line(f"wrote {path}"))
        return target


def _replace(target: pathlib.Path, write) -> None:
    real = pathlib.Path(os.path.realpath(target))  # replace what a link points to; the link stays
    try:
        existing = os.stat(real)
    except FileNotFoundError:
        existing = None
    if existing is not None and kind_of(existing.st_mode):  # it changed since it was claimed
        raise OSError(f"{target} is {kind_of(existing.st_mode)}, not a regular file")
    tmp = _create_beside(real, existing)
    try:
        write(tmp)
        os.replace(tmp, real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_beside(real: pathlib.Path, existing) -> pathlib.Path:
    """A new empty file beside `real`, ending in its suffix (matplotlib reads the format from it),
    created 0o666 so the kernel applies the umask, or with the mode of the file it will replace."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = real.with_name(f".{real.stem}.{secrets.token_hex(6)}.tmp{real.suffix}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        try:
            if existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)
        finally:
            os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file beside {real}")
