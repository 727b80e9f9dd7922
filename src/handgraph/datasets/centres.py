"""Hand centres for a split's frames, from a file of one ``x y z`` line per frame (mm, in the dataset's own
world frame: NYU's has y up, as ``../shared/data/real/nyu/center_test_refined.txt``): the split's own lines, or
the whole published test set's, of which a partial copy takes the lines of its frames."""

from __future__ import annotations

import os

import numpy as np

from handgraph.datasets.protocol import dataset_protocol
from handgraph.datasets.split import DatasetSplit
from handgraph.errors import HandgraphError
from handgraph.io.result_files import read_joint_text

Y_UP_WORLDS = ("nyu",)
"""Datasets whose centre files (and world frame) have y up."""


def published_frames(split: DatasetSplit) -> int | None:
    """How many frames the published test set of ``split`` has, when its files index it (else None)."""
    return None if split.published_index is None else dataset_protocol(split).test_frames


def read_centres(path: str | os.PathLike, split: DatasetSplit) -> np.ndarray:
    """(N, 3) crop centres in the split's camera frame (y down) from a file of one ``x y z`` line per frame: of
    the split's frames, or of the whole published test set (such as the refined NYU centres), whose lines for
    the frames a partial copy holds are taken."""
    centres = read_joint_text(path, 1)[:, 0]
    published = published_frames(split)
    if len(centres) == published and len(centres) != len(split):
        centres = centres[split.published_index]
    elif len(centres) != len(split):
        whole = f" or one per frame of the published test set ({published})" if published else ""
        raise HandgraphError(f"{path}: {len(centres)} centres for the {len(split)} frames of {split.name}; "
                             f"expected one line per frame{whole}")  # fmt: skip
    return centres * [1.0, -1.0, 1.0] if split.name.partition(":")[0] in Y_UP_WORLDS else centres
