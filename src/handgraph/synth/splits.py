"""The fixed synthetic benchmark splits that every benchmark and demo scores on.

Versioned: a change to the generator that changes these frames must bump ``BENCHMARK_VERSION`` so that
figures from different versions are never compared as if they were the same test set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.synth.generator import SynthConfig

BENCHMARK_VERSION = 3
"""1: the splits as first fixed. 2: the rendered hand corrected (finger abduction's sign, the palm base, the
thumb web, 10 % thicker fingers, Kinect edge fattening; commits b1dfaed, 02c90d9, b363e1d). 3: egocentric hands
point away from their wearer (commit 8cb6c0f): the frames of ``test-egocentric`` and
``test-egocentric-holding-sr300`` changed, no other split's. Every figure records the version of its split's frames
(``SyntheticSplit.version``); figures of different versions are never put side by side."""


def same_benchmark_version(results: dict[str, int | None]) -> int | None:
    """The one benchmark version of ``results`` (name -> recorded version, None where a result predates the
    recording); an error naming them when they differ."""
    versions = set(results.values())
    if len(versions) > 1:
        listed = ", ".join(f"{name}: {version if version is not None else 'not recorded'}" for name, version in
                           sorted(results.items(), key=lambda item: str(item[1])))  # fmt: skip
        raise HandgraphError(f"results of different synthetic benchmark versions cannot be compared ({listed}); "
                             f"rerun the older ones at version {BENCHMARK_VERSION}")  # fmt: skip
    return versions.pop() if versions else None


@dataclass(frozen=True)
class SyntheticSplit:
    """A fixed set of synthetic frames: frames [0, count) of stream ``seed`` under ``config``."""

    name: str
    seed: int
    count: int
    config: SynthConfig = field(default_factory=SynthConfig)
    version: int = 2
    """The benchmark version in which this split's frames last changed (see ``BENCHMARK_VERSION``)."""


RIGHT_HANDS = SynthConfig(left_fraction=0.0)
"""Right hands, as in NYU, ICVL and MSRA: in depth alone a left hand seen from the palm is nearly the mirror
image of a right hand seen from the back, so one model per side; left hands are mirrored at prediction."""

SPLITS: dict[str, SyntheticSplit] = {
    "validation": SyntheticSplit("validation", seed=1_000_003, count=1000, config=RIGHT_HANDS),
    "test": SyntheticSplit("test", seed=2_000_029, count=2000, config=RIGHT_HANDS),
}
"""Kinect sensor model, 128 x 128 crops of a 250 mm cube, right hands: the training data's distribution."""

FAMILY_SPLITS: dict[str, SyntheticSplit] = {
    split.name: split
    for split in (
        SyntheticSplit("test-egocentric", 2_000_081, 500, replace(RIGHT_HANDS, egocentric_fraction=1.0), 3),
        SyntheticSplit("test-holding", 2_000_083, 500, replace(RIGHT_HANDS, object_fraction=1.0)),
        SyntheticSplit("test-surface", 2_000_089, 500, replace(RIGHT_HANDS, surface_fraction=1.0)),
        SyntheticSplit(
            "test-egocentric-holding-sr300",
            2_000_099,
            500,
            replace(RIGHT_HANDS, preset="realsense", egocentric_fraction=1.0, object_fraction=1.0),
            3,
        ),
    )
}
"""Test splits of the scenes beyond a free hand (``synth.generator``'s families): seen by a head-mounted camera,
holding an object, resting on a table, and all of it at once through a RealSense SR300 (the held-out real
frames' setting). New in benchmark version 2; the frames of ``validation`` and ``test`` are unchanged."""
SPLITS.update(FAMILY_SPLITS)


def benchmark_split(name: str) -> SyntheticSplit:
    """A benchmark split by name: ``validation``, ``test`` or one of ``FAMILY_SPLITS``."""
    if name not in SPLITS:
        raise HandgraphError(f"unknown synthetic split {name!r}; known: {', '.join(SPLITS)}")
    return SPLITS[name]


def check_training_seed(seed: int) -> None:
    """Refuse a training seed that would train on a benchmark split's frames."""
    for split in SPLITS.values():
        if seed == split.seed:
            raise HandgraphError(f"seed {seed} is the {split.name} split's; train on another seed")


FRONTAL_DEGREES = 60.0
"""The real datasets' view range: NYU, ICVL and MSRA show the palm or the back of the hand to the camera."""


def frontal_views(pose: np.ndarray, centre_xyz: np.ndarray, degrees: float = FRONTAL_DEGREES) -> np.ndarray:
    """Frames whose palm (or back) faces the camera within ``degrees``: the angle between the palm's normal
    (the hand frame's z axis, see ``geometry.anatomy``) and the line of sight to the hand. Shapes: pose (B, 26)
    as ``generate_frames`` gives it, centre_xyz (B, 3) -> (B,) bool."""
    from scipy.spatial.transform import Rotation

    normal = Rotation.from_rotvec(np.asarray(pose, dtype=np.float64)[:, :3]).as_matrix()[:, :, 2]  # (B, 3)
    sight = np.asarray(centre_xyz, dtype=np.float64)
    sight = sight / np.linalg.norm(sight, axis=1, keepdims=True)
    return np.abs((normal * sight).sum(axis=1)) >= np.cos(np.radians(degrees))
