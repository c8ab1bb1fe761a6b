"""The repository stands on its own: no tracked file points a reader at course notes they do not
have (by file name or number) or at a folder outside the repository.

The patterns are assembled from pieces so that this file does not match them itself.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_DOC = "document"
_SEED = "seed" + "s"
_UP = r"\.\." + "/"
NOTE_REFERENCES = re.compile(
    "|".join(
        [
            "shared/" + _SEED,  # the notes' folder
            _SEED.upper() + r"\.md",  # the team's index of them
            _DOC + r"s?[\s-]*0{2}[0-4]",  # a note by number, alone or in a range
            r"\(0{2}[0-4]\)",  # a note's number in parentheses
            "0{2}[0-4]_[0-9a-f]{16}",  # a note's file name
            "the " + _DOC + "s'",  # the notes as an unnamed authority
        ]
    ),
    re.IGNORECASE,
)
OUTSIDE_FOLDERS = re.compile(
    "|".join(
        [
            _UP + "shared",  # a sibling folder of the checkout
            r"/work/" + "(?:shared|wt|main)",  # the machine this project was developed on
            _UP + _UP + r"\w",  # two levels up: out of any folder of the repository
        ]
    )
)

# Tracked files exempt from the check while someone rewrites them; empty, and it should stay so.
PENDING_REWRITE: set[str] = set()


def _tracked_text_files():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, listed.stdout.split("\0")):
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the working tree, not yet committed
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        yield name, data.decode("utf-8", errors="replace")


def _hits(pattern, text):
    return [text[max(m.start() - 30, 0) : m.end() + 30].replace("\n", " ") for m in pattern.finditer(text)]


def test_the_patterns_catch_what_they_are_for():
    number = "00" + "2"
    for text in [
        "see " + _DOC + " " + number,
        _DOC.title() + "s 000-" + number,
        "z (" + number + ") here",
        _UP.replace("\\", "") + "shared/x",
        _SEED.upper() + ".md",
        number + "_a685c461dcc1010c.txt",
        "the " + _DOC + "s' closed forms",
    ]:
        assert NOTE_REFERENCES.search(text) or OUTSIDE_FOLDERS.search(text), text
    for text in [
        "seeds = st.integers()",
        "10_000",
        "a JSON document",
        "f(0.01)",
        "x ** 0.002",
    ]:
        assert not (NOTE_REFERENCES.search(text) or OUTSIDE_FOLDERS.search(text)), text


def test_git_lists_the_tracked_files():
    names = [name for name, _ in _tracked_text_files()]
    assert "README.md" in names and "tests/docs/test_self_contained.py" in names


@pytest.mark.parametrize(
    "pattern",
    [NOTE_REFERENCES, OUTSIDE_FOLDERS],
    ids=["course notes", "outside folders"],
)
def test_no_tracked_file_refers_outside_the_repository(pattern):
    offenders = {
        name: _hits(pattern, text)
        for name, text in _tracked_text_files()
        if name not in PENDING_REWRITE and pattern.search(text)
    }
    assert not offenders, "\n".join(f"{name}: {hits[:3]}" for name, hits in offenders.items())
