import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import ulps
from handgraph.models import create_model
from handgraph.synth.datasets import frames_to_tensors, model_inputs
from handgraph.synth.generator import SynthConfig, generate_frames
from handgraph.training import run
from handgraph.training.config import load_config
from handgraph.training.loop import train
from handgraph.training.losses import LossWeights, pose_loss
from handgraph.training.run import latest_checkpoint


@pytest.mark.parametrize("name", ["heatmap", "hgt"])
def test_a_few_steps_reduce_the_loss(name):
    torch.manual_seed(0)
    config = SynthConfig(size=32)
    inputs = model_inputs(frames_to_tensors(generate_frames(config, 1, range(8)), 1.0), 250.0, 32, "cpu")
    model = create_model(name, input_size=32, width=8, blocks=1, transformer_dim=16, transformer_heads=2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    bones = torch.tensor(model.layout.bones)
    losses = []
    for _ in range(25):
        loss, _ = pose_loss(
            model(inputs["depth"], inputs["crop"]), inputs["uvd_norm"], inputs["xyz"], bones, LossWeights()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("assignments", [[], ["ema_decay=0.6"]], ids=["last weights", "weight average"])
def test_resume_equals_an_uninterrupted_run(tmp_path, monkeypatch, assignments):
    config = load_config("tiny", assignments)  # 6 steps, a checkpoint every 3
    train(config, tmp_path / "straight", progress=False)

    def killed_after_the_first_checkpoint(run, folder, keep=2):
        original_mark_latest(run, folder, keep)
        raise KeyboardInterrupt

    original_mark_latest = run.mark_latest
    monkeypatch.setattr(run, "mark_latest", killed_after_the_first_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(run, "mark_latest", original_mark_latest)
    assert latest_checkpoint(tmp_path / "resumed").name == "step_0000003"
    train(config, tmp_path / "resumed", resume=True, progress=False)
    straight = load_file(tmp_path / "straight" / "model" / "model.safetensors")
    resumed = load_file(tmp_path / "resumed" / "model" / "model.safetensors")
    assert straight.keys() == resumed.keys()
    for key in straight:  # bitwise: the same run on the same machine at the same thread count, resumed or not
        assert torch.equal(resumed[key], straight[key]), key
    metrics = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    assert metrics["step"] == 6 and np.isfinite(metrics["mean_mm"])
    # evaluations at steps 3 and 6 (eval_every 3), the first from before the interruption, training time growing
    history = json.loads((tmp_path / "resumed" / "history.json").read_text())
    assert [entry["step"] for entry in history] == [3, 6]
    assert 0 < history[0]["train_seconds"] < history[1]["train_seconds"]
    assert history[1]["mean_mm"] == metrics["mean_mm"]


def test_the_weight_average_is_the_runs_model(tmp_path):
    live = train(load_config("tiny", ["steps=4", "checkpoint_every=4"]), tmp_path / "live", progress=False)
    nearly = train(load_config("tiny", ["steps=4", "checkpoint_every=4", "ema_decay=1e-9"]), tmp_path / "nearly",
                   progress=False)  # fmt: skip
    averaged = train(load_config("tiny", ["steps=4", "checkpoint_every=4", "ema_decay=0.9"]), tmp_path / "average",
                     progress=False)  # fmt: skip
    weights = {
        name: load_file(tmp_path / name / "model" / "model.safetensors") for name in ("live", "nearly", "average")
    }
    last = load_file(tmp_path / "average" / "checkpoints" / "step_0000004" / "model.safetensors")  # live weights
    key = next(key for key in weights["live"] if key.endswith("weight") and weights["live"][key].ndim == 4)
    live_weights = weights["live"][key]
    # an average of the last step only: (1 - 1e-9) w + 1e-9 w_before, a float32 rounding of w plus 1e-9 of
    # the difference between two weights (each below max |w|)
    bound = ulps(live_weights, torch.float32, 1) + 2e-9 * float(live_weights.abs().max())
    assert_close(weights["nearly"][key], live_weights, bound)
    assert torch.equal(last[key], live_weights)  # the same run repeated on this machine: bitwise
    assert (weights["average"][key] - live_weights).abs().max() > 1e-4  # an average of several steps differs
    # joints from those nearly equal weights: a few float32 ulps of coordinates up to 1000 mm in the mean error
    assert_close(live["mean_mm"], nearly["mean_mm"], ulps(1000.0, torch.float32, 16))
    assert np.isfinite(averaged["mean_mm"])
    with pytest.raises(HandgraphError, match="ema_decay must be 0"):
        train(load_config("tiny", ["ema_decay=1.5"]), tmp_path / "bad", progress=False)


def test_training_with_augmentation(tmp_path):
    metrics = train(load_config("tiny", ["steps=2", "data.augment=true"]), tmp_path / "run", progress=False)
    assert np.isfinite(metrics["mean_mm"])


def test_runs_refuse_to_overwrite_or_resume_nothing(tmp_path):
    config = load_config("tiny", ["steps=3"])
    train(config, tmp_path / "run", progress=False)
    assert latest_checkpoint(tmp_path / "run").name == "step_0000003"
    with pytest.raises(HandgraphError, match="holds a training run already; pass --resume"):
        train(config, tmp_path / "run", progress=False)
    with pytest.raises(HandgraphError, match="no checkpoint to resume from"):
        train(config, tmp_path / "empty", resume=True, progress=False)
    with pytest.raises(HandgraphError, match="differs from this run's config"):
        train(load_config("tiny", ["steps=4"]), tmp_path / "run", resume=True, progress=False)


def test_fine_tuning_starts_from_a_checkpoint(tmp_path):
    first = load_config("tiny", ["steps=2", "eval_every=2", "checkpoint_every=2"])
    train(first, tmp_path / "first", progress=False)
    tuned = load_config("tiny", ["steps=1", "learning_rate=1e-12", f"init_from={tmp_path / 'first' / 'model'}"])
    train(tuned, tmp_path / "tuned", progress=False)
    before = load_file(tmp_path / "first" / "model" / "model.safetensors")
    after = load_file(tmp_path / "tuned" / "model" / "model.safetensors")
    weights = [key for key in before if "running_" not in key and "num_batches" not in key]  # not BN statistics
    assert len(weights) > 20
    for key in weights:  # one step at a negligible learning rate: the weights are the checkpoint's
        # Adam moves a weight by about the learning rate (1e-12); float32 rounds that away but near zero
        assert_close(after[key], before[key], 2e-12 + ulps(before[key], torch.float32, 1), key)
    other = load_config("tiny", ["steps=1", "model.width=16", f"init_from={tmp_path / 'first' / 'model'}"])
    with pytest.raises(HandgraphError, match="model config differs"):
        train(other, tmp_path / "other", progress=False)


def test_config_presets_yaml_and_assignments(tmp_path):
    assert load_config("demo").model.name == "hgt_interleaved"
    config = load_config("tiny", ["model.name=sia_gcn", "data.synth.preset=realsense", "learning_rate=1e-2"])
    assert (config.model.name, config.data.synth.preset, config.learning_rate) == ("sia_gcn", "realsense", 0.01)
    (tmp_path / "run.yaml").write_text("preset: tiny\nmodel:\n  input_size: 48\nsteps: 2\n")
    config = load_config(str(tmp_path / "run.yaml"))
    assert config.steps == 2 and config.model.input_size == 48 and config.data.synth.size == 48
    for assignments, message in (
        (["model.depth=3"], "unknown key 'model.depth'"),
        (["steps=many"], "steps must be int"),
        (["learning_rate=fast"], "learning_rate must be float"),
        (["steps"], "expected KEY=VALUE"),
        (["data.synth.preset=sonar"], "unknown preset 'sonar'"),
    ):
        with pytest.raises(HandgraphError, match=message):
            load_config("tiny", assignments)
    with pytest.raises(HandgraphError, match="neither a preset"):
        load_config("nonexistent")


def test_distributed_training_with_two_processes(tmp_path):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517", "-m", "handgraph",
        "train", "--config", "tiny", "--set", "steps=4", "--out", str(tmp_path / "ddp"), "--no-progress",
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=240, env=environment, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (tmp_path / "ddp" / "model" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "ddp" / "metrics.json").read_text())["step"] == 4


def test_validation_and_evaluation_crop_with_the_models_own_cube():
    # A model trained on 300 mm cubes is validated and scored on 300 mm cubes, not on the splits' 250 mm.
    import numpy as np

    from handgraph.evaluation.model_eval import predict_split
    from handgraph.models import create_model
    from handgraph.training.config import load_config
    from handgraph.training.loop import validation_frames

    config = load_config("tiny", ["data.synth.cube_mm=300", "eval_frames=4"])
    assert validation_frames(config)["cube_mm"] == 300.0
    model = create_model("regress", input_size=config.model.input_size)
    result = predict_split(model, "test", 3, cube_mm=300.0)
    side = 300.0 * result["intrinsics"][:, 0] / result["centre_xyz"][:, 2]  # crop pixels the cube spans
    # float32 crop cameras and centres: a few ulps of the crop's side in pixels
    assert_close(side, config.model.input_size, ulps(config.model.input_size, np.float32, 8))


def test_further_sensor_presets_split_each_batch_between_their_streams():
    from dataclasses import replace

    from handgraph.synth.datasets import SynthStream
    from handgraph.training.loop import _training_batches

    config = load_config("tiny", ["batch_size=5", "data.synth_presets=[realsense]"])
    batch = next(_training_batches(config, 0, 0, 1))
    kinect = next(iter(SynthStream(config.data.synth, config.data.seed, 3)))
    realsense = next(iter(SynthStream(replace(config.data.synth, preset="realsense"), config.data.seed + 1, 2)))
    # the same frames drawn by the same code on this machine, joined: bitwise equal
    assert torch.equal(batch["depth"], torch.cat([kinect["depth"], realsense["depth"]]))
    assert not torch.equal(kinect["depth"][:2], realsense["depth"])  # two sensors, two streams
