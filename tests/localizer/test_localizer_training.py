import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from handgraph.cli import main
from handgraph.errors import HandgraphError
from handgraph.localizer.train import calibrate_threshold, load_localizer_config, train_localizer

TINY = ["steps=4", "batch_size=4", "eval_every=2", "validation_frames=12", "workers=0", "network.width=4"]


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
    config = load_localizer_config(TINY)
    train_localizer(config, tmp_path / "whole")
    half = load_localizer_config([*TINY[1:], "steps=2"])  # the same run, stopped after its first checkpoint
    train_localizer(half, tmp_path / "parts")
    (tmp_path / "parts" / "config.json").write_text((tmp_path / "whole" / "config.json").read_text())
    killed = [tmp_path / "parts" / "checkpoints" / ".step_0000004.x1", tmp_path / "parts" / ".metrics.json.x2.tmp"]
    killed[0].mkdir()  # what a writer killed mid-checkpoint leaves: the run's lifecycle (training.run) clears it
    killed[1].write_text("{")
    train_localizer(config, tmp_path / "parts", resume=True)
    assert not any(path.exists() for path in killed)
    whole = load_file(tmp_path / "whole" / "model" / "model.safetensors")
    parts = load_file(tmp_path / "parts" / "model" / "model.safetensors")
    for name, tensor in whole.items():  # bitwise: the same run on the same machine and thread count
        assert torch.equal(parts[name], tensor), name


def test_the_command_trains_and_calibrates(tmp_path, capsys):
    assert main(["train-localizer", "--out", str(tmp_path), "--set", *TINY]) == 0
    assert "localizer threshold" in capsys.readouterr().out
    meta = json.loads((tmp_path / "model" / "checkpoint.json").read_text())
    calibration = meta["metrics"]["calibration"]
    assert meta["model"]["threshold"] == calibration["threshold"] and calibration["max_false_hand_percent"] == 5.0
    assert main(["train-localizer", "--out", str(tmp_path), "--calibrate", "100"]) == 0  # any false-hand rate
    assert json.loads((tmp_path / "model" / "checkpoint.json").read_text())["model"]["threshold"] == 0.05
    # calibrated on other scenes than the run's: every frame without a hand, which the run's scenes never hold
    assert (
        main(["train-localizer", "--out", str(tmp_path), "--calibrate", "100", "--set", "scenes.hand_fraction=0"]) == 0
    )
    calibration = json.loads((tmp_path / "model" / "checkpoint.json").read_text())["metrics"]["calibration"]
    assert calibration["scenes"]["hand_fraction"] == 0.0
    # on frames rendered at twice the canvas's resolution and resampled, as predict resamples a camera's frame
    upsampled = ["scenes.hand_fraction=0", "validation_frames=4", "validation_upsample=2"]
    assert main(["train-localizer", "--out", str(tmp_path), "--calibrate", "100", "--set", *upsampled]) == 0
    calibration = json.loads((tmp_path / "model" / "checkpoint.json").read_text())["metrics"]["calibration"]
    assert (calibration["validation_upsample"], calibration["validation_frames"]) == (2, 4)
    capsys.readouterr()
    assert main(["train-localizer", "--out", str(tmp_path), "--calibrate", "5", "--set", "steps=3"]) == 1
    assert "may only change the validation scenes (scenes.KEY, validation_frames, validation_upsample), not steps" in (
        capsys.readouterr().err
    )


def test_fine_tuning_starts_from_a_localizer(tmp_path):
    train_localizer(load_localizer_config(TINY), tmp_path / "first")
    start = load_file(tmp_path / "first" / "model" / "model.safetensors")
    no_steps = load_localizer_config([*TINY, f"init_from={tmp_path / 'first' / 'model'}", "learning_rate=1e-12"])
    train_localizer(no_steps, tmp_path / "second")
    after = load_file(tmp_path / "second" / "model" / "model.safetensors")
    # four steps at a learning rate of 1e-12 move weights of order 0.1-1 by under 1e-11: far below the
    # differences of two random initialisations, which a run that ignored init_from would show (batch-norm
    # running statistics are left out: they follow the batches, not the learning rate)
    learned = [name for name in start if start[name].is_floating_point() and "running" not in name]
    assert max((after[name] - start[name]).abs().max().item() for name in learned) < 1e-6
    wider = load_localizer_config([*TINY[:-1], "network.width=8", f"init_from={tmp_path / 'first' / 'model'}"])
    with pytest.raises(HandgraphError, match="network config differs"):
        train_localizer(wider, tmp_path / "third")


class _Scores(torch.nn.Module):
    """Answers every frame with the score written in its first pixel."""

    def forward(self, depth):
        heat = torch.logit(depth[:, :, :1, :1].clamp(1e-6, 1 - 1e-6))
        return {"heat": heat, "offset": torch.zeros(len(depth), 2, 1, 1), "depth": torch.zeros(len(depth), 1, 1, 1)}


def test_threshold_is_the_lowest_with_few_enough_false_hands():
    scores = np.array([0.91, 0.8, 0.12, 0.33, 0.52, 0.07, 0.21, 0.48, 0.3, 0.11, 0.02, 0.4])  # frames without a hand
    depth = torch.tensor(scores, dtype=torch.float32)[:, None, None].expand(12, 4, 4).clone()
    scenes = {"depth": depth, "hand_present": torch.zeros(12, 2, dtype=torch.bool)}
    # at most 25 %: 3 of 12 may score at or above the threshold (0.91, 0.8, 0.52): 0.5 lets those three through
    assert calibrate_threshold(_Scores(), scenes, 25.0) == 0.5
    assert calibrate_threshold(_Scores(), scenes, 0.0) == 0.95
