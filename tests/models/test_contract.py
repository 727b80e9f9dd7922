"""The model's contract (issue 24): one form in checkpoints and ONNX files, and the older forms read as it."""

from __future__ import annotations

import json

import pytest

from handgraph.errors import HandgraphError
from handgraph.models.contract import ModelContract, contract_of
from handgraph.weights import POSE_MODEL

MODEL = {"name": "regress", "layout": "nyu14", "input_size": 64}


def test_the_shipped_model_carries_its_contract():
    meta = json.loads((POSE_MODEL / "checkpoint.json").read_text())
    contract = contract_of(meta, "shipped")
    assert contract == ModelContract(250.0, meta["model"]["input_size"], meta["model"]["layout"])
    assert meta["contract"] == contract.to_dict()


@pytest.mark.parametrize(
    ("older", "cube", "per_frame"),
    [
        ({}, 250.0, False),  # a checkpoint without its training config
        ({"train": {"data": {"synth": {"cube_mm": 220.0}}}}, 220.0, False),  # the run's synthetic cube
        ({"train": {"crop": {"size": 64, "cube_mm": 300.0}, "data": {"synth": {"cube_mm": 250.0}}}}, 300.0, False),
        ({"train": {"crop": {"size": 64, "cube_mm": None}, "data": {"synth": {"cube_mm": 240.0}}}}, 240.0, True),
        ({"cube_mm": 280.0}, 280.0, False),  # an ONNX file's metadata
        ({"cube_mm": None}, 250.0, True),  # an ONNX file of a model trained on per-frame cubes
    ],
    ids=["unrecorded", "synthetic", "crop", "crop per frame", "onnx", "onnx per frame"],
)
def test_older_files_are_read_as_the_contract(older, cube, per_frame):
    contract = contract_of({"model": MODEL, **older}, "old.json")
    assert contract == ModelContract(cube, 64, "nyu14", per_frame)
    assert contract_of({"model": MODEL, "contract": contract.to_dict()}, "new.json") == contract


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cube_mm": -5}, r"contract.cube_mm: must be a positive number"),
        ({"cube_mm": float("nan")}, r"contract.cube_mm: must be a positive number"),
        ({"input_size": 0}, r"contract.input_size: must be a positive integer"),
        ({"layout": "paw"}, r"contract.layout: 'paw' is not a known joint layout"),
        ({"depth": "metres"}, r"contract.depth: 'metres'"),
        ({"cube_per_frame": "no"}, r"contract.cube_per_frame: must be true or false"),
        ({"extra": 1}, r"contract: expected a mapping of cube_mm, input_size, layout, cube_per_frame, depth"),
    ],
)
def test_a_bad_contract_is_named(change, message):
    stored = ModelContract(250.0, 64, "nyu14").to_dict() | change
    with pytest.raises(HandgraphError, match=rf"^model.json: {message}"):
        contract_of({"model": MODEL, "contract": stored}, "model.json")


def test_an_older_bad_cube_is_named():
    with pytest.raises(HandgraphError, match=r"old.json: the contract read from its older form.cube_mm"):
        contract_of({"model": MODEL, "train": {"crop": {"cube_mm": "big"}}}, "old.json")
