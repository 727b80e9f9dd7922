"""What ``handgraph fit`` reads: a predictions.json of ``handgraph predict`` (``io.predictions``), or any
method's result file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.fitting.frames import FrameCrop
from handgraph.fitting.result import mirrored_model
from handgraph.geometry.camera import Intrinsics, uvd_to_xyz
from handgraph.geometry.skeleton import JointLayout
from handgraph.io.predictions import field, read_predictions


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


def _predictions(path: str, left: bool) -> FitInput:
    predictions = read_predictions(path)
    if not predictions.hands:
        raise HandgraphError(f"{path}: no frame has a hand; nothing to fit")
    content, camera = predictions.content, predictions.camera
    left = left or bool(content.get("left", False))
    return FitInput(
        path=str(path),
        key="file",
        names=[frame["file"] for frame in predictions.hands],
        joints=predictions.joints,
        layout=predictions.layout,
        camera=camera,
        mirrored=mirrored_model(left, camera.fx, camera.fy),
        tracked=bool(content.get("tracking", False)),
        sequences=[(0, len(predictions.hands))],
        crops=_crops(path, content, predictions.hands, camera),
    )


def _crops(path: str, content: dict, hands: list[dict], camera: Intrinsics) -> Callable[[int], FrameCrop]:
    """Frame k's depth, read again from the file predictions.json names, with the crop predict used."""
    from handgraph.io.depth_images import read_frame

    def crop_of(k: int) -> FrameCrop:
        scale = field(content, "depth_scale", path, (int, float))
        cube = field(content, "cube_mm", path, (int, float))
        centre = np.asarray(field(hands[k], "centre_xyz", f"{path}: {hands[k]['file']}", list), dtype=np.float64)
        return FrameCrop(read_frame(hands[k]["file"], scale), camera, centre, float(cube))

    return crop_of
