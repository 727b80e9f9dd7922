"""What ``handgraph fit`` reads: a predictions.json of ``handgraph predict``, or any method's result file."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError, about
from handgraph.fitting.frames import FrameCrop
from handgraph.fitting.result import mirrored_model
from handgraph.geometry.camera import Intrinsics, uvd_to_xyz
from handgraph.geometry.layouts import LAYOUTS
from handgraph.geometry.skeleton import JointLayout


@dataclass
class FitInput:
    """The frames of one file to fit: their names, joints (N, J, 3) mm in ``layout``, and what is known of them."""

    path: str
    key: str
    """How fit.json names a frame: "file" (predictions.json), "line" (text) or "frame" (.mat)."""
    names: list
    joints: np.ndarray
    layout: JointLayout
    camera: Intrinsics | None
    mirrored: bool
    tracked: bool
    sequences: list[tuple[int, int]]
    """[start, stop) frame ranges that each show one hand."""
    crops: Callable[[int], FrameCrop] | None = None
    """Frame k's depth and crop, for the refinement (predictions.json only)."""


def read_fit_input(
    path: str, dataset: str | None, joint_format: str, mat_key: str | None, left: bool
) -> FitInput:  # fmt: skip
    """A predictions.json (by its name or content) or a result file of ``dataset``'s protocol."""
    if Path(path).suffix.lower() == ".json":
        if dataset:
            raise HandgraphError(f"{path}: a predictions.json names its own layout and camera; drop --dataset")
        return _predictions(path, left)
    if not dataset:
        raise HandgraphError(f"{path}: a result file needs --dataset (nyu, icvl, msra or hands2017) for its joints")
    return _result_file(path, dataset, joint_format, mat_key, left)


def _result_file(path: str, dataset: str, joint_format: str, mat_key: str | None, left: bool) -> FitInput:
    from handgraph.datasets.protocol import get_protocol
    from handgraph.io.result_files import read_joints

    protocol = get_protocol(dataset)
    joints = read_joints(path, protocol.layout.num_joints, mat_key)
    is_mat = Path(path).suffix.lower() == ".mat"
    if joint_format == "uvd" and not is_mat:
        joints = uvd_to_xyz(joints, protocol.camera)
    count = len(joints)
    sequences = [(start, min(stop, count)) for start, stop in protocol.frame_ranges if start < count]
    if not sequences or sequences[-1][1] < count:
        sequences = [(0, count)]
    return FitInput(
        path=str(path),
        key="frame" if is_mat else "line",
        names=list(range(1, count + 1)),
        joints=joints,
        layout=protocol.layout,
        camera=protocol.camera,
        mirrored=mirrored_model(left, protocol.camera.fx, protocol.camera.fy),
        tracked=False,
        sequences=sequences,
    )


def _field(record: dict, name: str, where: str, kind: type | tuple[type, ...]):
    if not isinstance(record, dict) or name not in record:
        raise HandgraphError(f"{where}: no {name!r} field; is this a predictions.json of 'handgraph predict'?")
    if not isinstance(record[name], kind):
        raise HandgraphError(f"{where}: field {name!r} is a {type(record[name]).__name__}; expected {kind}")
    return record[name]


def _predictions(path: str, left: bool) -> FitInput:
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HandgraphError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HandgraphError(f"{path}: not a readable JSON file ({error})") from None
    names = tuple(_field(content, "joints", path, list))
    layout = next((layout for layout in LAYOUTS.values() if layout.joint_names == names), None)
    if layout is None:
        raise HandgraphError(f"{path}: field 'joints' names no known layout ({len(names)} joints)")
    camera_values = _field(content, "camera", path, dict)
    try:
        with about(f"{path}: field 'camera'"):
            camera = Intrinsics(**camera_values)
    except TypeError as error:
        raise HandgraphError(f"{path}: field 'camera': {error}") from None
    left = left or bool(content.get("left", False))
    hands, joints = [], []
    for number, frame in enumerate(_field(content, "frames", path, list), start=1):
        where = f"{path}: frame {number}"
        if not _field(frame, "hand", where, bool):
            continue  # no hand, or an error: nothing to fit
        try:
            xyz = np.asarray(_field(frame, "xyz", where, list), dtype=np.float64)
        except (TypeError, ValueError):  # ragged lists, text
            raise HandgraphError(f"{where}: 'xyz' is not a list of {layout.num_joints} (x, y, z) numbers") from None
        if xyz.shape != (layout.num_joints, 3):
            raise HandgraphError(f"{where}: 'xyz' has shape {xyz.shape}; expected ({layout.num_joints}, 3)")
        hands.append(frame)
        joints.append(xyz)
    if not hands:
        raise HandgraphError(f"{path}: no frame has a hand; nothing to fit")
    names = [_field(frame, "file", path, str) for frame in hands]
    return FitInput(
        path=str(path),
        key="file",
        names=names,
        joints=np.stack(joints),
        layout=layout,
        camera=camera,
        mirrored=mirrored_model(left, camera.fx, camera.fy),
        tracked=bool(content.get("tracking", False)),
        sequences=[(0, len(hands))],
        crops=_crops(path, content, hands, camera),
    )


def _crops(path: str, content: dict, hands: list[dict], camera: Intrinsics) -> Callable[[int], FrameCrop]:
    """Frame k's depth, read again from the file predictions.json names, with the crop predict used."""
    from handgraph.io.depth_images import read_frame

    def crop_of(k: int) -> FrameCrop:
        scale = _field(content, "depth_scale", path, (int, float))
        cube = _field(content, "cube_mm", path, (int, float))
        centre = np.asarray(_field(hands[k], "centre_xyz", f"{path}: {hands[k]['file']}", list), dtype=np.float64)
        return FrameCrop(read_frame(hands[k]["file"], scale), camera, centre, float(cube))

    return crop_of
