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

from handgraph.datasets.split import (
    CheckReport,
    DatasetSplit,
    check_files,
    missing_or_png_problem,
    read_named_joints,
    require_files,
)
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.geometry.layouts import ICVL16

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
    sequences, in the order of the community's ground-truth file; a copy with one of them scores that one)."""
    if split == "train" and fold in (None, "all"):
        names, uvd = read_labels(root / "Training" / "labels.txt")
        keep = np.array([fold == "all" or is_original(name) for name in names])
        names, uvd = [name for name, kept in zip(names, keep, strict=True) if kept], uvd[keep]
        files = [root / "Training" / "Depth" / name for name in names]
        sequence = np.array([name.split("/")[0] for name in names])
        published_index, notes = None, []
    elif split == "test" and fold is None:
        names, uvd, published_index, notes = _test_sequences(root)
        files = [root / "Testing" / "Depth" / name for name in names]
        sequence = np.array([name.split("/")[0] for name in names])
    else:
        raise HandgraphError(f"icvl: unknown split {split}{'=' + fold if fold else ''}; known: icvl:train, "
                             "icvl:train=all, icvl:test")  # fmt: skip
    require_files(files, f"icvl:{split}")
    return DatasetSplit(f"icvl:{split}" + (f"={fold}" if fold else ""), root, ICVL16, camera(), files, uvd,
                        sequence, np.full(len(files), CUBE_MM), published_index=published_index,
                        notes=notes)  # fmt: skip


def _test_sequences(root: Path) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """The test sequences this copy holds: frame names, labels, each frame's line in the community's ground
    truth (test_seq_1 on lines 0-701, test_seq_2 from line 702), and notes on what is missing or short. At
    least one sequence must be there."""
    names, labels, lines, notes, start = [], [], [], [], 0
    for sequence, published in TEST_SEQUENCES.items():
        path = root / "Testing" / f"{sequence}.txt"
        if path.is_file():
            sequence_names, sequence_labels = read_labels(path)
            names += sequence_names
            labels.append(sequence_labels)
            lines.append(start + np.arange(len(sequence_names)))
            if len(sequence_names) != published:
                notes.append(f"{path}: {len(sequence_names)} frames; the published {sequence} has {published}")
        else:
            notes.append(f"{path}: not found; icvl:test holds the other sequence only")
        start += published
    if not labels:
        raise HandgraphError(f"{root / 'Testing'}: neither {' nor '.join(f'{name}.txt' for name in TEST_SEQUENCES)}"
                             " found; expected ICVL's test labels")  # fmt: skip
    if notes:
        notes.append("icvl:test is not the published test set: its figures do not compare with published ones")
    return names, np.concatenate(labels), np.concatenate(lines), notes


def check(root: Path) -> CheckReport:
    """Label files and frames against the published counts; every missing or malformed file. A copy of one
    split (or of one test sequence) is usable, with a note."""
    report = CheckReport("icvl", root)
    problem_of = missing_or_png_problem("gray16", 320, 240)
    training, testing = (root / "Training").is_dir(), (root / "Testing").is_dir()
    if not (training or testing):
        report.problem(f"{root}: neither Training/ nor Testing/ found; expected ICVL's folders")
    if training or not testing:
        _check_training(report, root, problem_of)
    else:
        report.note(f"{root / 'Training'}: not found: this copy holds no icvl:train (icvl:test is usable)")
    if testing or not training:
        _check_testing(report, root, problem_of)
    else:
        report.note(f"{root / 'Testing'}: not found: this copy holds no icvl:test (icvl:train is usable)")
    return report


def _check_training(report: CheckReport, root: Path, problem_of) -> None:
    try:
        names, _ = read_labels(root / "Training" / "labels.txt")
    except HandgraphError as error:
        report.problem(str(error))
        return
    originals = [name for name in names if is_original(name)]
    good = check_files(report, [root / "Training" / "Depth" / name for name in originals], problem_of)
    report.rows.append(("training labels, rotated copies included", str(len(names)), "-"))
    report.rows.append(("training originals, readable", f"{good} of {len(originals)}", str(ORIGINAL_TRAINING_FRAMES)))
    if len(originals) != ORIGINAL_TRAINING_FRAMES:
        report.note(f"{root / 'Training' / 'labels.txt'}: {len(originals)} original frames; published "
                    f"{ORIGINAL_TRAINING_FRAMES}: results will not compare with published ones")  # fmt: skip


def _check_testing(report: CheckReport, root: Path, problem_of) -> None:
    present = [name for name in TEST_SEQUENCES if (root / "Testing" / f"{name}.txt").is_file()]
    for sequence, published in TEST_SEQUENCES.items():
        if present and sequence not in present:
            report.note(f"{root / 'Testing' / f'{sequence}.txt'}: not found: icvl:test holds {present[0]} only")
            continue
        try:
            names, _ = read_labels(root / "Testing" / f"{sequence}.txt")
        except HandgraphError as error:
            report.problem(str(error))
            continue
        good = check_files(report, [root / "Testing" / "Depth" / name for name in names], problem_of)
        report.rows.append((f"{sequence}, readable", f"{good} of {len(names)}", str(published)))
        if len(names) != published:
            report.note(f"{root / 'Testing' / f'{sequence}.txt'}: {len(names)} frames; published {published}")
