"""Your own recordings: a folder of depth frames and one labels file, so you can fine-tune on your camera.

Layout::

    camera.json     {"fx": 476.0, "fy": 476.0, "cx": 313.7, "cy": 242.8, "width": 640, "height": 480,
                     "depth_scale_mm": 0.125, "coordinates": "xyz", "layout": "canonical"}
    labels.txt      one line per frame: the frame's file (relative to the folder), then J joints x 3 numbers
    frames/...      16-bit PNG, NYU-style RGB PNG, .npy or MSRA .bin depth frames

``coordinates`` is ``xyz`` (mm in the camera frame, x right, y down, z forward) or ``uvd`` (frame pixels and
mm); ``layout`` names the joints' order (``canonical``: handgraph's 21, wrist first, see ``skeleton``; or any
of ``layouts``: ``nyu36``, ``icvl16``, ``msra21``, ``hands2017``). ``depth_scale_mm`` multiplies stored values
to give mm (default 1). The split is ``own:all``; the crop cube is 250 mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handgraph.datasets.split import CheckReport, DatasetSplit, read_named_joints, require_files
from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import Intrinsics, xyz_to_uvd
from handgraph.geometry.layouts import get_layout
from handgraph.io.reading import read_json

CUBE_MM = 250.0
KEYS = ("fx", "fy", "cx", "cy", "width", "height")


def read_camera(root: Path) -> tuple[Intrinsics, float, str, str]:
    """(camera, depth scale in mm per unit, coordinates, layout name) from ``camera.json``."""
    path = root / "camera.json"
    info = read_json(path, "a recordings folder (camera.json)")
    if not isinstance(info, dict) or any(key not in info for key in KEYS):
        raise HandgraphError(f"{path}: expected the keys {', '.join(KEYS)} (and optionally depth_scale_mm, "
                             "coordinates, layout)")  # fmt: skip
    with about(str(path)):
        camera = Intrinsics(*(info[key] for key in KEYS))
    scale = info.get("depth_scale_mm", 1.0)
    coordinates, layout = info.get("coordinates", "xyz"), info.get("layout", "canonical")
    if not isinstance(scale, (int, float)) or not scale > 0:
        raise HandgraphError(f"{path}: depth_scale_mm must be a positive number, got {scale!r}")
    if coordinates not in ("xyz", "uvd"):
        raise HandgraphError(f"{path}: coordinates must be 'xyz' or 'uvd', got {coordinates!r}")
    get_layout(layout)  # an unknown name is an error naming the known ones
    return camera, float(scale), coordinates, layout


def read_split(root: Path, split: str, fold: str | None = None) -> DatasetSplit:
    """``own:all``: every labelled frame of the folder."""
    if split != "all" or fold is not None:
        raise HandgraphError(f"own: unknown split {split}{'=' + fold if fold else ''}; known: own:all")
    camera, scale, coordinates, layout_name = read_camera(root)
    layout = get_layout(layout_name)
    names, uvd = read_named_joints(root / "labels.txt", layout.num_joints)
    files = [root / name for name in names]
    require_files(files, "own:all")
    if coordinates == "xyz":
        uvd = xyz_to_uvd(uvd, camera)
    count = len(files)
    return DatasetSplit(f"own:{split}", root, layout, camera, files, uvd, np.full(count, ""), np.full(count, CUBE_MM),
                        depth_scale_mm=scale)  # fmt: skip


def check(root: Path) -> CheckReport:
    """The camera, the labels, and every frame read in full (a recording is small)."""
    report = CheckReport("own", root)
    try:
        split = read_split(root, "all")
    except HandgraphError as error:
        report.problem(str(error))
        return report
    good = 0
    for index in range(len(split)):
        try:
            split.depth(index)
            good += 1
        except HandgraphError as error:
            report.problem(str(error))
    report.rows.append((f"labelled frames ({split.layout.name} joints), readable", f"{good} of {len(split)}", "-"))
    return report
