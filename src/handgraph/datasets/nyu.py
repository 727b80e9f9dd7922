"""NYU Hand Pose (Tompson et al. 2014): ``train/`` and ``test/``, each with ``depth_{cam}_{idx:07d}.png`` (depth
packed into green and blue) and ``joint_data.mat`` (``joint_uvd``, ``joint_xyz``: (cameras, N, 36, 3)).

Camera 1 (index 0 in the arrays) by default. The labels are the 36 landmarks (layout ``nyu36``); the field
scores the 14 of ``layouts.NYU14_SUBSET``. Crop cubes as most published numbers use: 300 mm for the training
set and the test set's first subject (frames 0-2439), 250 mm for its second subject.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from handgraph.datasets.split import CheckReport, DatasetSplit, check_files, missing_or_png_problem, require_files
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.geometry.layouts import NYU36
from handgraph.io.reading import read_mat

SPLITS = {"train": 72757, "test": 8252}
"""Published frame counts."""
TEST_FIRST_SUBJECT = 2440


def camera():
    """The kit's NYU camera with y down (the kit's fy < 0 makes NYU's world frame y up)."""
    preset = camera_preset("nyu")
    return replace(preset, fy=-preset.fy)


def frame_name(camera_number: int, index: int) -> str:
    """The file of frame ``index`` (0-based) of camera ``camera_number`` (1-3): depth_1_0000001.png for 0."""
    return f"depth_{camera_number}_{index + 1:07d}.png"


def frame_index(name: str) -> int | None:
    """The 0-based index of an NYU frame file's name (``depth_1_0000005.png`` -> 4), None for other names."""
    match = re.fullmatch(r"depth_[123]_(\d{7})\.png", Path(name).name)
    return int(match.group(1)) - 1 if match and int(match.group(1)) > 0 else None


def read_labels(path: Path, camera_number: int = 1) -> np.ndarray:
    """``joint_uvd`` of one camera from a ``joint_data.mat``: (N, 36, 3) pixels and mm."""
    content = read_mat(path, "NYU's joint_data.mat", variable_names=["joint_uvd"])
    uvd = content.get("joint_uvd")
    if uvd is None:
        raise HandgraphError(f"{path}: no 'joint_uvd' array; expected NYU's joint_data.mat")
    if (
        uvd.dtype.kind not in "fiu"
        or uvd.ndim != 4
        or uvd.shape[2:] != (36, 3)
        or not 1 <= camera_number <= uvd.shape[0]
    ):
        raise HandgraphError(
            f"{path}: joint_uvd holds {uvd.dtype} of shape {uvd.shape}; expected numbers (cameras, N, 36, 3) with "
            f"camera {camera_number}"
        )
    labels = np.asarray(uvd[camera_number - 1], dtype=np.float64)
    if not np.isfinite(labels).all():
        frame = int(np.argwhere(~np.isfinite(labels))[0, 0])
        raise HandgraphError(f"{path}: joint_uvd of frame {frame} holds NaN or infinite values")
    return labels


def read_split(root: Path, split: str, fold: str | None = None, camera_number: int = 1) -> DatasetSplit:
    """``nyu:train`` or ``nyu:test``: every labelled frame of the split, whose files must all be there."""
    if split not in SPLITS or fold is not None:
        raise HandgraphError(f"nyu: unknown split {split}{'=' + fold if fold else ''}; known: nyu:train, nyu:test")
    folder = root / split
    uvd = read_labels(folder / "joint_data.mat", camera_number)
    files = [folder / frame_name(camera_number, index) for index in range(len(uvd))]
    require_files(files, f"nyu:{split}")
    first = np.arange(len(uvd)) < TEST_FIRST_SUBJECT if split == "test" else np.ones(len(uvd), dtype=bool)
    return DatasetSplit(
        name=f"nyu:{split}",
        root=root,
        layout=NYU36,
        camera=camera(),
        files=files,
        uvd=uvd,
        sequence=np.where(first, "seq 1", "seq 2"),
        cube_mm=np.where(first, 300.0, 250.0),
        published_index=np.arange(len(uvd)) if split == "test" else None,  # a shorter file holds the first frames
    )


def check(root: Path) -> CheckReport:
    """Frames and labels of both splits against the published counts; every missing or malformed file."""
    report = CheckReport("nyu", root)
    if not any((root / split).is_dir() for split in SPLITS):
        report.problem(f"{root}: neither train/ nor test/ found; expected NYU's folders")
    for split, published in SPLITS.items():
        folder = root / split
        if not folder.is_dir() and (root / next(other for other in SPLITS if other != split)).is_dir():
            report.note(f"{folder}: not found: this copy holds no nyu:{split} (the other split is usable)")
            report.rows.append((f"{split}: labelled frames (camera 1)", "0", str(published)))
            continue
        try:
            labels = len(read_labels(folder / "joint_data.mat"))
        except HandgraphError as error:
            report.problem(str(error))
            labels = 0
        files = [folder / frame_name(1, index) for index in range(labels)]
        good = check_files(report, files, missing_or_png_problem("rgb8", 640, 480))
        frames = len(list(folder.glob("depth_1_*.png"))) if folder.is_dir() else 0
        if frames > labels:
            report.note(f"{folder}: {frames} camera-1 frames but {labels} labels in joint_data.mat; "
                        f"the {frames - labels} without labels are not used")  # fmt: skip
        report.rows.append((f"{split}: labelled frames (camera 1)", str(labels), str(published)))
        report.rows.append((f"{split}: readable depth PNGs of them", str(good), str(published)))
        if labels and labels != published:
            report.note(f"{folder / 'joint_data.mat'}: {labels} frames; the published {split} set has {published}")
    return report
