"""predictions.json: the joints found in depth frames, as ``handgraph predict`` (and ``handgraph live --out``)
writes them and as ``handgraph fit`` and Python users read them. One schema, one writer, one reader::

    {
     "checkpoint": "…/hgt-synth", "backend": "torch", "model": "hgt",   which network (predict)
     "localizer": "…/localizer", "localizer_backend": "torch",           how the hand was found (predict)
     "joints": ["palm", …],                                             the joint layout's names, in order
     "camera": {"fx": …, "fy": …, "cx": …, "cy": …, "width": …, "height": …},
     "depth_scale": 1.0, "cube_mm": 250.0, "left": false,              how frames were read and cropped (predict)
     "tracking": true, "smoothing": null,                               a sequence, and its One Euro filter (predict)
     "frames": [
      {"file": "depth_1_0000001.png", "hand": true, "found_by": "localizer", "centre_xyz": [x, y, z],
       "support": 1.0, "xyz": [[x, y, z], …], "uvd": [[u, v, d], …], "localizer_score": 0.93, "fit": {…}},
      {"file": "empty.png", "hand": false},
      {"file": "close.png", "hand": false, "note": "31 % of the view lies within 250 mm of the camera: …"},
      {"file": "broken.png", "hand": false, "error": "…"}
     ]
    }

``xyz`` are mm in the camera's frame, ``uvd`` the frame's pixels and mm; ``fit`` is there with ``--fit``
(``fitting.result``); ``note`` says what may explain a frame without a hand (``localizing.why_no_hand``).
``live --out`` writes ``joints``, ``camera`` and ``frames`` only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import Intrinsics
from handgraph.geometry.layouts import LAYOUTS
from handgraph.geometry.skeleton import JointLayout
from handgraph.io.files import atomic_write_text

FILE_NAME = "predictions.json"


def frame_record(name: str, prediction, found_by: str | None = None) -> dict:
    """One frame of predictions.json: the joints of ``prediction`` (an ``inference.predictor.Prediction``), or
    "hand": false for None. ``found_by`` says where its crop came from (``inference.tracking``)."""
    if prediction is None:
        return {"file": name, "hand": False}
    record = {
        "file": name,
        "hand": True,
        "found_by": found_by,
        "centre_xyz": prediction.centre_xyz.round(3).tolist(),
        "support": round(prediction.support, 3),
        "xyz": prediction.xyz.round(3).tolist(),
        "uvd": prediction.uvd.round(3).tolist(),
    }
    if prediction.score is not None:
        record["localizer_score"] = round(prediction.score, 4)
    return record


def write_predictions(folder: str | os.PathLike, predictions: dict) -> Path:
    """``folder/predictions.json``, written atomically."""
    path = Path(folder) / FILE_NAME
    atomic_write_text(path, json.dumps(predictions, indent=1) + "\n")
    return path


@dataclass
class PredictionsFile:
    """A predictions.json read back and checked."""

    path: str
    content: dict
    """Everything the file holds, as written."""
    layout: JointLayout
    camera: Intrinsics
    hands: list[dict]
    """The frames with a hand, in the file's order."""
    joints: np.ndarray
    """(N, J, 3) mm, the joints of ``hands``."""


def field(record: object, name: str, where: str, kind: type | tuple[type, ...]):
    """``record[name]``, which must be there and of ``kind``; errors name ``where``."""
    if not isinstance(record, dict) or name not in record:
        raise HandgraphError(f"{where}: no {name!r} field; is this a predictions.json of 'handgraph predict'?")
    if not isinstance(record[name], kind):
        raise HandgraphError(f"{where}: field {name!r} is a {type(record[name]).__name__}; expected {kind}")
    return record[name]


def read_predictions(path: str | os.PathLike) -> PredictionsFile:
    """A predictions.json of ``handgraph predict`` or ``handgraph live --out``, its layout (by its joint names),
    camera and the joints of every frame with a hand; an error naming the file, frame and field otherwise."""
    path = str(path)
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HandgraphError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HandgraphError(f"{path}: not a readable JSON file ({error})") from None
    names = tuple(field(content, "joints", path, list))
    layout = next((layout for layout in LAYOUTS.values() if layout.joint_names == names), None)
    if layout is None:
        raise HandgraphError(f"{path}: field 'joints' names no known layout ({len(names)} joints)")
    try:
        with about(f"{path}: field 'camera'"):
            camera = Intrinsics(**field(content, "camera", path, dict))
    except TypeError as error:
        raise HandgraphError(f"{path}: field 'camera': {error}") from None
    hands, joints = [], []
    for number, frame in enumerate(field(content, "frames", path, list), start=1):
        where = f"{path}: frame {number}"
        if not field(frame, "hand", where, bool):
            continue  # no hand, or an error
        try:
            xyz = np.asarray(field(frame, "xyz", where, list), dtype=np.float64)
        except (TypeError, ValueError):  # ragged lists, text
            raise HandgraphError(f"{where}: 'xyz' is not a list of {layout.num_joints} (x, y, z) numbers") from None
        if xyz.shape != (layout.num_joints, 3):
            raise HandgraphError(f"{where}: 'xyz' has shape {xyz.shape}; expected ({layout.num_joints}, 3)")
        field(frame, "file", where, str)
        hands.append(frame)
        joints.append(xyz)
    stacked = np.stack(joints) if joints else np.zeros((0, layout.num_joints, 3))
    return PredictionsFile(path, content, layout, camera, hands, stacked)
