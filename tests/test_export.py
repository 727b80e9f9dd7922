import copy

import pytest
import torch
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.inference.export import agreement_bound_mm, compare_with_onnx, example_inputs, export_onnx
from handgraph.inference.networks import load_network
from handgraph.models import create_model, list_models
from handgraph.models.checkpoint import load_model
from handgraph.weights import POSE_MODEL

TINY = dict(
    input_size=32, width=8, blocks=1, transformer_dim=16, transformer_heads=2, encoder_layers=1, decoder_layers=1
)

INTEGRAL = {"first_estimate": "integral"}


@pytest.mark.parametrize(("name", "options"), [*((name, {}) for name in list_models()), ("hgt", INTEGRAL)])
def test_onnx_runtime_agrees_with_pytorch_at_any_batch(name, options, tmp_path):
    torch.manual_seed(0)
    model = create_model(name, **TINY, **options).eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", {"model": model.config.to_dict(), "cube_mm": 250.0})
    network = load_network(path, "onnx")
    assert (network.name, network.input_size, network.layout.num_joints) == (name, 32, 21)
    for batch in (1, 3, 64):  # traced at batch 2: the batch axis must be dynamic
        depth, crop = example_inputs(model, batch, seed=batch)
        with torch.no_grad():
            expected = model(depth, crop)["xyz"].numpy()
        got = network(depth, crop)
        assert got.shape == (batch, 21, 3)
        # the same float32 graph by other kernels: 32 ulps of the largest coordinate (export.agreement_bound_mm;
        # 2 are seen on AVX-512, AVX2 and SSE kernels); test_a_wrong_weight... shows what exceeds it
        assert_close(got, expected, agreement_bound_mm(expected), f"{name} at batch {batch}")


@pytest.fixture(scope="module")
def shipped_export(tmp_path_factory):
    model, meta = load_model(POSE_MODEL)
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / "hgt.onnx", {"model": meta["model"], "cube_mm": 250.0})
    return model, path


def _off(model, name, change):
    """A copy of ``model`` whose parameter ``name`` is changed in place by ``change``."""
    wrong = copy.deepcopy(model)
    with torch.no_grad():
        change(dict(wrong.named_parameters())[name])
    return wrong


@pytest.mark.parametrize(
    "name",
    ["body.backbone.stem.0.0.weight", "body.layers.1.weight", "encoder.0.attention.value.weight", "correction.weight"],
)
def test_a_wrong_weight_exceeds_the_export_check(shipped_export, name):
    model, path = shipped_export
    assert compare_with_onnx(model, path).holds
    weight = lambda values: values.view(-1)[values.abs().argmax()].mul_(1.01)  # noqa: E731  # one weight 1 % off
    agreement = compare_with_onnx(_off(model, name, weight), path)
    assert not agreement.holds, (agreement, name)


@pytest.mark.parametrize("name", ["body.head.depths.bias", "body.layers.0.bias", "correction.bias"])
def test_a_dropped_term_exceeds_the_export_check(shipped_export, name):
    model, path = shipped_export
    agreement = compare_with_onnx(_off(model, name, lambda values: values.view(-1)[0].zero_()), path)
    assert not agreement.holds, (agreement, name)


def test_export_is_atomic_and_leaves_no_partial_file(tmp_path, monkeypatch):
    model = create_model("regress", **TINY)

    def broken(*args, **kwargs):
        raise RuntimeError("exporter failed")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(HandgraphError, match="exporting regress to ONNX failed"):
        export_onnx(model, tmp_path / "m.onnx", {})
    assert list(tmp_path.iterdir()) == []


def test_bad_onnx_sources(tmp_path):
    with pytest.raises(HandgraphError, match="no such ONNX file"):
        load_network(tmp_path / "missing.onnx", "onnx")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(HandgraphError, match="not a readable ONNX model"):
        load_network(tmp_path / "broken.onnx", "onnx")
    with pytest.raises(HandgraphError, match="without model.onnx; export it first"):
        load_network(tmp_path, "onnx")
    with pytest.raises(HandgraphError, match="run it with --backend onnx"):
        load_network(tmp_path / "broken.onnx", "torch")
