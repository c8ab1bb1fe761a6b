"""`chainrule train` trains, reports accuracy, and writes four files a person can open."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import nn
from nn.cli import main

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.needs("matplotlib")
@pytest.mark.parametrize("data, extra", [("moons", []), ("spiral", ["--hidden", "8"])])
def test_train_writes_plots_model_and_step_through(tmp_path, capsys, data, extra):
    out = tmp_path / "out"
    status = main(
        ["train", "--data", data, "--epochs", "3", "--samples", "40", "--no-progress", "--out", str(out), *extra]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "train accuracy" in printed and "test accuracy" in printed
    for name in ("loss.png", "decision_boundary.png", "model.json", "neuron_backprop.html"):
        assert (out / name).stat().st_size > 0
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = nn.load(out / "model.json")
    assert json.loads((out / "model.json").read_text())
    assert len(model.parameters()) > 0
    html = (out / "neuron_backprop.html").read_text()
    assert "<svg" in html and "http" not in html.split("<svg")[0]


def test_train_on_moons_with_defaults_reaches_high_test_accuracy(tmp_path, capsys):
    assert main(["train", "--no-progress", "--out", str(tmp_path)]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if "test accuracy" in ln][0]
    test_accuracy = float(line.rsplit("test accuracy", 1)[1].strip().rstrip("%"))
    assert test_accuracy >= 90.0


def test_train_with_movie_writes_one_self_contained_page_and_says_its_size(tmp_path, capsys):
    movie = tmp_path / "deeper" / "training.html"
    status = main(
        [
            "train",
            "--epochs",
            "5",
            "--samples",
            "40",
            "--hidden",
            "4",
            "--no-progress",
            "--out",
            str(tmp_path / "out"),
            "--movie",
            str(movie),
            "--movie-every",
            "2",
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    page = movie.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="movie-data">(.*?)</script>', page, re.S)[1])
    assert [f["epoch"] for f in data["frames"]] == [0, 2, 4, 5]
    assert "<title>chainrule: training MLP(2 -&gt; 4 relu -&gt; 1 linear) on moons" in page
    (line,) = [ln for ln in printed.splitlines() if ln.startswith("movie:")]
    assert re.fullmatch(r"movie: 4 frames, \d+\.\d\d MB, made in \d+\.\d s .*", line)
    assert f"wrote {movie}" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--movie-every", "0", "--movie", "m.html"], "--movie-every must be at least 1, got 0"),
        (["--movie-every", "3"], "--movie-every needs --movie FILE.html"),
        (["--movie", "."], "--movie takes a file name"),
    ],
)
def test_bad_movie_options_are_refused_in_one_line_before_training(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status = main(["train", "--epochs", "1", "--no-progress", "--out", str(tmp_path), *args])
    captured = capsys.readouterr()
    assert status == 2 and "training" not in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("chainrule train: error: ") and message in line


def test_neuron_backprop_page_says_which_neuron_and_which_example(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", "--epochs", "1", "--samples", "40", "--no-progress", "--out", str(out)]) == 0
    page = (out / "neuron_backprop.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", page)[1]
    match = re.fullmatch(r"backprop through neuron 0 of layer 1 on training example (\d+)", title)
    assert match, title
    assert f'<h1 style="font-size:16px">{title}</h1>' in page
    assert f"training example {match[1]} (counting from 0), x = (" in page
    for label in ("W1[0,0]", "W1[0,1]", "b1[0]", "z1[0]", "a1[0]", "x0", "x1"):  # the names of the closed forms
        assert f'font-weight="bold" font-size="11.00">{label}</text>' in page, label


@pytest.mark.needs("matplotlib")
def test_train_compiled_learns_the_same_weights_as_eager(tmp_path, capsys):
    common = ["train", "--epochs", "3", "--samples", "40", "--no-progress", "--batch-size", "8"]
    weights = {}
    for mode in ("off", "python", "numpy"):
        assert main([*common, "--compile", mode, "--out", str(tmp_path / mode)]) == 0
        weights[mode] = json.loads((tmp_path / mode / "model.json").read_text())["state_dict"]
    assert "compiled (python)" in capsys.readouterr().out
    assert weights["python"] == weights["off"]  # the same sums in the same order
    for name, w in weights["off"].items():
        assert weights["numpy"][name] == pytest.approx(w, rel=1e-9, abs=1e-12)


def test_train_compile_numpy_without_numpy_is_one_line(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)
    assert main(["train", "--compile", "numpy", "--epochs", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'chainrule[notebooks]'" in err


# ---- every option checked before any work ----------------------------------------------------------
def _status(argv):
    try:
        return main(argv)
    except SystemExit as done:  # argparse's own refusals
        return done.code


def _one_line(text: str) -> bool:
    return text.count("\n") == 1 and text.startswith("chainrule") and "Traceback" not in text


REFUSED = [
    (["--samples", "1000000000000"], "--samples must be between 8 and 100000, got 1000000000000"),
    (["--samples", "7"], "--samples must be between 8 and 100000"),
    (["--hidden", "100000000"], "makes a network of at least 300000001 parameters; the limit is 1000000"),
    (["--hidden", "710,710,710"], "parameters; the limit is 1000000"),
    (["--hidden", "300000", "--data", "spiral", "--samples", "30"], "2 -> 300000 -> 3: 1800003 parameters; the limit"),
    (["--hidden", ",".join(["2"] * 101)], "--hidden lists more than 100 layer sizes"),
    (["--hidden", "9" * 5000], "--hidden takes whole numbers"),
    (["--lr", "inf"], "--lr must be a finite number > 0, got inf"),
    (["--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["--lr", "0"], "--lr must be a finite number > 0, got 0.0"),
    (["--noise", "1e308"], "--noise must be between 0.0 and 10.0, got 1e+308"),
    (["--noise", "nan"], "--noise must be between 0.0 and 10.0, got nan"),
    (["--noise", "-0.1"], "--noise must be between 0.0 and 10.0"),
    (["--epochs", "1000000000"], "--epochs must be between 1 and 10000"),
    (["--batch-size", "-1"], "--batch-size must be between 0 and 100000"),
    (["--batch-size", "100001"], "--batch-size must be between 0 and 100000"),
    (["--samples", "1e3"], "invalid int value: '1e3'"),
]


@pytest.mark.parametrize("options, message", REFUSED, ids=lambda x: " ".join(x)[:30] if isinstance(x, list) else None)
def test_a_bad_option_is_refused_in_one_line_with_status_2_before_any_work(tmp_path, capsys, options, message):
    out = tmp_path / "out"
    assert _status(["train", "--no-progress", "--out", str(out), *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == "", "refused before training (which prints its first line)"
    assert _one_line(captured.err) and message in captured.err, captured.err
    assert not out.exists()


def test_an_out_that_is_an_existing_file_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "results"
    blocker.write_text("my notes")
    for out in (blocker, blocker / "sub"):
        assert _status(["train", "--epochs", "1", "--samples", "16", "--no-progress", "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and _one_line(captured.err) and str(blocker) in captured.err, captured.err
    assert blocker.read_text() == "my notes"


def test_an_out_holding_a_folder_where_a_result_goes_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "model.json").mkdir()
    assert _status(["train", "--epochs", "1", "--samples", "16", "--no-progress", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and _one_line(captured.err) and "model.json is a directory" in captured.err


def test_an_out_that_does_not_exist_yet_is_created(tmp_path, capsys):
    out = tmp_path / "a" / "b"
    assert main(["train", "--epochs", "1", "--samples", "16", "--hidden", "2", "--no-progress", "--out", str(out)]) == 0
    assert (out / "model.json").is_file()


def test_training_that_diverges_fails_in_one_line_with_status_1(tmp_path, capsys):
    status = main(
        ["train", "--lr", "1e300", "--epochs", "3", "--samples", "16", "--no-progress", "--out", str(tmp_path)]
    )
    captured = capsys.readouterr()
    assert status == 1 and _one_line(captured.err) and "training diverged" in captured.err and "--lr" in captured.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.needs("matplotlib")
def test_a_file_that_cannot_be_written_fails_in_one_line_with_status_1(tmp_path, capsys, monkeypatch):
    def refuse(module, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(nn.Module, "save", refuse)
    status = main(
        ["train", "--epochs", "1", "--samples", "16", "--hidden", "2", "--no-progress", "--out", str(tmp_path)]
    )
    captured = capsys.readouterr()
    assert status == 1 and _one_line(captured.err), captured.err
    assert f"cannot write {tmp_path / 'model.json'}: Permission denied" in captured.err


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["graph", "--help"], ["doctor", "--help"]])
def test_help_documents_the_exit_statuses(capsys, argv):
    assert _status(argv) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status" in text and all(f"{n} " in text for n in ("0", "1", "2")), text


def test_interrupting_ends_in_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("nn.cli.train.run", interrupted)
    assert main(["train"]) == 130
    assert capsys.readouterr().err == "chainrule: interrupted\n"


# ---- the terminal: a closed pipe, an ASCII-only encoding -------------------------------------------
def _command(*args, env=None, stdout=subprocess.PIPE):
    """Start `python -m nn.cli` with stdout block-buffered, as it is for a user (not PYTHONUNBUFFERED)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.Popen(
        [sys.executable, "-m", "nn.cli", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**environment, **(env or {})},
        cwd=REPO,
    )


@pytest.mark.parametrize("args", [["--help"], ["graph", "x*y", "x=1", "y=2"], ["graph", "--help"]])
def test_a_reader_that_stops_early_gets_no_traceback(args):
    child = _command(*args)
    child.stdout.close()  # as `| head -c1` does once it has its byte: every write now hits a closed pipe
    _, err = child.communicate(timeout=60)
    assert err.decode() == "" and child.returncode in (0, 1)


@pytest.mark.parametrize(
    "args, out, err",
    [
        (["graph", "θ*2", "θ=1"], "\\u03b8.grad = 2", ""),
        (["graph", "θ*y", "θ=1"], "", "the variable y has no value"),
        (["graph", "x+'é'", "x=1"], "", "the string 'é'".encode("ascii", "backslashreplace").decode()),
    ],
)
def test_an_ascii_only_terminal_gets_escapes_not_a_unicode_error(args, out, err):
    child = _command(*args, env={"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"})
    stdout, stderr = (s.decode("ascii") for s in child.communicate(timeout=60))
    assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr, stderr
    assert out in stdout and err in stderr
    assert child.returncode == (0 if not err else 2)


def test_the_limits_page_states_each_limit_with_the_number_the_code_uses():
    from nn import cli, serialize

    section = (REPO / "docs" / "limits.md").read_text()
    for option in ("samples", "epochs", "batch_size"):
        low, high = cli.LIMITS[option]
        assert f"| `train --{option.replace('_', '-')}` | {low}" in section and f"to {high} |" in section
    low, high = cli.LIMITS["noise"]
    assert f"| `train --noise` | {low:g} to {high:g} |" in section
    assert f"at most {cli.LIMITS['hidden_layers'][1]} sizes" in section
    assert (
        cli.LIMITS["parameters"][1] == serialize.MAX_PARAMETERS == 10**6
        and "| 10**6 (`nn.serialize.MAX_PARAMETERS`" in section
    )
    assert serialize.MAX_FILE_BYTES == 64 * 2**20 and "| 64 MiB (`nn.serialize.MAX_FILE_BYTES`" in section
    assert "Edge policy" in section


# ---- issue 21.6: digits in a folder of its own, a mistyped option ----------------------------------
@pytest.mark.needs("sklearn", "matplotlib")
def test_digits_writes_to_its_own_folder_and_leaves_the_moons_demo_alone(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "loss.png").write_bytes(b"the moons demo's plot")
    assert main(["train", "--data", "digits", "--samples", "60", "--epochs", "1", "--no-progress"]) == 0
    assert (tmp_path / "out" / "loss.png").read_bytes() == b"the moons demo's plot"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["digits", "loss.png"]
    written = sorted(p.name for p in (tmp_path / "out" / "digits").iterdir())
    assert written == sorted(
        ["loss.png", "confusion_matrix.png", "misclassified.png", "first_layer_weights.png", "model.json"]
    )
    assert "wrote out/digits/model.json" in capsys.readouterr().out


def test_the_default_out_folder_differs_by_data():
    from nn.cli.train_options import DIGITS_DEFAULTS, TOY_DEFAULTS

    assert TOY_DEFAULTS["out"] == "out" and DIGITS_DEFAULTS["out"] == "out/digits"


@pytest.mark.parametrize(
    "argv, usage, nearest",
    [
        (["train", "--hiden", "8,8"], "chainrule train", "--hidden"),
        (["train", "--epohcs", "3"], "chainrule train", "--epochs"),
        (["graph", "x*x", "x=1", "--locla-grads"], "chainrule graph", "--local-grads"),
        (["graph", "x*x", "x=1", "--step_through=a.html"], "chainrule graph", "--step-through"),
    ],
)
def test_a_mistyped_option_names_the_subcommands_usage_and_the_nearest_option(capsys, argv, usage, nearest):
    assert _status(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"{usage}: error: unrecognized arguments: ")
    assert f"did you mean {nearest}?" in captured.err and f"(see {usage} --help)" in captured.err


def test_gitignore_leaves_out_notebook_checkpoints():
    assert ".ipynb_checkpoints/" in (REPO / ".gitignore").read_text().splitlines()
