"""A dataset build (handgraph synth; handgraph data cache writes its shards the same way) killed with SIGKILL
halfway through a shard or before the manifest lists a finished shard leaves a folder that no reader accepts,
and the same command then finishes it into exactly the dataset an uninterrupted build writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from handgraph.errors import HandgraphError
from handgraph.synth.shards import ShardedFrames

DRIVER = Path(__file__).with_name("killed_synth.py")


def run(out: Path, moment: str = "none", call: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DRIVER), str(out), moment, str(call)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def frames(out: Path) -> dict[str, np.ndarray]:
    dataset = ShardedFrames(out)
    return {key: np.stack([dataset.frame(k)[key] for k in range(len(dataset))]) for key in dataset.frame(0)}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted") / "data"
    assert run(out).returncode == 0
    return out


@pytest.mark.parametrize("moment, call", [("shard", 2), ("manifest", 3)])
def test_killed_build_is_refused_then_finished(moment, call, tmp_path, uninterrupted):
    out = tmp_path / "data"
    killed = run(out, moment, call)
    assert killed.returncode == -9, killed.stderr[-2000:]
    with pytest.raises(HandgraphError, match="incomplete"):
        ShardedFrames(out)
    assert run(out).returncode == 0
    assert not [path.name for path in out.iterdir() if path.name.startswith(".")], "temporary files left"
    mine, theirs = (json.loads((folder / "manifest.json").read_text()) for folder in (out, uninterrupted))
    assert [entry["count"] for entry in mine["shards"]] == [entry["count"] for entry in theirs["shards"]]
    built, reference = frames(out), frames(uninterrupted)
    assert built.keys() == reference.keys()
    for key in built:
        np.testing.assert_array_equal(built[key], reference[key], err_msg=key)
