"""What a trained pose model takes and gives, stored with it: its contract.

A model sees a hand through a crop: a cube of ``cube_mm`` around the hand centre, resampled to
``input_size`` x ``input_size`` pixels, the depth mapped to [-1, 1] over the cube. It answers with the joints of
``layout``. Every later use of the model (predict, evaluate, export, fit) must repeat that crop, so the
contract is written in one form, under the key ``"contract"``, into both files a model travels in: a
checkpoint's ``checkpoint.json`` and an exported ``.onnx`` file's metadata::

    "contract": {"cube_mm": 250.0, "cube_per_frame": false, "input_size": 96, "layout": "nyu14",
                 "depth": "cube, [-1, 1]"}

``cube_per_frame``: the model was trained on a dataset's crop cache, whose frames each bring their own cube
(NYU's 300 mm for the first subject, 250 mm for the others); evaluated on that dataset, each frame gets its own,
and ``cube_mm`` is the cube for a frame that brings none (any other camera's).

Files written before the contract was kept are read through :func:`contract_of` as well: it converts the
older forms (a checkpoint's ``train.crop`` or ``train.data.synth.cube_mm``, an ONNX file's ``cube_mm``) in this
one place, with 250 mm, the synthetic data's cube, where none was recorded.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import is_finite_number
from handgraph.geometry.layouts import get_layout
from handgraph.models.config import ModelConfig

DEPTH_NORMALISATION = "cube, [-1, 1]"
UNRECORDED_CUBE_MM = 250.0
"""The crop cube of files written before the cube was recorded: the synthetic data's, which they trained on."""


@dataclass(frozen=True)
class ModelContract:
    """The crop a pose model takes and the joints it gives."""

    cube_mm: float
    """Side of the crop cube in mm, for a frame that brings no cube of its own."""
    input_size: int
    """Side of the square crop in pixels."""
    layout: str
    """Name of the joint layout of the model's output (``geometry.layouts``)."""
    cube_per_frame: bool = False
    """Trained on a dataset's own per-frame cubes, which that dataset's frames bring."""
    depth: str = DEPTH_NORMALISATION
    """How depth in the crop is normalised."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, where: str | os.PathLike) -> ModelContract:
        """The contract stored at ``where`` (a file and its key), every field checked."""
        if not isinstance(data, dict) or set(data) != set(cls.__dataclass_fields__):
            fields = ", ".join(cls.__dataclass_fields__)
            raise HandgraphError(f"{where}: expected a mapping of {fields}, got {data!r:.120}")
        cube, size = data["cube_mm"], data["input_size"]
        if not is_finite_number(cube) or not cube > 0:
            raise HandgraphError(f"{where}.cube_mm: must be a positive number, got {cube!r:.80}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise HandgraphError(f"{where}.input_size: must be a positive integer, got {size!r:.80}")
        if not isinstance(data["cube_per_frame"], bool):
            raise HandgraphError(f"{where}.cube_per_frame: must be true or false, got {data['cube_per_frame']!r:.80}")
        if data["depth"] != DEPTH_NORMALISATION:
            raise HandgraphError(f"{where}.depth: {data['depth']!r:.80}; this handgraph reads {DEPTH_NORMALISATION!r}")
        try:
            get_layout(data["layout"])
        except (HandgraphError, KeyError, TypeError):
            raise HandgraphError(f"{where}.layout: {data['layout']!r:.80} is not a known joint layout") from None
        return cls(float(cube), size, data["layout"], data["cube_per_frame"])


def contract_of(meta: dict, where: str | os.PathLike) -> ModelContract:
    """The contract of a model from a checkpoint's JSON or an ONNX file's metadata (``where`` names it in
    errors): its ``"contract"``, or one converted from the forms written before (see the module's text)."""
    if "contract" in meta:
        return ModelContract.from_dict(meta["contract"], f"{where}: contract")
    model = meta.get("model")
    if not isinstance(model, dict):
        raise HandgraphError(f"{where}: no model config ('model') to take the input size and layout from")
    with about(f"{where}: model"):
        config = ModelConfig.from_stored(model)
    cube, per_frame = _recorded_cube(meta, where)
    return ModelContract.from_dict(
        {"cube_mm": cube, "input_size": config.input_size, "layout": config.layout, "cube_per_frame": per_frame,
         "depth": DEPTH_NORMALISATION},
        f"{where}: the contract read from its older form",
    )  # fmt: skip


def _recorded_cube(meta: dict, where) -> tuple[object, bool]:
    """(cube, per frame) as files before the contract recorded it: an ONNX file's ``cube_mm`` (None: per frame),
    a run's ``train.crop.cube_mm`` (None: per frame), else its ``train.data.synth.cube_mm``."""
    if "cube_mm" in meta:
        cube = meta["cube_mm"]
        return (UNRECORDED_CUBE_MM, True) if cube is None else (cube, False)
    train = meta.get("train")
    if train is None:
        return UNRECORDED_CUBE_MM, False
    if not isinstance(train, dict):
        raise HandgraphError(f"{where}: train must be a mapping of the training config, got {train!r:.80}")
    data = train.get("data")
    synth = data.get("synth") if isinstance(data, dict) else None
    synth_cube = synth.get("cube_mm", UNRECORDED_CUBE_MM) if isinstance(synth, dict) else UNRECORDED_CUBE_MM
    if isinstance(train.get("crop"), dict):
        cube = train["crop"].get("cube_mm")
        return (synth_cube, True) if cube is None else (cube, False)
    return synth_cube, False
