"""Training killed with SIGKILL at the moments that matter (inside a step, halfway through writing a checkpoint's
weights, before a checkpoint folder is renamed into place, halfway through latest.json, before latest.json
names a new checkpoint, and at a random time) resumes to exactly the weights of an uninterrupted run; what a
killed run leaves behind is either a whole checkpoint or nothing a reader accepts."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from handgraph.models.checkpoint import load_model
from handgraph.training.run import latest_checkpoint

DRIVER = Path(__file__).with_name("killed_train.py")
SETTINGS = ["threads=1", "checkpoint_every=2", "eval_every=6"]  # steps 6: checkpoints at 2, 4 and 6


def run(out: Path, moment: str = "none", call: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DRIVER), str(out), moment, str(call), *SETTINGS],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def final_weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / "model" / "model.safetensors")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, torch.Tensor]:
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    done = run(out)
    assert done.returncode == 0, done.stderr
    return final_weights(out)


def assert_resumes_exactly(out: Path, killed: subprocess.CompletedProcess, uninterrupted: dict) -> None:
    assert killed.returncode == -9, killed.stderr[-2000:]  # SIGKILL: no handler ran
    latest = latest_checkpoint(out)
    if latest is not None:
        load_model(latest)  # what latest.json names is whole
    resumed = run(out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    weights = final_weights(out)
    assert weights.keys() == uninterrupted.keys()
    # bitwise: the same run on the same machine at the same thread count (the child inherits OMP_NUM_THREADS)
    different = [key for key in weights if not torch.equal(weights[key], uninterrupted[key])]
    assert not different, f"resumed weights differ from the uninterrupted run's: {different[:5]}"
    leftovers = [path.name for path in [*out.iterdir(), *(out / "checkpoints").iterdir()] if path.name.startswith(".")]
    assert not leftovers, f"temporary files of the killed run left after the resume: {leftovers}"


@pytest.mark.parametrize(
    "moment, call",
    [
        ("step", 3),  # in step 3, after the checkpoint of step 2
        ("weights", 4),  # step 4's training.safetensors half written
        ("unnamed", 1),  # the first checkpoint written, not yet in place: the run starts again, not resumes
        ("unnamed", 5),  # step 4's checkpoint written, not yet renamed into place
        ("pointer", 2),  # latest.json half written as it was to name step 4
        ("unmarked", 2),  # step 4 in place, latest.json still naming step 2: the resume writes step 4 again
    ],
)
def test_killed_training_resumes_to_the_same_weights(moment, call, tmp_path, uninterrupted):
    out = tmp_path / "run"
    assert_resumes_exactly(out, run(out, moment, call), uninterrupted)


def killed_from_outside(out: Path, delay: float) -> subprocess.CompletedProcess:
    """The run, sent SIGKILL ``delay`` seconds after it wrote config.json (its training began)."""
    process = subprocess.Popen([sys.executable, str(DRIVER), str(out), "none", "0", *SETTINGS],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    while not (out / "config.json").exists() and process.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    process.kill()
    _, errors = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, "", errors)


def test_killed_from_outside_at_random_times(tmp_path, uninterrupted):
    delays, resumed = random.Random(16), 0
    for attempt in range(3):  # each a fresh run, killed at a random moment of its training
        out = tmp_path / f"run{attempt}"
        killed = killed_from_outside(out, delays.uniform(0.0, 1.5))
        if killed.returncode == 0:
            continue  # finished before the kill: nothing to resume
        assert_resumes_exactly(out, killed, uninterrupted)
        resumed += 1
    assert resumed, "every run finished before its kill"
