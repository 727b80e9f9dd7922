"""A DistributedDataParallel run (torchrun, two CPU processes, gloo) that loses a process stops with one clear
line from the survivor naming the checkpoint to resume from, and the same command with --resume finishes it
to exactly the weights of an uninterrupted distributed run (every process's random state is checkpointed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

DRIVER = Path(__file__).with_name("killed_train.py")
SETTINGS = ["threads=1", "checkpoint_every=2", "eval_every=6"]


def torchrun(out: Path, moment: str = "none", call: int = 0, kill_rank: int | None = None):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(DRIVER),
               str(out), moment, str(call), *SETTINGS]  # fmt: skip
    environment = {"KILL_RANK": str(kill_rank)} if kill_rank is not None else {}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, **environment})


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, torch.Tensor]:
    out = tmp_path_factory.mktemp("ddp") / "run"
    done = torchrun(out)
    assert done.returncode == 0, done.stderr[-3000:]
    return load_file(out / "model" / "model.safetensors")


def test_a_lost_process_stops_the_run_clearly_and_it_resumes_exactly(tmp_path, uninterrupted):
    out = tmp_path / "run"
    killed = torchrun(out, "step", 3, kill_rank=1)  # process 1 dies in step 3, after the checkpoint of step 2
    assert killed.returncode != 0
    said = killed.stderr + killed.stdout  # process 0 fails in its next collective, or torchrun stops it first
    line = "handgraph train: error: process 0 of 2: "
    assert line + "another process of the run stopped" in said or line + "stopped by the launcher" in said, said[-3000:]
    assert f"the last checkpoint is step_0000002 in {out}: run the same command with --resume" in killed.stderr
    resumed = torchrun(out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    weights = load_file(out / "model" / "model.safetensors")
    # bitwise: the same run on the same machine at the same thread count (the children inherit OMP_NUM_THREADS)
    different = [key for key in weights if not torch.equal(weights[key], uninterrupted[key])]
    assert weights.keys() == uninterrupted.keys() and not different, different[:5]
