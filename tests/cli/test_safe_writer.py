"""Every file the command writes goes through one safe writer (issue 21.9): two outputs on one path,
FIFOs and devices are refused before any work (exit 2, never blocking); limits and bad points are
refused before training; a write that fails leaves the user's existing file as it was."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nn.cli import main
from nn.cli.files import Outputs

ROOT = Path(__file__).resolve().parents[2]
NEURON = ["graph", "tanh(w*x + b)", "w=-0.5", "x=2", "b=0.1"]
QUICK = ["train", "--epochs", "1", "--samples", "16", "--no-progress"]


def _refused(capsys, says: str) -> str:
    captured = capsys.readouterr()
    err = captured.err
    assert captured.out == "" and err.count("\n") == 1 and says in err, err
    return err


def test_a_movie_on_the_models_path_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*QUICK, "--out", str(out), "--movie", str(out / "model.json")]) == 2
    _refused(capsys, "is the same file as --out")
    assert not out.exists()


def test_a_picture_and_its_step_through_on_one_path_are_refused(tmp_path, capsys):
    path = tmp_path / "g.svg"
    assert main([*NEURON, "-o", str(path), "--step-through", str(path)]) == 2
    _refused(capsys, "--step-through")
    assert not path.exists()


def test_two_spellings_of_one_file_count_as_one(tmp_path, capsys):
    real = tmp_path / "g.svg"
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    assert main([*NEURON, "-o", str(real), "--step-through", str(tmp_path / "." / "link.svg")]) == 2
    _refused(capsys, "is the same file as -o")


def _run(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "nn.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args, name",
    [
        (["-o", "{path}"], "fifo.svg"),
        (["--step-through", "{path}"], "fifo.html"),
    ],
)
def test_a_fifo_output_is_refused_without_blocking(tmp_path, args, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    done = _run([*NEURON, *(a.format(path=fifo) for a in args)], tmp_path)  # a blocked open would time out
    assert done.returncode == 2 and "is a FIFO, not a regular file" in done.stderr, done.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_movie_or_result_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "movie.html")
    done = _run([*QUICK, "--out", str(tmp_path / "a"), "--movie", str(tmp_path / "movie.html")], tmp_path)
    assert done.returncode == 2 and "--movie" in done.stderr and "FIFO" in done.stderr, done.stderr
    (tmp_path / "b").mkdir()
    os.mkfifo(tmp_path / "b" / "loss.png")
    done = _run([*QUICK, "--out", str(tmp_path / "b")], tmp_path)
    assert done.returncode == 2 and "loss.png is a FIFO" in done.stderr and done.stdout == "", done.stderr


def test_a_device_is_refused(capsys):
    assert main([*NEURON, "--step-through", os.devnull]) == 2
    _refused(capsys, "is a character device")


def test_a_movie_with_too_many_frames_is_refused_before_training(tmp_path, capsys):
    assert main([*QUICK[:1], "--epochs", "2001", "--movie-every", "1", "--movie", str(tmp_path / "m.html")]) == 2
    err = _refused(capsys, "makes 2002 movie frames; at most 2000")
    assert "--movie-every 2 or more" in err
    assert not (tmp_path / "m.html").exists()


def test_a_non_finite_point_is_refused_in_one_line_before_training(tmp_path, capsys, monkeypatch):
    from nn import datasets

    def bad_moons(n, seed, **kwargs):
        X = [[float(i), 1.0] for i in range(n)]
        X[3][1] = float("nan")
        return X, [i % 2 for i in range(n)]

    monkeypatch.setitem(datasets.DATASETS, "moons", bad_moons)
    assert main([*QUICK, "--out", str(tmp_path)]) == 2
    _refused(capsys, "point 3 is (3, nan), not finite")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_existing_file_and_no_temporary_one(tmp_path, capsys, monkeypatch):
    from nn import plots

    (tmp_path / "loss.png").write_bytes(b"the user's old plot")
    os.chmod(tmp_path / "loss.png", 0o640)

    def half_written(history, path):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "history", half_written)
    assert main([*QUICK, "--out", str(tmp_path)]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert (tmp_path / "loss.png").read_bytes() == b"the user's old plot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png"]


def test_a_replaced_file_keeps_its_mode_and_a_link_stays_a_link(tmp_path, capsys):
    target = tmp_path / "real.dot"
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "g.dot"
    link.symlink_to(target)
    assert main([*NEURON, "-o", str(link)]) == 0
    assert link.is_symlink() and "digraph" in target.read_text()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "real.dot"]


def test_the_writer_refuses_a_path_that_changed_into_a_fifo_after_it_was_claimed(tmp_path):
    from nn.cli.args import CommandError

    outputs = Outputs()
    path = outputs.claim("-o", tmp_path / "x.svg")
    os.mkfifo(path)
    with pytest.raises(CommandError, match="is a FIFO"):
        outputs.write(path, lambda p: p.write_text("never"))
