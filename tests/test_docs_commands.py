"""Every command the docs show, run as written (issue 23).

The fenced ``bash`` blocks of the README, ``docs/`` and the shipped checkpoints' READMEs are collected and run
in document order in one workspace beside ``../shared`` (so their ``../shared/data/...`` paths hold), with
``.venv`` and a copy of ``checkpoints/`` and ``bench/candidates/`` in it. Each must exit 0, print no traceback,
and write what its ``--out``, ``--json``, ``--plots``, ``--predictions``, ``--onnx``, ``--preview`` and
``--record`` name.

What cannot be had here has a stand-in, said below with its reason: a mini NYU copy in the published layout
(the real frame 1 as its test set) for ``/data/nyu_hand_dataset_v2``, the first 400 lines of V2V-PoseNet's
NYU result file where a command fits it, a recording of the real SR305 frames for
what ``live --record`` would have written, the real NYU frame for ``frame.png``. Training commands run 2 steps
instead of thousands (the same command path, seconds instead of hours), and the synthetic benchmark is scored
on its first 100 frames. A command that needs hardware or a network is listed in ``SKIPPED`` with why.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "datasets"))
from minis import write_nyu, write_one_frame_nyu  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _pages_in_reading_order() -> list[Path]:
    """The README, then the docs/ pages in the order its "Where to go next" names them (a page's commands may
    need an earlier page's output, as a reader following the links would have made it), then any other page."""
    readme = (ROOT / "README.md").read_text()
    next_steps = readme[readme.index("## Where to go next") :]
    named = [ROOT / link for link in re.findall(r"\]\((docs/[\w-]+\.md)\)", next_steps)]
    pages = list(dict.fromkeys(named + sorted((ROOT / "docs").rglob("*.md"))))
    return [ROOT / "README.md", *pages]


DOCS = [*_pages_in_reading_order(), *sorted((ROOT / "checkpoints").glob("*/README.md"))]
NYU_COPY = "/data/nyu_hand_dataset_v2"
V2V_RESULTS = "../shared/data/eval/results/nyu/CVPR18_NYU_V2V_PoseNet.txt"
V2V_FRAMES = 400
"""Fitting a published result file runs on its first 400 lines (the first test sequence's frames): the
same command path in seconds instead of the 42 s of all 8252 frames."""

SKIPPED = {
    "make demo": "minutes of training on 2 cores; the train, evaluate and predict commands it runs are run "
    "below (training shortened)",
    "make test": "the test suite itself: this test runs inside it",
    "pip install 'handgraph[realsense]'": "installs pyrealsense2 from PyPI into the environment",
    "handgraph live --record runs/rec.npy --smooth": "needs an Intel RealSense camera; runs/rec.npy is made from the "
    "real SR305 frames instead",
    "handgraph live --replay runs/rec.npy": "draws in a window: needs a display (tests/test_live.py replays with "
    "--no-window and draws with matplotlib's Agg)",
}
"""Commands that cannot run here (matched by their text without the '.venv/bin/' prefix), and why."""

SHORTER_TRAINING = {
    "train": ["steps=2", "eval_every=2", "eval_frames=8", "checkpoint_every=2", "batch_size=4", "warmup_steps=1"],
    "train-localizer": ["steps=2", "eval_every=2", "validation_frames=8", "batch_size=2", "workers=0"],
}
"""Assignments appended to a training command's --set: 2 steps instead of thousands (hours on 2 cores)."""
SHORTER_ADAPTATION = ["--steps", "2", "--batch-size", "4", "--eval-frames", "8", "--workers", "0"]
"""Options appended to an adapt command: 2 training steps a round on 4 frames, 8 validation frames."""
SHORTER_CALIBRATION = ["validation_frames=40"]
"""The localiser's threshold set on 40 validation frames instead of 1000 (a minute on 2 cores)."""

SHORTER_SCORING = {"--data synthetic:test": "--data synthetic:test --frames 100"}
"""The synthetic benchmark's first 100 frames instead of its 2000 (minutes with a model at 96 x 96)."""


def documented_commands() -> list[tuple[str, str]]:
    """(where, command) for every command line of every fenced bash block, continuation lines joined."""
    commands = []
    for path in DOCS:
        text = path.read_text()
        for block in re.finditer(r"^```bash\n(.*?)^```", text, re.S | re.M):
            first_line = text[: block.start()].count("\n") + 2
            pending, start = "", None
            for offset, line in enumerate(block.group(1).splitlines()):
                start = first_line + offset if start is None else start  # a command's first line names it
                if line.endswith("\\"):
                    pending += line[:-1] + " "
                    continue
                command = _without_comment(pending + line).strip()
                if command:
                    commands.append((f"{path.relative_to(ROOT)}:{start}", " ".join(command.split())))
                pending, start = "", None
    return commands


def documented_python() -> list[tuple[str, str]]:
    """(where, code) for every fenced python block of the docs."""
    blocks = []
    for path in DOCS:
        text = path.read_text()
        for block in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
            blocks.append((f"{path.relative_to(ROOT)}:{text[: block.start()].count(chr(10)) + 2}", block.group(1)))
    return blocks


def _without_comment(line: str) -> str:
    """The line up to a '#' that starts a shell comment (outside quotes, after a blank or at the start)."""
    quote = None
    for index, character in enumerate(line):
        if character in "'\"" and quote in (None, character):
            quote = None if quote else character
        elif character == "#" and quote is None and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def as_run_here(command: str) -> str:
    """The command with its stand-ins: the mini NYU copy, 2 training steps, 100 benchmark frames, the first
    400 lines of a result file to fit."""
    command = command.replace(NYU_COPY, "stand-ins/nyu")
    if "handgraph fit" in command:
        command = command.replace(V2V_RESULTS, "stand-ins/v2v_first_frames.txt")
    words = shlex.split(command)
    program = next((i for i, word in enumerate(words) if Path(word).name == "handgraph"), None)
    subcommand = "" if program is None else words[program + 1] if program + 1 < len(words) else ""
    if subcommand == "train-localizer" and "--calibrate" in words:
        command = _with_assignments(command, SHORTER_CALIBRATION)
    elif subcommand in SHORTER_TRAINING:
        command = _with_assignments(command, SHORTER_TRAINING[subcommand])
    elif subcommand == "adapt":
        command = " ".join([command, *SHORTER_ADAPTATION])
    for old, new in SHORTER_SCORING.items():
        command = command.replace(old, new)
    return command


def _with_assignments(command: str, assignments: list[str]) -> str:
    """``assignments`` at the end of the command's --set list (later ones win), or a new --set before --out."""
    words = command.split()
    if "--set" in words:
        end = next((i for i in range(words.index("--set") + 1, len(words)) if words[i].startswith("--")), len(words))
    else:
        end = words.index("--out")
        assignments = ["--set", *assignments]
    return " ".join(words[:end] + assignments + words[end:])


def written_paths(command: str) -> list[str]:
    """What the command says it writes: the values of its output options."""
    words = shlex.split(command)
    options = ("--out", "--json", "--plots", "--predictions", "--onnx", "--preview", "--record")
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word in options]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, shared_data) -> Path:
    """A folder beside a link to ../shared, with .venv, a copy of checkpoints/ and the stand-ins."""
    if not (ROOT / ".venv" / "bin" / "handgraph").is_file():  # the docs' commands name .venv/bin/handgraph
        message = f"{ROOT / '.venv'} has no handgraph: run make setup"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    top = tmp_path_factory.mktemp("docs")
    (top / "shared").symlink_to(shared_data.parent)
    here = top / "handgraph"
    here.mkdir()
    (here / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(ROOT / "checkpoints", here / "checkpoints")
    shutil.copytree(ROOT / "bench/candidates", here / "bench/candidates")  # the ends of the shipped average
    nyu = here / "stand-ins" / "nyu"
    write_nyu(nyu, {"train": 3}, np.random.default_rng(0))
    write_one_frame_nyu(shared_data, nyu)
    v2v = (top / V2V_RESULTS.removeprefix("../")).read_text().splitlines(keepends=True)
    (here / "stand-ins" / "v2v_first_frames.txt").write_text("".join(v2v[:V2V_FRAMES]))
    shutil.copy(shared_data / "real/nyu/depth_1_0000001.png", here / "frame.png")
    _record_sr305(shared_data, here / "runs")
    return here


def _record_sr305(shared_data: Path, runs: Path) -> None:
    """runs/rec.npy and .json as ``handgraph live --record`` writes them, from the real SR305 frames."""
    from handgraph.geometry.camera import camera_preset
    from handgraph.io.depth_images import depth_files, read_depth
    from handgraph.io.recordings import Recorder

    recorder = Recorder(runs / "rec.npy", camera_preset("sr305"), 0.125, 30.0)
    for path in depth_files(shared_data / "real/sr305/20210326-231615"):
        recorder.add(read_depth(path).astype(np.uint16))  # the raw units, 0.125 mm
    recorder.close()


COMMANDS = documented_commands()
PYTHON = documented_python()


def test_the_docs_show_commands_and_every_skip_is_one_of_them():
    shown = {command.removeprefix(".venv/bin/") for _, command in COMMANDS}
    assert len(COMMANDS) >= 30
    assert set(SKIPPED) <= shown, f"skips of commands the docs no longer show: {set(SKIPPED) - shown}"


@pytest.mark.slow
@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_documented_command_runs_as_written(where, command, workspace):
    if command.removeprefix(".venv/bin/") in SKIPPED:
        pytest.skip(SKIPPED[command.removeprefix(".venv/bin/")])
    run = as_run_here(command)
    environment = {**os.environ, "PATH": f"{workspace / '.venv' / 'bin'}:{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    done = subprocess.run(["bash", "-c", run], cwd=workspace, env=environment, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{where}: {run}\n{output[-3000:]}"
    assert "Traceback" not in output, f"{where}: {run}\n{output[-3000:]}"
    for path in written_paths(run):
        assert (workspace / path).exists(), f"{where}: {run} did not write {path}"
        if (workspace / path).is_dir():
            assert any((workspace / path).iterdir()), f"{where}: {run} left {path} empty"
    json_files = [path for path in written_paths(run) if path.endswith(".json")]
    for path in json_files:
        json.loads((workspace / path).read_text())


@pytest.mark.slow
@pytest.mark.parametrize(("where", "code"), PYTHON, ids=[where for where, _ in PYTHON])
def test_documented_python_runs_as_written(where, code, workspace):
    done = subprocess.run([str(workspace / ".venv" / "bin" / "python"), "-c", code], cwd=workspace,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "Traceback" not in output, f"{where}:\n{code}\n{output[-3000:]}"
    assert output.strip(), f"{where}: printed nothing"
