"""A trained model on a real dataset's split: every frame through the predictor, joints as the protocol scores
them, ready for the same metrics, tables and result files as published methods.

Hand centres come from a centres file (one ``x y z`` line per frame, mm, in the dataset's own world frame: NYU's
has y up, as ``../shared/data/real/nyu/center_test_refined.txt``), from the labels (the centroid of the labelled
joints, an oracle), or from the localiser (its best guess even where it says "no hand"; where that guess's
crop would hold no depth at all, the nearest-blob heuristic's centre, so that every frame gets joints). The crop is the
model's own (its cube and input size, from its checkpoint), or each frame's cube of the dataset for a model
trained on a crop cache of the dataset's per-frame cubes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from handgraph.datasets.centres import published_frames, read_centres
from handgraph.datasets.protocol import DatasetProtocol, dataset_protocol
from handgraph.datasets.split import DatasetSplit
from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import xyz_to_uvd
from handgraph.geometry.joint_map import canonical_to_layout, scored_labels
from handgraph.geometry.skeleton import HAND


@dataclass
class DatasetPredictions:
    """A model's joints on every frame of a split, in the protocol's layout and the split's camera frame."""

    xyz: np.ndarray
    """(N, J, 3) mm, y down."""
    uvd: np.ndarray
    """(N, J, 3) frame pixels and mm: what the community's result files hold."""
    centre_source: str
    """Where the crop centres came from: a file's path, 'labels' or 'localizer'."""
    not_found: int
    """Frames where the localiser said "no hand" (its best guess was used)."""
    blob_centres: int = 0
    """Of those, frames whose best guess held no depth: the nearest blob's centre was used."""


def compared_rows(path: str | os.PathLike, lines: int, split: DatasetSplit) -> tuple[np.ndarray, np.ndarray]:
    """Which lines of a result file of ``lines`` lines score which frames of ``split``: (lines, rows), both (K,),
    empty when the file covers none of them. A file follows the published test set's order (the split's
    ``published_index``; else the split's own), and one shorter than that covers its first frames, as in
    ``evaluate --dataset``."""
    published = published_frames(split)
    frames = split.published_index if published else np.arange(len(split))
    limit = published or len(split)
    if lines > limit:
        whole = f"the published {split.name} has {published} frames" if published else f"{split.name} has {limit}"
        raise HandgraphError(f"{path}: {lines} lines, more than frames to score ({whole}); expected one line per "
                             "frame in the test set's order")  # fmt: skip
    rows = np.flatnonzero(frames < lines)
    return frames[rows], rows


def predict_dataset(predictor, split: DatasetSplit, centres: str | os.PathLike | None = None) -> DatasetPredictions:
    """Run ``predictor`` (a ``predictor.Predictor``) on every frame of ``split``; ``centres`` is a centres file,
    ``"labels"`` or None (the localiser)."""
    protocol = dataset_protocol(split)
    given = None
    if centres == "labels":
        given = split.xyz.mean(axis=1)
    elif centres is not None:
        given = read_centres(centres, split)
    predicted, not_found, blob_centres = [], 0, 0
    for index in tqdm(range(len(split)), desc=f"predicting {split.name}", unit="frame"):
        depth = split.depth(index)
        cube = float(split.cube_mm[index]) if predictor.cube_per_frame else None  # else the model's own
        if given is None:
            detection = predictor.locate(depth, split.camera)
            if detection.centre_xyz is None:
                raise HandgraphError(
                    f"{split.files[index]}: nothing within the localiser's depth range; give --centers"
                )
            centre = detection.centre_xyz
            if not detection.found:
                not_found += 1
                if not predictor.crop_holds_depth(depth, split.camera, centre, cube):
                    centre = _blob_centre(depth, split, index)
                    blob_centres += 1
            prediction = predictor(depth, split.camera, centre, refine=True, cube_mm=cube)
        else:
            prediction = predictor(depth, split.camera, given[index], cube_mm=cube)
        predicted.append(prediction.xyz)
    xyz = _as_protocol_joints(np.stack(predicted), predictor.layout, split, protocol)
    source = "localizer" if centres is None else str(centres)
    return DatasetPredictions(xyz, xyz_to_uvd(xyz, split.camera), source, not_found, blob_centres)


def _blob_centre(depth_mm: np.ndarray, split: DatasetSplit, index: int) -> np.ndarray:
    from handgraph.preprocess.localize import localize_hand

    with about(f"{split.files[index]}: the localiser saw no hand and its guess holds no depth; the nearest blob"):
        return localize_hand(np.asarray(depth_mm, dtype=np.float64), split.camera)


def _as_protocol_joints(joints: np.ndarray, layout, split: DatasetSplit, protocol: DatasetProtocol) -> np.ndarray:
    if layout.name == HAND.name:
        return canonical_to_layout(joints, protocol.layout)
    if layout.name == protocol.layout.name:  # trained on this dataset's scored joints (a crop cache's)
        return joints
    if layout.name == split.layout.name:
        return scored_labels(joints, layout.name)
    raise HandgraphError(
        f"the model predicts {layout.name} joints; {split.name} is scored on {protocol.layout.name}: train it on "
        "the canonical joints or on this dataset's own"
    )


def ground_truth_xyz(split: DatasetSplit) -> np.ndarray:
    """The split's labels as the protocol scores them, in the protocol's xyz (from uvd with its camera), so
    that figures equal ``evaluate --dataset`` on the community's files."""
    from handgraph.geometry.camera import uvd_to_xyz

    protocol = dataset_protocol(split)
    return uvd_to_xyz(scored_labels(split.uvd, split.layout.name), protocol.camera)
