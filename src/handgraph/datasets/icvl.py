"""ICVL (Tang et al. 2014): ``Training/labels.txt`` with ``Training/Depth/<seq>/image_NNNN.png``, and
``Testing/test_seq_1.txt``, ``test_seq_2.txt`` with ``Testing/Depth/test_seq_{1,2}/...``: 320x240 16-bit PNGs
in mm, label lines ``name u1 v1 d1 ... u16 v16 d16`` (layout ``icvl16``).

The training set repeats each recorded frame as in-plane rotated copies; their folders have names of at
most 6 characters, the original recordings' longer ones (timestamps). ``icvl:train`` takes the 22,067
originals only (augment on the fly instead); ``icvl:train=all`` takes the copies too. Crop cube 250 mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handgraph.camera import camera_preset
from handgraph.datasets.split import (
    CheckReport,
    DatasetSplit,
    check_files,
    missing_or_png_problem,
    read_named_joints,
    require_files,
)
from handgraph.errors import HandgraphError
from handgraph.layouts import ICVL16

ORIGINAL_TRAINING_FRAMES = 22067
TEST_SEQUENCES = {"test_seq_1": 702, "test_seq_2": 894}
CUBE_MM = 250.0


def camera():
    return camera_preset("icvl")


def is_original(name: str) -> bool:
    """A training label's name is an original recording when its folder's name is longer than 6 characters."""
    return len(name.split("/")[0]) > 6


def read_labels(path: Path) -> tuple[list[str], np.ndarray]:
    """Names and (N, 16, 3) uvd of an ICVL label file."""
    return read_named_joints(path, 16)


def read_split(root: Path, split: str, fold: str | None = None) -> DatasetSplit:
    """``icvl:train`` (originals), ``icvl:train=all`` (with the rotated copies) or ``icvl:test`` (both
    sequences, in the order of the community's ground-truth file)."""
    if split == "train" and fold in (None, "all"):
        names, uvd = read_labels(root / "Training" / "labels.txt")
        keep = np.array([fold == "all" or is_original(name) for name in names])
        names, uvd = [name for name, kept in zip(names, keep, strict=True) if kept], uvd[keep]
        files = [root / "Training" / "Depth" / name for name in names]
        sequence = np.array([name.split("/")[0] for name in names])
    elif split == "test" and fold is None:
        parts = [read_labels(root / "Testing" / f"{name}.txt") for name in TEST_SEQUENCES]
        names = [name for part_names, _ in parts for name in part_names]
        uvd = np.concatenate([labels for _, labels in parts])
        files = [root / "Testing" / "Depth" / name for name in names]
        sequence = np.array([name.split("/")[0] for name in names])
    else:
        raise HandgraphError(f"icvl: unknown split {split}{'=' + fold if fold else ''}; known: icvl:train, "
                             "icvl:train=all, icvl:test")  # fmt: skip
    require_files(files, f"icvl:{split}")
    return DatasetSplit(f"icvl:{split}" + (f"={fold}" if fold else ""), root, ICVL16, camera(), files, uvd,
                        sequence, np.full(len(files), CUBE_MM))  # fmt: skip


def check(root: Path) -> CheckReport:
    """Label files and frames against the published counts; every missing or malformed file."""
    report = CheckReport("icvl", root)
    problem_of = missing_or_png_problem("gray16", 320, 240)
    try:
        names, _ = read_labels(root / "Training" / "labels.txt")
        originals = [name for name in names if is_original(name)]
        files = [root / "Training" / "Depth" / name for name in originals]
        good = check_files(report, files, problem_of)
        report.rows.append(("training labels, rotated copies included", str(len(names)), "-"))
        report.rows.append(
            ("training originals, readable", f"{good} of {len(originals)}", str(ORIGINAL_TRAINING_FRAMES))
        )
        if len(originals) != ORIGINAL_TRAINING_FRAMES:
            report.note(f"{root / 'Training' / 'labels.txt'}: {len(originals)} original frames; published "
                        f"{ORIGINAL_TRAINING_FRAMES}: results will not compare with published ones")  # fmt: skip
    except HandgraphError as error:
        report.problem(str(error))
    for sequence, published in TEST_SEQUENCES.items():
        try:
            names, _ = read_labels(root / "Testing" / f"{sequence}.txt")
        except HandgraphError as error:
            report.problem(str(error))
            continue
        good = check_files(report, [root / "Testing" / "Depth" / name for name in names], problem_of)
        report.rows.append((f"{sequence}, readable", f"{good} of {len(names)}", str(published)))
        if len(names) != published:
            report.note(f"{root / 'Testing' / f'{sequence}.txt'}: {len(names)} frames; published {published}")
    return report
