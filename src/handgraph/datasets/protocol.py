"""The evaluation protocol of each real dataset: which joints are scored, which camera, which sequences.

Facts from ``../shared/data/README.md``: NYU's test set is 8252 frames, frames 0-2439 from the first subject
and 2440-8251 from the second; ICVL's is 1596 frames, lines 1-702 ``test_seq_1`` and 703-1596 ``test_seq_2``.
MSRA15 is scored leave-one-subject-out and HANDS2017's test labels are withheld, so those two have no fixed
sequences: a file is scored as one whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from handgraph.datasets.split import DatasetSplit
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import CAMERA_PRESETS, Intrinsics
from handgraph.geometry.layouts import HANDS2017_21, ICVL16, MSRA21, NYU14
from handgraph.geometry.skeleton import HAND, JointLayout


@dataclass(frozen=True)
class SequenceRange:
    """A contiguous run of test frames reported on its own."""

    name: str
    """Column name in tables, e.g. ``"seq 1"``."""
    start: int
    """First frame, 0-based."""
    stop: int
    """One past the last frame."""
    description: str = ""


@dataclass(frozen=True)
class DatasetProtocol:
    """How one dataset's test results are read and scored."""

    name: str
    """Dataset name on the command line."""
    title: str
    """Name in tables and plots."""
    layout: JointLayout
    """The joints of the result files, in their order."""
    camera: Intrinsics
    """The intrinsics that turn (u, v, d) into (x, y, z)."""
    test_frames: int | None
    """Frames of the standard test set, when there is one."""
    sequences: tuple[SequenceRange, ...] = ()
    """Parts of the test set reported separately."""

    @property
    def frame_ranges(self) -> list[tuple[int, int]]:
        return [(sequence.start, sequence.stop) for sequence in self.sequences]


PROTOCOLS: dict[str, DatasetProtocol] = {
    "nyu": DatasetProtocol(
        name="nyu",
        title="NYU",
        layout=NYU14,
        camera=CAMERA_PRESETS["nyu"],
        test_frames=8252,
        sequences=(
            SequenceRange("seq 1", 0, 2440, "frames 0-2439, first subject"),
            SequenceRange("seq 2", 2440, 8252, "frames 2440-8251, second subject"),
        ),
    ),
    "icvl": DatasetProtocol(
        name="icvl",
        title="ICVL",
        layout=ICVL16,
        camera=CAMERA_PRESETS["icvl"],
        test_frames=1596,
        sequences=(
            SequenceRange("seq 1", 0, 702, "lines 1-702, test_seq_1"),
            SequenceRange("seq 2", 702, 1596, "lines 703-1596, test_seq_2"),
        ),
    ),
    "msra": DatasetProtocol(
        name="msra", title="MSRA15", layout=MSRA21, camera=CAMERA_PRESETS["msra"], test_frames=None
    ),
    "hands2017": DatasetProtocol(
        name="hands2017",
        title="HANDS2017",
        layout=HANDS2017_21,
        camera=CAMERA_PRESETS["hands2017"],
        test_frames=None,
    ),
    # The built-in benchmark: the synthetic test split (handgraph.synth.splits), canonical joints, written in
    # the frame pixels of the kinect preset's camera (y down).
    "synthetic": DatasetProtocol(
        name="synthetic",
        title="Synthetic benchmark",
        layout=HAND,
        camera=Intrinsics(fx=588.03, fy=587.07, cx=320.0, cy=240.0, width=640, height=480),
        test_frames=2000,
    ),
}


def get_protocol(name: str) -> DatasetProtocol:
    """The protocol of a dataset by name: ``nyu``, ``icvl``, ``msra`` or ``hands2017``."""
    if name not in PROTOCOLS:
        raise HandgraphError(f"unknown dataset {name!r}; expected one of: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def dataset_protocol(split: DatasetSplit) -> DatasetProtocol:
    """The protocol that scores a split of a real dataset (``nyu:test`` -> NYU's)."""
    return get_protocol(split.name.partition(":")[0])
