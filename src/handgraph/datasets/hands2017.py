"""HANDS2017 / BigHand2.2M (Yuan et al. 2017): ``training/images/image_D{idx:08d}.png`` (640x480 16-bit mm) with
``training/Training_Annotation.txt`` (``image_DNNNNNNNN.png`` and 63 floats: 21 joints' xyz in mm, camera frame
y down; layout ``hands2017``), and the unlabelled test frames in ``frame/images/`` for predictions in the
same line format. Crop cube 250 mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handgraph.datasets.split import (
    CheckReport,
    DatasetSplit,
    check_files,
    missing_or_png_problem,
    read_named_joints,
    require_files,
)
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset, xyz_to_uvd
from handgraph.geometry.layouts import HANDS2017_21

TRAINING_FRAMES, TEST_FRAMES = 957032, 295510
CUBE_MM = 250.0


def camera():
    return camera_preset("hands2017")


def read_annotations(path: Path) -> tuple[list[str], np.ndarray]:
    """Names and (N, 21, 3) xyz (mm, camera frame) of an annotation file."""
    return read_named_joints(path, 21)


def read_split(root: Path, split: str, fold: str | None = None) -> DatasetSplit:
    """``hands2017:train`` (annotated) or ``hands2017:test`` (the test frames, no labels)."""
    if fold is not None or split not in ("train", "test"):
        raise HandgraphError(f"hands2017: unknown split {split}{'=' + fold if fold else ''}; known: hands2017:train, "
                             "hands2017:test")  # fmt: skip
    if split == "train":
        names, xyz = read_annotations(root / "training" / "Training_Annotation.txt")
        files, uvd = [root / "training" / "images" / name for name in names], xyz_to_uvd(xyz, camera())
    else:
        folder = root / "frame" / "images"
        if not folder.is_dir():
            raise HandgraphError(f"{folder}: not found; expected the HANDS2017 test frames")
        files, uvd = sorted(folder.glob("image_D*.png")), None
    require_files(files, f"hands2017:{split}")
    count = len(files)
    return DatasetSplit(f"hands2017:{split}", root, HANDS2017_21, camera(), files, uvd, np.full(count, ""),
                        np.full(count, CUBE_MM))  # fmt: skip


def check(root: Path) -> CheckReport:
    """Annotations and frames against the published counts; every missing or malformed file."""
    report = CheckReport("hands2017", root)
    problem_of = missing_or_png_problem("gray16", 640, 480)
    try:
        names, _ = read_annotations(root / "training" / "Training_Annotation.txt")
        good = check_files(report, [root / "training" / "images" / name for name in names], problem_of)
        report.rows.append(("training: annotated frames, readable", f"{good} of {len(names)}", str(TRAINING_FRAMES)))
    except HandgraphError as error:
        report.problem(str(error))
    folder = root / "frame" / "images"
    tests = sorted(folder.glob("image_D*.png")) if folder.is_dir() else []
    if not tests:
        report.note(f"{folder}: no test frames (only needed to predict the challenge's test set)")
    good = check_files(report, tests, problem_of) if tests else 0
    report.rows.append(("test: frames, readable", f"{good} of {len(tests)}", str(TEST_FRAMES)))
    return report
