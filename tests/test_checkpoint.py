import json

import pytest
import torch

from handgraph.errors import HandgraphError
from handgraph.models import create_model
from handgraph.models.checkpoint import load_model, read_checkpoint_meta, save_checkpoint

TINY = dict(
    input_size=32, width=8, blocks=1, transformer_dim=16, transformer_heads=2, encoder_layers=1, decoder_layers=1
)


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = create_model("hgt", **TINY).eval()
    folder = save_checkpoint(tmp_path / "ck", model, step=7, metrics={"mean_mm": 12.5})
    assert sorted(path.name for path in folder.iterdir()) == ["checkpoint.json", "model.safetensors"]
    loaded, meta = load_model(folder)
    assert meta["step"] == 7 and meta["metrics"] == {"mean_mm": 12.5} and loaded.config == model.config
    depth, crop = torch.rand(2, 1, 32, 32), torch.tensor([[60.0, 60, 15.5, 15.5, 450, 250]] * 2)
    assert torch.equal(loaded(depth, crop)["xyz"], model(depth, crop)["xyz"])  # same weights, same kernels: bitwise
    assert not list(tmp_path.glob(".ck.*"))  # no staging folder left behind


def test_checkpoints_hold_no_pickle(tmp_path):
    folder = save_checkpoint(tmp_path / "ck", create_model("heatmap", **TINY), step=1, metrics={})
    for path in folder.iterdir():
        assert b"\x80\x04" not in path.read_bytes()[:2]  # no pickle protocol header anywhere


def test_bad_checkpoints_are_named(tmp_path):
    folder = save_checkpoint(tmp_path / "ck", create_model("heatmap", **TINY), step=1, metrics={})
    meta = json.loads((folder / "checkpoint.json").read_text())
    del meta["model"]
    (folder / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(HandgraphError, match=r"checkpoint.json: missing key\(s\) model"):
        read_checkpoint_meta(folder)
    other = save_checkpoint(tmp_path / "other", create_model("regress", **TINY), step=1, metrics={})
    (other / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    with pytest.raises(HandgraphError, match="weights do not fit the model of checkpoint.json"):
        load_model(other)
    (other / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(HandgraphError, match="not a readable safetensors file"):
        load_model(other)
    with pytest.raises(HandgraphError, match="is not a handgraph checkpoint folder"):
        load_model(tmp_path / "nowhere")


def test_checkpoints_record_where_they_come_from(tmp_path):
    import json
    import re

    from handgraph.models import create_model

    save_checkpoint(tmp_path / "ck", create_model("regress", input_size=32, width=8), 3, {"mean_mm": 1.0})
    written_by = json.loads((tmp_path / "ck" / "checkpoint.json").read_text())["written_by"]
    assert written_by["handgraph"] and written_by["command"]
    from handgraph.io.provenance import SOURCE_TREE

    if (SOURCE_TREE / ".git").exists():  # a git checkout, as CI's clone is: the commit is its 40-digit sha
        assert re.fullmatch(r"[0-9a-f]{40}", written_by["commit"])
