"""Every number on docs/limits.md and docs/cli.md is read against the code's constants (issue 21.5:
the limits page said `--max-nodes` defaults to 500 where the code says 1000). A number on these
pages is either one of the code's limits or defaults, in the row that names it, or listed below
with the reason it is not a constant (a measurement, an example of a refused input)."""

import re
from pathlib import Path

import pytest

from autograd import expr, viz
from nn import serialize
from nn.cli import args, train_options
from nn.cli.train_options import DIGITS_DEFAULTS, LIMITS, MAX_FRAMES, TOY_DEFAULTS, check_network

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)*(?:\*\*\d+)?")


def _numbers(text: str) -> set:
    return {n.rstrip(",") for n in NUMBER.findall(text)}


def _row(text: str, starts: str) -> str:
    rows = [line for line in text.splitlines() if line.startswith(f"| {starts}")]
    assert len(rows) == 1, f"one row starting {starts!r} expected, found {len(rows)}"
    return rows[0]


def _code_numbers() -> set:
    values = {
        expr.MAX_LENGTH,
        expr.MAX_DEPTH,
        viz.MAX_NODES,
        MAX_FRAMES,
        MAX_FRAMES + 1,  # the epochs that make one frame too many at --movie-every 1
        serialize.MAX_FILE_BYTES >> 20,  # in MiB
        *(v for pair in LIMITS.values() for v in pair if v != serialize.MAX_PARAMETERS),
        *(int(n) for n in re.findall(r"^\s+(\d+)\s", args.EXIT_STATUS, re.M)),
        130,  # Ctrl-C, as main returns it
    }
    return {str(v) for v in values} | {f"{v:g}" for v in values if isinstance(v, float)} | {"10**6"}


# numbers on limits.md that are not constants, each with why
LIMITS_PAGE_OTHERS = {
    "1797": "scikit-learn's digits, counted below when it is installed",
    "1000000000000": "an example of a refused --samples, above the limit (checked below)",
    "997": "the largest MLP 2 -> h -> h -> 1 nn.load accepts (checked below)",
    "998,995": "its parameter count (checked below)",
    "51": "measured: that model's file size in MiB",
    "70": "measured: seconds to load it",
    "777": "measured: peak memory in MiB",
    "0**0": "an edge of the maths, named as an example",
    "0.0": "an example input in a warning message",
}


def test_every_number_on_the_limits_page_is_a_constant_of_the_code_or_explained():
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    unexplained = _numbers(text) - _code_numbers() - set(LIMITS_PAGE_OTHERS)
    assert unexplained == set(), f"numbers on docs/limits.md that match no constant of the code: {unexplained}"


def test_each_limit_sits_in_the_row_that_names_it():
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    graph = _row(text, "`graph` expression")
    assert f"{expr.MAX_LENGTH} characters" in graph and f"{expr.MAX_DEPTH} levels" in graph
    assert f"(default {viz.MAX_NODES}," in graph
    for option, key in [("samples", "samples"), ("noise", "noise"), ("epochs", "epochs"), ("batch-size", "batch_size")]:
        low, high = LIMITS[key]
        low_text = "0 (full batch)" if key == "batch_size" else f"{low:g}"
        assert f"{low_text} to {high:g}" in _row(text, f"`train --{option}`"), option
    hidden = _row(text, "`train --hidden`")
    assert f"at most {LIMITS['hidden_layers'][1]} sizes" in hidden and "10**6 parameters" in hidden
    assert LIMITS["parameters"][1] == serialize.MAX_PARAMETERS == 10**6
    assert f"at most {MAX_FRAMES} frames" in _row(text, "`train --movie`")
    assert f"--epochs {MAX_FRAMES + 1} --movie-every 1" in _row(text, "`train --movie`")
    assert f"{serialize.MAX_FILE_BYTES >> 20} MiB" in _row(text, "`nn.load`: file size")
    out = _row(text, "`train --out`")
    assert f"`{TOY_DEFAULTS['out']}/`" in out and f"`{DIGITS_DEFAULTS['out']}/`" in out


def test_the_examples_on_the_limits_page_hold():
    assert 1000000000000 > LIMITS["samples"][1]
    assert check_network(2, [997, 997], 1) == 998_995 <= serialize.MAX_PARAMETERS
    with pytest.raises(train_options.TrainError):
        check_network(2, [998, 998], 1)


@pytest.mark.needs("sklearn")
def test_the_digits_count_on_the_limits_page_is_scikit_learns():
    from nn import datasets

    assert len(datasets.digits()[0]) == 1797


# numbers on cli.md that are not constants: the example's inputs, the doctor sample's versions
CLI_PAGE_EXAMPLES = {"0.5", "2", "0.1", "8,8", "0.1.0", "3.11.7", "0.21", "2.43.0", "4.70.1", "12.8"}


def test_the_command_line_page_spells_out_the_defaults():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    moons = next(line for line in text.splitlines() if line.startswith("chainrule train --data moons"))
    assert f"--hidden {TOY_DEFAULTS['hidden']} " in moons and f"--epochs {TOY_DEFAULTS['epochs']} " in moons
    assert f"--out {TOY_DEFAULTS['out']}/" in moons
    digits = next(line for line in text.splitlines() if line.startswith("chainrule train --data digits"))
    assert f"--epochs {DIGITS_DEFAULTS['epochs']} " in digits and f"--out {DIGITS_DEFAULTS['out']}/" in digits
    known = _code_numbers() | CLI_PAGE_EXAMPLES | {TOY_DEFAULTS["hidden"], str(TOY_DEFAULTS["epochs"])}
    known |= {str(DIGITS_DEFAULTS["epochs"]), _pinned_torch()}
    unexplained = _numbers(text) - known
    assert unexplained == set(), f"numbers on docs/cli.md that match no constant of the code: {unexplained}"


def _pinned_torch() -> str:
    """The PyTorch version the Makefile pins (the one place it is pinned)."""
    return re.search(r"^TORCH_VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)[1]
