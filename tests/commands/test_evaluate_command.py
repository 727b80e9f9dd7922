import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
from PIL import Image

from handgraph.cli import main
from handgraph.io.result_files import write_joint_text

OPTIONS = ("--dataset", "--gt", "PRED", "--format", "--gt-format", "--names", "--mat-key", "--json", "--plots")


@pytest.fixture
def files(tmp_path):
    """A tiny ICVL-shaped ground truth (10 frames) and two predictions, one covering 6 frames."""
    rng = np.random.default_rng(3)
    truth = np.stack(
        [rng.uniform(50, 270, (10, 16)), rng.uniform(30, 210, (10, 16)), rng.uniform(300, 500, (10, 16))], -1
    )
    write_joint_text(tmp_path / "gt.txt", truth)
    write_joint_text(tmp_path / "good.txt", truth + rng.normal(0, 2, truth.shape))
    write_joint_text(tmp_path / "short.txt", truth[:6] + 1.0)
    return tmp_path


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in OPTIONS:
        assert option in text
    assert "success rate" in text and "examples:" in text


def test_table_json_and_plots(files, capsys):
    arguments = ["evaluate", "--dataset", "icvl", "--gt", str(files / "gt.txt"), str(files / "good.txt")]
    arguments += [str(files / "short.txt"), "--names", "Good", "Short", "--json", str(files / "r.json")]
    assert main([*arguments, "--plots", str(files / "plots")]) == 0
    out = capsys.readouterr().out
    assert "Good" in out and "6*" in out and "covers the first 6 of 10 ground-truth frames" in out
    entries = json.loads((files / "r.json").read_text())
    assert [entry["name"] for entry in entries] == ["Good", "Short"]
    assert entries[1]["frames"] == 6 and entries[1]["ground_truth_frames"] == 10
    assert 0 < entries[0]["mean_mm"] < 6 and set(entries[0]["success_rate"]) == {str(t) for t in range(81)}
    for name in ("success_curves.png", "per_joint_errors.png"):
        with Image.open(files / "plots" / name) as image:
            assert image.format == "PNG" and image.width > 500 and image.height > 400


def _error_line(capsys, arguments) -> str:
    try:
        code = main(arguments)
    except SystemExit as exit_info:  # argument errors exit from argparse
        code = exit_info.code
    assert code != 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_bad_result_files_get_one_line_errors(files, capsys):
    base = ["evaluate", "--dataset", "icvl", "--gt", str(files / "gt.txt")]
    (files / "columns.txt").write_text("1 2 3\n")
    assert "columns.txt:1: found 3 columns; expected 48 numbers" in _error_line(
        capsys, [*base, str(files / "columns.txt")]
    )
    (files / "word.txt").write_text(" ".join(["1"] * 47 + ["oops"]) + "\n")
    assert "word.txt:1: column 48: 'oops' is not a number" in _error_line(capsys, [*base, str(files / "word.txt")])
    (files / "nan.txt").write_text(" ".join(["NaN"] + ["1"] * 47) + "\n")
    assert "nan.txt:1: column 1: 'NaN' is not a finite number" in _error_line(capsys, [*base, str(files / "nan.txt")])
    long = np.concatenate([np.loadtxt(files / "gt.txt")] * 2).reshape(-1, 16, 3)
    write_joint_text(files / "long.txt", long)
    message = _error_line(capsys, [*base, str(files / "long.txt")])
    assert "long.txt: 20 frames, but the ground truth" in message and "has 10" in message
    scipy.io.savemat(files / "bad.mat", {"something": np.zeros((4, 4))})
    message = _error_line(capsys, [*base, str(files / "bad.mat")])
    assert "bad.mat: no array of shape (N, 16, 3) or (N, 48); keys: something (4, 4)" in message
    message = _error_line(capsys, [*base, "--mat-key", "x", str(files / "good.txt"), str(files / "bad.mat")])
    assert "bad.mat: no key 'x'" in message
    assert "missing.txt: not found; expected a joint file" in _error_line(capsys, [*base, str(files / "missing.txt")])
    message = _error_line(capsys, [*base, str(files / "good.txt"), "--names", "A", "B"])
    assert "2 names for 1 prediction files" in message


def test_argument_errors_are_one_line(files, capsys):
    message = _error_line(capsys, ["evaluate", "--dataset", "kinect", "--gt", str(files / "gt.txt"), "p.txt"])
    assert "invalid choice: 'kinect'" in message and "--help" in message
    message = _error_line(capsys, ["evaluate", "--dataset", "nyu", str(files / "good.txt")])
    assert "give --dataset, --gt and at least one PRED file, or --checkpoint" in message


def test_wrong_dataset_for_the_files(files, capsys):
    # ICVL-shaped files (48 columns) scored as NYU (14 joints, 42 columns) fail on the first line.
    message = _error_line(
        capsys, ["evaluate", "--dataset", "nyu", "--gt", str(files / "gt.txt"), str(files / "good.txt")]
    )
    assert "gt.txt:1: found 48 columns; expected 42 numbers (14 joints x 3)" in message


def test_console_script_exit_code_and_no_traceback(files):
    (files / "bad.txt").write_text("1 2 nope\n")
    command = [sys.executable, "-m", "handgraph", "evaluate", "--dataset", "icvl", "--gt", str(files / "gt.txt")]
    completed = subprocess.run([*command, str(files / "bad.txt")], capture_output=True, text=True, check=False)
    assert completed.returncode == 1
    assert completed.stderr.startswith("handgraph evaluate: error: ") and "bad.txt:1:" in completed.stderr
    assert "Traceback" not in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
    completed = subprocess.run([*command[:4], "--dataset", "mars"], capture_output=True, text=True, check=False)
    assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1
