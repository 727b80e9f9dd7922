"""A real dataset's split cropped once into a cache, a few training steps on it, and the model scored on the
test split: the whole path a user with NYU on disk follows, on a mini copy."""

import json

import numpy as np
import pytest
from minis import write_nyu
from tolerance import assert_close

from handgraph.cli import main
from handgraph.datasets.cache import build_crop_cache
from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import ulps
from handgraph.synth.shards import ShardedFrames


def test_cache_reuses_rebuilds_and_trains(tmp_path, capsys):
    write_nyu(tmp_path / "nyu", {"train": 6, "test": 2}, np.random.default_rng(3))
    cache = tmp_path / "cache"
    manifest = build_crop_cache("nyu:train", tmp_path / "nyu", cache, size=32, shard_size=4, workers=1, progress=False)
    assert manifest["complete"] and manifest["count"] == 6 and manifest["layout"] == "nyu14"
    frames = ShardedFrames(cache)
    frame = frames.frame(5)
    assert frame["depth"].shape == (32, 32) and frame["uvd"].shape == (14, 3) and frame["cube_mm"] == 300.0
    # the crop's camera maps the cube onto the crop: 300 mm at the centre's depth spans 32 pixels
    # the cache stores the crop's camera and the centre in float32: a few ulps of 32
    assert_close(300.0 * frame["intrinsics"][0] / frame["centre_xyz"][2], 32.0, ulps(32.0, np.float32, 8))
    stamp = (cache / "shard_00000.npz").stat().st_mtime_ns
    build_crop_cache("nyu:train", tmp_path / "nyu", cache, size=32, shard_size=4, workers=1, progress=False)
    assert (cache / "shard_00000.npz").stat().st_mtime_ns == stamp  # reused
    build_crop_cache("nyu:train", tmp_path / "nyu", cache, size=32, cube_mm=250.0, shard_size=4, workers=1,
                     progress=False)  # fmt: skip
    assert "rebuilding" in capsys.readouterr().out and ShardedFrames(cache).frame(0)["cube_mm"] == 250.0

    run = tmp_path / "run"
    settings = [f"data.shards={cache}", "model.layout=nyu14", "model.input_size=32", "steps=2", "batch_size=3"]
    assert main(["train", "--config", "tiny", "--set", *settings, "--out", str(run), "--no-progress"]) == 0
    meta = json.loads((run / "model" / "checkpoint.json").read_text())
    assert meta["model"]["layout"] == "nyu14" and np.isfinite(meta["metrics"]["mean_mm"])
    assert meta["contract"] == {"cube_mm": 250.0, "input_size": 32, "layout": "nyu14", "cube_per_frame": False,
                                "depth": "cube, [-1, 1]"}  # the cache's crop  # fmt: skip
    arguments = ["evaluate", "--checkpoint", str(run / "model"), "--data", "nyu:test", "--root", str(tmp_path / "nyu")]
    capsys.readouterr()
    assert main([*arguments, "--centers", "labels", "--predictions", str(tmp_path / "p.txt")]) == 0
    assert len((tmp_path / "p.txt").read_text().splitlines()) == 2
    assert "crops of the model's own 250 mm cube" in capsys.readouterr().out


def test_a_model_trained_on_per_frame_cubes_is_scored_on_them(tmp_path, capsys):
    from handgraph.training.config import load_config
    from handgraph.training.loop import contract_of_run

    write_nyu(tmp_path / "nyu", {"train": 2, "test": 1}, np.random.default_rng(5))
    build_crop_cache("nyu:train", tmp_path / "nyu", tmp_path / "cache", size=32, workers=1, progress=False)
    config = load_config("tiny", [f"data.shards={tmp_path / 'cache'}", "model.layout=nyu14", "model.input_size=32"])
    assert contract_of_run(config).cube_per_frame  # NYU's 300 and 250 mm, frame by frame
    with pytest.raises(HandgraphError, match="its crops are 32x32, but model.input_size is 64"):
        contract_of_run(load_config("tiny", [f"data.shards={tmp_path / 'cache'}", "model.input_size=64"]))


def test_a_split_without_labels_or_a_bad_crop_is_refused(tmp_path):
    write_nyu(tmp_path / "nyu", {"test": 1}, np.random.default_rng(4))
    with pytest.raises(HandgraphError, match="the cube within"):
        build_crop_cache("nyu:test", tmp_path / "nyu", tmp_path / "c", cube_mm=20.0)


def test_dataset_presets_need_a_cache(tmp_path):
    from handgraph.training.config import load_config

    with pytest.raises(HandgraphError, match="handgraph data cache msra:train=P0 --root DIR"):
        load_config("msra")
    config = load_config("icvl", [f"data.shards={tmp_path}"])
    assert config.model.layout == "icvl16" and config.data.augment


def test_batches_mix_real_crops_and_synthetic_frames(tmp_path):
    from handgraph.training.config import load_config
    from handgraph.training.loop import _training_batches

    write_nyu(tmp_path / "nyu", {"train": 4}, np.random.default_rng(6))
    build_crop_cache("nyu:train", tmp_path / "nyu", tmp_path / "cache", size=32, workers=1, progress=False)
    settings = [f"data.shards={tmp_path / 'cache'}", "data.synth_fraction=0.25", "model.layout=nyu14", "batch_size=4"]
    batch = next(_training_batches(load_config("tiny", settings), 0, 0, 1))
    assert batch["depth"].shape == (4, 1, 32, 32) and batch["xyz"].shape == (4, 14, 3)
    # three real crops with NYU's 300 mm cube, one synthetic frame with the synthetic 250 mm cube
    assert batch["cube_mm"].tolist() == [300.0, 300.0, 300.0, 250.0]
    with pytest.raises(HandgraphError, match="synth_fraction must be within"):
        next(_training_batches(load_config("tiny", [*settings[:1], "data.synth_fraction=2"]), 0, 0, 1))


def test_a_canonical_model_fine_tunes_on_a_datasets_labels_through_the_joint_map(tmp_path):
    import torch

    from handgraph.geometry.joint_map import canonical_to_layout
    from handgraph.geometry.layouts import NYU14
    from handgraph.geometry.skeleton import HAND
    from handgraph.training.losses import LossWeights, mapped_pose_loss

    # the map is the same on tensors as on arrays, and differentiable
    canonical = torch.randn(2, 21, 3, dtype=torch.float64, requires_grad=True) * 50
    mapped = canonical_to_layout(canonical, NYU14)
    scale = float(mapped.detach().abs().max())  # float64 coordinates up to ~200 mm, averaged (palm) in either module
    assert_close(mapped, canonical_to_layout(canonical.detach().numpy(), NYU14), ulps(scale, np.float64, 8))
    output = {"xyz": canonical, "uvd_norm": canonical / 100, "heatmaps": []}
    loss, terms = mapped_pose_loss(output, mapped.detach() / 100, mapped.detach(), NYU14, LossWeights())
    # labels that the map of the prediction matches, up to the order of a division and an average (ulps)
    assert float(loss.detach()) <= ulps(scale, np.float64, 16)
    assert len(HAND.joint_names) == 21 and set(terms) == {"uvd", "xyz", "bone"}

    write_nyu(tmp_path / "nyu", {"train": 4}, np.random.default_rng(7))
    build_crop_cache("nyu:train", tmp_path / "nyu", tmp_path / "cache", size=32, workers=1, progress=False)
    run = tmp_path / "run"
    settings = [f"data.shards={tmp_path / 'cache'}", "data.synth_fraction=0.5", "steps=2", "batch_size=4"]
    assert main(["train", "--config", "tiny", "--set", *settings, "--out", str(run), "--no-progress"]) == 0
    assert json.loads((run / "model" / "checkpoint.json").read_text())["model"]["layout"] == "canonical"
    with pytest.raises(HandgraphError, match="holds nyu14 labels, which a icvl16 model cannot learn"):
        from handgraph.geometry.layouts import ICVL16
        from handgraph.training.config import load_config
        from handgraph.training.loop import labels_layout

        labels_layout(load_config("tiny", [f"data.shards={tmp_path / 'cache'}"]), ICVL16)
