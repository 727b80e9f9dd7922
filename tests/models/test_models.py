import numpy as np
import pytest
import torch
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import ulps
from handgraph.models import DEFAULT_MODEL, ModelConfig, create_model, list_models
from handgraph.preprocess.crop import crop_uvd_to_xyz, normalized_to_uvd

TINY = dict(
    input_size=32, width=8, blocks=1, transformer_dim=16, transformer_heads=2, encoder_layers=1, decoder_layers=1
)


def _inputs(batch=2, size=32):
    depth = torch.rand(batch, 1, size, size) * 2 - 1
    crop = torch.tensor([[60.0, 60.0, 15.5, 15.5, 450.0, 250.0], [55.0, -58.0, 20.0, 10.0, 600.0, 250.0]])[:batch]
    return depth, crop


EVERY_MODEL = pytest.mark.parametrize(
    ("name", "options"), [*((name, {}) for name in list_models()), ("hgt", {"first_estimate": "integral"})]
)


def test_the_default_model_comes_last():
    assert list_models() == ["regress", "heatmap", "a2j", "awr", "gcn_flat", "sia_gcn", "hgt", "hgt_interleaved"]
    assert DEFAULT_MODEL == "hgt_interleaved" == ModelConfig().name


@EVERY_MODEL
def test_forward_shapes_and_no_nan(name, options):
    torch.manual_seed(0)
    model = create_model(name, **TINY, **options).eval()
    depth, crop = _inputs()
    output = model(depth, crop)
    for key in ("uvd_norm", "uvd", "xyz"):
        assert output[key].shape == (2, 21, 3) and torch.isfinite(output[key]).all(), key
    # the model calls these very functions on these very tensors: bitwise
    assert torch.equal(output["uvd"], normalized_to_uvd(output["uvd_norm"], crop, 32))
    assert torch.equal(output["xyz"], crop_uvd_to_xyz(output["uvd"], crop))
    for heatmap in output["heatmaps"]:
        assert heatmap.shape == (2, 21, 8, 8)


@EVERY_MODEL
def test_every_parameter_gets_a_gradient(name, options):
    torch.manual_seed(0)
    model = create_model(name, **TINY, **options).train()
    depth, crop = _inputs()
    output = model(depth, crop)
    loss = output["xyz"].square().mean() + sum(logits.square().mean() for logits in output["heatmaps"])
    if "auxiliary" in output:  # the model's own terms (hgt_interleaved's earlier blocks learn through them alone)
        loss = loss + sum(output["auxiliary"](torch.zeros_like(output["uvd_norm"])).values())
    loss.backward()
    missing = [
        key
        for key, parameter in model.named_parameters()
        if parameter.grad is None or not parameter.grad.abs().sum() > 0
    ]
    assert not missing, missing


@pytest.mark.parametrize("layout", ["nyu14", "icvl16"])
def test_other_joint_layouts(layout):
    output = create_model("hgt", layout=layout, **TINY).eval()(*_inputs())
    joints = {"nyu14": 14, "icvl16": 16}[layout]
    assert output["xyz"].shape == (2, joints, 3)


def test_rgb_input():
    model = create_model("sia_gcn", in_channels=3, **TINY).eval()
    assert model(torch.rand(1, 3, 32, 32), _inputs(1)[1])["xyz"].shape == (1, 21, 3)


@pytest.mark.parametrize(("name", "channels"), [("sia_gcn", 4), ("hgt", 1)])
def test_joint_map_channels_default_per_model_and_are_stored_explicitly(name, channels):
    model = create_model(name, **TINY)
    assert model.config.node_channels == channels
    assert model.body.layers[0].channels == channels
    assert ModelConfig.from_dict(model.config.to_dict()).node_channels == channels  # what checkpoints hold
    assert create_model(name, node_channels=2, **TINY).body.layers[0].channels == 2  # a set value wins
    assert ModelConfig.from_dict({"name": name}).node_channels is None  # the name alone leaves it open


def test_stored_configs_without_first_estimate_keep_the_integral_estimate_they_were_trained_with():
    stored = create_model("hgt", **TINY).config.to_dict()
    assert stored.pop("first_estimate") == "vote"  # the default now
    assert ModelConfig.from_stored(stored).first_estimate == "integral"  # written before the field existed
    assert ModelConfig.from_stored({**stored, "first_estimate": "vote"}).first_estimate == "vote"
    assert ModelConfig.from_dict(stored).first_estimate == "vote"  # a user's config takes the default


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"input_size": 30}, "multiple of 8"),
        ({"kernel_size": 4}, "odd"),
        ({"layout": "nyu15"}, "unknown joint layout"),
        ({"node_channels": 0}, "node_channels must be within \\[1, 256\\]"),
        ({"first_estimate": "anchors"}, "first_estimate must be one of"),
    ],
)
def test_bad_configs(overrides, message):
    with pytest.raises(HandgraphError, match=message):
        ModelConfig(**overrides)


def test_unknown_model():
    with pytest.raises(HandgraphError, match="unknown model 'resnet'; known: regress, heatmap"):
        create_model("resnet")


def test_interleaved_blocks_each_decode_every_joint():
    torch.manual_seed(0)
    model = create_model("hgt_interleaved", **TINY, interleaved_blocks=3).eval()
    output = model(*_inputs())
    blocks = output["block_uvd_norm"]
    assert len(blocks) == 3 == len(output["block_estimates"])
    assert len(output["heatmaps"]) == 2  # the initial maps and the last block's, as hgt supervises its two
    assert all(uvd.shape == (2, 21, 3) for uvd in blocks)
    assert output["uvd_norm"] is blocks[-1]  # the model's answer is the last block's
    assert not torch.equal(blocks[0], blocks[1])  # each block changes the joints
    terms = output["auxiliary"](torch.zeros(2, 21, 3))
    # BLOCK_WEIGHT (0.5) times the mean L1 of the two earlier blocks, here in float64 from NumPy. float32 means of
    # 126 and then 2 positive terms: at most 128 roundings, each within an ulp of the result
    expected = 0.5 * np.mean([np.abs(uvd.detach().numpy().astype(np.float64)).mean() for uvd in blocks[:-1]])
    assert_close(float(terms["blocks"].detach()), expected, ulps(expected, np.float32, 128))
    assert {"dense", "estimate"} <= set(terms)


def test_interleaved_refuses_an_integral_first_estimate():
    with pytest.raises(HandgraphError, match="first_estimate must be 'vote'"):
        create_model("hgt_interleaved", **TINY, first_estimate="integral")
