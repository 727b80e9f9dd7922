"""handgraph average: a weighted average of checkpoints, against a loop over every number."""

import json
from pathlib import Path

import pytest
import torch

from handgraph.cli import main
from handgraph.errors import HandgraphError
from handgraph.models import create_model
from handgraph.models.checkpoint import load_model, save_checkpoint
from handgraph.models.soup import average_checkpoints

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(
    input_size=32, width=8, blocks=1, transformer_dim=16, transformer_heads=2, encoder_layers=1, decoder_layers=1
)


def _checkpoints(tmp_path, count: int) -> list:
    folders = []
    for seed in range(count):
        torch.manual_seed(seed)
        model = create_model("hgt", **TINY)
        with torch.no_grad():  # running statistics that differ too
            for buffer in model.buffers():
                if buffer.is_floating_point():
                    buffer.add_(torch.rand_like(buffer))
        folders.append(save_checkpoint(tmp_path / f"ck{seed}", model, step=10 * (seed + 1), metrics={}))
    return folders


def test_the_average_is_the_weighted_sum_of_every_number(tmp_path):
    folders = _checkpoints(tmp_path, 3)
    weights = [0.5, 0.3, 0.2]
    out = average_checkpoints(folders, tmp_path / "soup", weights)
    states = [load_model(folder)[0].state_dict() for folder in folders]
    averaged, meta = load_model(out)
    for name, value in averaged.state_dict().items():
        if not value.is_floating_point():
            assert torch.equal(value, states[0][name]), name
            continue
        expected = value.new_empty(value.shape).view(-1)
        for index in range(expected.numel()):  # one number at a time, in Python floats (float64)
            expected[index] = sum(
                w * float(state[name].view(-1)[index]) for w, state in zip(weights, states, strict=True)
            )
        # both sum three float64 products and round once to float32: equal, or one float32 ulp apart where
        # the float64 sums straddle a rounding boundary
        torch.testing.assert_close(value.view(-1), expected, rtol=2**-23, atol=0.0, msg=name)
    assert meta["train"]["average_of"] == [
        {"checkpoint": str(folder), "weight": w, "step": 10 * (k + 1)}
        for k, (folder, w) in enumerate(zip(folders, weights, strict=True))
    ]
    assert meta["step"] == 30


def test_the_command_averages_equally_and_refuses_what_cannot_be_averaged(tmp_path, capsys):
    folders = [str(folder) for folder in _checkpoints(tmp_path, 2)]
    assert main(["average", *folders, "--out", str(tmp_path / "soup")]) == 0
    recorded = json.loads((tmp_path / "soup" / "checkpoint.json").read_text())["train"]["average_of"]
    assert [source["weight"] for source in recorded] == [0.5, 0.5]
    other = save_checkpoint(tmp_path / "other", create_model("hgt", **{**TINY, "width": 4}), step=1, metrics={})
    for arguments, message in (
        ([folders[0], str(other)], "differs from"),
        ([folders[0]], "two checkpoints or more"),
        ([*folders, "--weights", "0.7", "0.7"], "sum to 1"),
        ([*folders, "--weights", "1.5", "-0.5"], ">= 0"),
        ([*folders, "--weights", "1"], "1 weights for 2 checkpoints"),
        ([folders[0], str(ROOT / "checkpoints/localizer")], "a hand localiser's checkpoint"),
    ):
        assert main(["average", *arguments, "--out", str(tmp_path / "bad")]) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    with pytest.raises(HandgraphError, match="sum to 1"):
        average_checkpoints(folders, tmp_path / "bad", [0.5, 0.6])
