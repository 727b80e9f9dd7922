"""The canonical 21-joint hand skeleton, and the joint-layout type that every dataset's joints are written in.

Canonical order (DESIGN.md §3)::

    0 wrist
    1-4   thumb   CMC, MCP, IP, TIP
    5-8   index   MCP, PIP, DIP, TIP
    9-12  middle  MCP, PIP, DIP, TIP
    13-16 ring    MCP, PIP, DIP, TIP
    17-20 little  MCP, PIP, DIP, TIP

Every finger hangs off the wrist. The skeleton is data: names, parents, bones, fingers and the directed edge
list a graph layer runs on. Dataset layouts (``handgraph.geometry.layouts``) map their own landmarks onto it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handgraph.errors import HandgraphError

FINGER_NAMES = ("thumb", "index", "middle", "ring", "little")
THUMB_PARTS = ("cmc", "mcp", "ip", "tip")
FINGER_PARTS = ("mcp", "pip", "dip", "tip")


@dataclass(frozen=True)
class JointLayout:
    """A named, ordered set of hand joints, the bones between them, and their map to the canonical joints."""

    name: str
    """Short identifier used on the command line, e.g. ``"nyu14"``."""
    joint_names: tuple[str, ...]
    """One name per joint, in the order of the dataset's own files."""
    parents: tuple[int, ...]
    """Index of each joint's parent in this layout, -1 for the root; the bones are (parent, joint)."""
    canonical: tuple[int | None, ...]
    """Canonical joint each joint stands for, or None where the dataset's landmark has no canonical twin."""
    note: str = ""
    """What a user should know about this layout (approximate correspondences, sources)."""

    def __post_init__(self) -> None:
        count = len(self.joint_names)
        if len(self.parents) != count or len(self.canonical) != count:
            raise ValueError(
                f"layout {self.name!r}: {count} names, {len(self.parents)} parents, "
                f"{len(self.canonical)} canonical entries; expected one of each per joint"
            )
        if sum(parent == -1 for parent in self.parents) != 1:
            raise ValueError(f"layout {self.name!r}: expected exactly one root (parent -1)")
        for joint in range(count):
            self._check_reaches_root(joint)
        mapped = [index for index in self.canonical if index is not None]
        if len(set(mapped)) != len(mapped) or any(not 0 <= index < 21 for index in mapped):
            raise ValueError(f"layout {self.name!r}: canonical indices must be distinct and in 0..20")

    def _check_reaches_root(self, joint: int) -> None:
        seen = set()
        while joint != -1:
            if joint in seen or not -1 <= self.parents[joint] < len(self.parents):
                raise ValueError(f"layout {self.name!r}: joint {joint} does not reach the root")
            seen.add(joint)
            joint = self.parents[joint]

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """(parent, child) pairs, one per non-root joint, in joint order."""
        return tuple((parent, child) for child, parent in enumerate(self.parents) if parent != -1)

    def index(self, joint_name: str) -> int:
        """Position of a joint by name."""
        if joint_name not in self.joint_names:
            raise HandgraphError(f"layout {self.name!r} has no joint {joint_name!r}; joints: {self.joint_names}")
        return self.joint_names.index(joint_name)

    def canonical_pairs(self) -> tuple[tuple[int, int], ...]:
        """(layout index, canonical index) for every joint that has a canonical twin."""
        return tuple((own, index) for own, index in enumerate(self.canonical) if index is not None)


def _canonical_names() -> tuple[str, ...]:
    names = ["wrist"] + [f"thumb_{part}" for part in THUMB_PARTS]
    for finger in FINGER_NAMES[1:]:
        names += [f"{finger}_{part}" for part in FINGER_PARTS]
    return tuple(names)


def _canonical_parents() -> tuple[int, ...]:
    # Each finger is a chain of four joints whose first joint hangs off the wrist.
    parents = [-1]
    for finger in range(len(FINGER_NAMES)):
        first = 1 + 4 * finger
        parents += [0, first, first + 1, first + 2]
    return tuple(parents)


HAND = JointLayout(
    name="canonical",
    joint_names=_canonical_names(),
    parents=_canonical_parents(),
    canonical=tuple(range(21)),
    note="handgraph's own 21 joints: wrist, then thumb to little finger from the palm outwards.",
)

FINGERS: dict[str, tuple[int, ...]] = {
    finger: tuple(range(1 + 4 * number, 5 + 4 * number)) for number, finger in enumerate(FINGER_NAMES)
}
"""Canonical joint indices of each finger, from the palm to the tip."""


def graph_edges(layout: JointLayout = HAND, self_loops: bool = True) -> np.ndarray:
    """Directed edges of the hand graph: every bone in both directions, then (optionally) one self-loop per joint.

    Returns an int64 array of shape (2, E): row 0 the source joint, row 1 the target joint. For the canonical
    hand E = 20 + 20 + 21 = 61 with self-loops (40 without, as in the SIA-GCN paper).
    """
    bones = layout.bones
    edges = [(parent, child) for parent, child in bones] + [(child, parent) for parent, child in bones]
    if self_loops:
        edges += [(joint, joint) for joint in range(layout.num_joints)]
    return np.asarray(edges, dtype=np.int64).T  # (2, E)
