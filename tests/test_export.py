import numpy as np
import pytest
import torch

from handgraph.errors import HandgraphError
from handgraph.export import example_inputs, export_onnx
from handgraph.models import create_model, list_models
from handgraph.networks import OnnxNetwork, load_network

TINY = dict(
    input_size=32, width=8, blocks=1, transformer_dim=16, transformer_heads=2, encoder_layers=1, decoder_layers=1
)

INTEGRAL = {"first_estimate": "integral"}


@pytest.mark.parametrize(("name", "options"), [*((name, {}) for name in list_models()), ("hgt", INTEGRAL)])
def test_onnx_runtime_agrees_with_pytorch_at_any_batch(name, options, tmp_path):
    torch.manual_seed(0)
    model = create_model(name, **TINY, **options).eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", {"model": model.config.to_dict(), "cube_mm": 250.0})
    network = OnnxNetwork(path)
    assert (network.name, network.input_size, network.layout.num_joints) == (name, 32, 21)
    for batch in (1, 3, 64):  # traced at batch 2: the batch axis must be dynamic
        depth, crop = example_inputs(model, batch, seed=batch)
        with torch.no_grad():
            expected = model(depth, crop)["xyz"].numpy()
        got = network(depth, crop)
        assert got.shape == (batch, 21, 3)
        assert np.abs(expected - got).max() < 1e-4  # mm


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
        OnnxNetwork(tmp_path / "missing.onnx")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(HandgraphError, match="not a readable ONNX model"):
        OnnxNetwork(tmp_path / "broken.onnx")
    with pytest.raises(HandgraphError, match="without model.onnx; export it first"):
        load_network(tmp_path, "onnx")
    with pytest.raises(HandgraphError, match="run it with --backend onnx"):
        load_network(tmp_path / "broken.onnx", "torch")
