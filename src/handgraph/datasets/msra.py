"""MSRA15 (Sun et al. 2015): per subject ``P0``..``P8`` and gesture folder, ``NNNNNN_depth.bin`` frames
(``depth_images.read_msra_bin``) and a ``joint.txt``: a first line N, then N lines of 21 x (x, y, z) mm with y up
and z stored negative (layout ``msra21``). The reader turns them into the camera frame (y down, z forward)
once, and into (u, v, d).

The protocol is leave one subject out: ``msra:test=P0`` is subject P0's frames, ``msra:train=P0`` every other
subject's. Crop cubes per subject: P0-P2 200 mm, P3-P5 180, P6 170, P7 160, P8 150.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handgraph.datasets.split import CheckReport, DatasetSplit, check_files, read_lines, require_files
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset, xyz_to_uvd
from handgraph.geometry.layouts import MSRA21
from handgraph.io.depth_images import MSRA_HEADER

SUBJECTS = tuple(f"P{k}" for k in range(9))
GESTURES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "I", "IP", "L", "MP", "RP", "T", "TIP", "Y")
CUBE_MM = {"P0": 200.0, "P1": 200.0, "P2": 200.0, "P3": 180.0, "P4": 180.0, "P5": 180.0, "P6": 170.0,
           "P7": 160.0, "P8": 150.0}  # fmt: skip
FRAMES = 76375


def camera():
    return camera_preset("msra")


def read_joints(path: Path) -> np.ndarray:
    """A gesture's ``joint.txt`` as (N, 21, 3) xyz in the camera frame: mm, y down, z forward."""
    lines = read_lines(path)
    if not lines:
        raise HandgraphError(f"{path}: empty; expected a frame count, then one line per frame")
    try:
        count = int(lines[0][1])
    except ValueError:
        raise HandgraphError(
            f"{path}: line {lines[0][0]} should be the frame count, got {lines[0][1][:40]!r}"
        ) from None
    if len(lines) - 1 != count:
        raise HandgraphError(f"{path}: says {count} frames but has {len(lines) - 1} joint lines")
    joints = []
    for number, line in lines[1:]:
        try:
            values = np.array([float(part) for part in line.split()])
        except ValueError:
            raise HandgraphError(f"{path}: line {number}: a field is not a number") from None
        if values.size != 63 or not np.isfinite(values).all():
            raise HandgraphError(f"{path}: line {number}: expected 63 finite numbers (21 x, y, z), got {values.size}")
        joints.append(values.reshape(21, 3))
    stored = np.stack(joints) if joints else np.zeros((0, 21, 3))
    return stored * [1.0, -1.0, -1.0]  # y up and z negative in the file


def gesture_frames(folder: Path) -> tuple[list[Path], np.ndarray]:
    """A gesture folder's frame files and their (N, 21, 3) uvd labels."""
    xyz = read_joints(folder / "joint.txt")
    files = [folder / f"{index:06d}_depth.bin" for index in range(len(xyz))]
    return files, xyz_to_uvd(xyz, camera())


def read_split(root: Path, split: str, fold: str | None = None) -> DatasetSplit:
    """``msra:test=PK`` (subject K's frames) or ``msra:train=PK`` (every other subject's)."""
    if split not in ("train", "test") or fold not in SUBJECTS:
        raise HandgraphError(
            f"msra: unknown split {split}{'=' + fold if fold else ''}; known: msra:test=P0 .. msra:test=P8 (one "
            "subject) and msra:train=P0 .. msra:train=P8 (all the others)"
        )
    subjects = [fold] if split == "test" else [subject for subject in SUBJECTS if subject != fold]
    files, labels, owners = [], [], []
    for subject in subjects:
        for gesture in GESTURES:
            folder = root / subject / gesture
            if not folder.is_dir():
                raise HandgraphError(f"{folder}: not found; expected MSRA's {subject}/{gesture} folder")
            gesture_files, uvd = gesture_frames(folder)
            files += gesture_files
            labels.append(uvd)
            owners += [subject] * len(gesture_files)
    require_files(files, f"msra:{split}={fold}")
    owners_array = np.array(owners)
    cube = np.array([CUBE_MM[subject] for subject in owners])
    return DatasetSplit(f"msra:{split}={fold}", root, MSRA21, camera(), files, np.concatenate(labels),
                        owners_array, cube)  # fmt: skip


def bin_problem(path: Path) -> str | None:
    """What is wrong with an MSRA ``.bin``'s header against its size, or None; reads 24 bytes."""
    if not path.is_file():
        return f"{path}: not found"
    with open(path, "rb") as handle:
        head = handle.read(4 * MSRA_HEADER)
    if len(head) < 4 * MSRA_HEADER:
        return f"{path}: shorter than the 24-byte header"
    width, height, left, top, right, bottom = np.frombuffer(head, "<u4").tolist()
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        return f"{path}: header box ({left}, {top}, {right}, {bottom}) does not fit a {width}x{height} image"
    expected = 4 * (MSRA_HEADER + (right - left) * (bottom - top))
    size = path.stat().st_size
    return None if size == expected else f"{path}: {size} bytes; its header promises {expected}"


def check(root: Path) -> CheckReport:
    """Subjects, gestures and frames against the published counts; every missing or malformed file."""
    report = CheckReport("msra", root)
    total = good = 0
    for subject in SUBJECTS:
        frames = 0
        for gesture in GESTURES:
            folder = root / subject / gesture
            if not folder.is_dir():
                report.problem(f"{folder}: not found")
                continue
            try:
                files, _ = gesture_frames(folder)
            except HandgraphError as error:
                report.problem(str(error))
                continue
            frames += len(files)
            good += check_files(report, files, bin_problem)
        total += frames
        report.rows.append((f"{subject}: frames (cube {CUBE_MM[subject]:g} mm)", str(frames), "about 8,500"))
    report.rows.append(("all subjects: frames, readable", f"{good} of {total}", str(FRAMES)))
    return report
