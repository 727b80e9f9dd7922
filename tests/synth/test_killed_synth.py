"""A dataset build (handgraph synth, and the crop cache of handgraph data cache) killed with SIGKILL halfway
through a shard or before the manifest lists a finished shard leaves a folder that no reader accepts, and the
same command then finishes it into exactly the frames an uninterrupted build writes."""

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
sys.path.insert(0, str(Path(__file__).parents[1] / "datasets"))  # minis: a dataset in its published layout

import minis  # noqa: E402


def run(out: Path, moment: str = "none", call: int = 0, root: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, str(DRIVER), str(out), moment, str(call), *([str(root)] if root else [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def frames(out: Path) -> dict[str, np.ndarray]:
    dataset = ShardedFrames(out)
    return {key: np.stack([dataset.frame(k)[key] for k in range(len(dataset))]) for key in dataset.frame(0)}


@pytest.fixture(scope="module")
def nyu(tmp_path_factory) -> Path:
    """Six NYU test frames in the published layout."""
    root = tmp_path_factory.mktemp("nyu")
    minis.write_nyu(root, {"test": 6}, np.random.default_rng(5))
    return root


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, nyu) -> dict[str, Path]:
    built = {}
    for kind, root in (("synth", None), ("cache", nyu)):
        built[kind] = tmp_path_factory.mktemp("uninterrupted") / kind
        done = run(built[kind], root=root)
        assert done.returncode == 0, done.stderr[-2000:]
    return built


@pytest.mark.parametrize("kind", ["synth", "cache"])
@pytest.mark.parametrize("moment, call", [("shard", 2), ("manifest", 3)])
def test_killed_build_is_refused_then_finished(kind, moment, call, tmp_path, nyu, uninterrupted):
    out, root, uninterrupted = tmp_path / "data", (nyu if kind == "cache" else None), uninterrupted[kind]
    killed = run(out, moment, call, root)
    assert killed.returncode == -9, killed.stderr[-2000:]
    with pytest.raises(HandgraphError, match="incomplete"):
        ShardedFrames(out)
    assert run(out, root=root).returncode == 0
    assert not [path.name for path in out.iterdir() if path.name.startswith(".")], "temporary files left"
    mine, theirs = (json.loads((folder / "manifest.json").read_text()) for folder in (out, uninterrupted))
    assert [entry["count"] for entry in mine["shards"]] == [entry["count"] for entry in theirs["shards"]]
    built, reference = frames(out), frames(uninterrupted)
    assert built.keys() == reference.keys()
    for key in built:
        np.testing.assert_array_equal(built[key], reference[key], err_msg=key)
