"""Things a hand holds: bottles, cans, cups, boxes, phones, balls, handles, tools and pens, as shapes that the
ray caster renders exactly, with their signed distance for closing fingers on them.

An object is a union of parts in its own frame (mm; its grasp axis, the one a power grasp wraps around, is z):

- round cones (``surface.RoundCones``; a ball where both ends meet): balls, bottle necks, handles, pens;
- solids: boxes, {|p_i| <= h_i}, and cylinders, {|p_xy| <= r, |p_z| <= h}, each in its own frame (a centre and
  three axes), and each optionally hollowed by a second one of its kind shifted along its z (a cup, a tray).

Signed distances (negative inside), with q the point in the part's frame:

    box:       e = |q| - h                          d = |max(e, 0)| + min(max_i e_i, 0)
    cylinder:  e = (|q_xy| - r, |q_z| - h)           the same, over e's two components
    hollowed:  max(d_outer, -d_cut)                 round cone: ``surface.round_cone_distance``
    object:    min over its parts

Box and cylinder distances are exact; the hollowed one and the union are lower bounds of the exact distance
(exact where one part is nearest), which is what contact needs: a finger stops at or before the surface, never
inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from handgraph.geometry.kinematics import hand_to_camera
from handgraph.synth import body
from handgraph.synth.surface import RoundCones, round_cone_distance

BOX, CYLINDER = 0, 1

OBJECT_KINDS = ("bottle", "can", "cup", "box", "phone", "ball", "small_ball", "handle", "tool", "pen")
"""What ``sample_object`` draws from, each equally often."""

GRIPS = {
    "bottle": "power",
    "can": "power",
    "cup": "power",
    "box": "power",
    "phone": "flat",
    "ball": "sphere",
    "small_ball": "pinch",
    "handle": "power",
    "tool": "power",
    "pen": "pinch",
}
"""How each kind is held: wrapped round its z axis against the palm (power), flat in the palm (a phone), the
fingers spread round it (a ball), or between the thumb and the first fingers' tips (pinch)."""


@dataclass
class Solids:
    """Boxes and cylinders of several frames, flat. Shapes: N parts."""

    kind: np.ndarray
    """(N,) int: ``BOX`` or ``CYLINDER``."""
    centre: np.ndarray
    """(N, 3) mm."""
    axes: np.ndarray
    """(N, 3, 3): columns are the part's x, y, z axes (orthonormal; a mirrored frame is allowed)."""
    half: np.ndarray
    """(N, 3) mm: half sides of a box; (r, r, half height) of a cylinder."""
    cut_half: np.ndarray
    """(N, 3) mm: the hollow's half sizes, of the part's kind; zeros for a solid part."""
    cut_shift: np.ndarray
    """(N,) mm: the hollow's centre along the part's z axis."""
    frame: np.ndarray
    """(N,) int: the frame (image) each part is in."""

    @classmethod
    def empty(cls) -> Solids:
        return cls(
            np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 3)), np.zeros((0, 3)),
            np.zeros(0), np.zeros(0, np.int64),
        )  # fmt: skip

    @classmethod
    def concatenate(cls, parts: list[Solids]) -> Solids:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in _SOLID_FIELDS))


_SOLID_FIELDS = ("kind", "centre", "axes", "half", "cut_half", "cut_shift", "frame")


@dataclass
class HandObject:
    """One object: its round cones and solids (all in frame 0), its kind and how a hand holds it."""

    kind: str
    cones: RoundCones
    solids: Solids

    @property
    def grip(self) -> str:
        return GRIPS[self.kind]

    def moved(self, rotation: np.ndarray, translation: np.ndarray) -> HandObject:
        """The object turned by ``rotation`` (3, 3) and then moved by ``translation`` (3,)."""
        cones = replace(
            self.cones, start=self.cones.start @ rotation.T + translation, end=self.cones.end @ rotation.T + translation
        )
        solids = replace(
            self.solids, centre=self.solids.centre @ rotation.T + translation, axes=rotation @ self.solids.axes
        )
        return HandObject(self.kind, cones, solids)

    def standing_on(self, normal: np.ndarray, offset: float, position: np.ndarray, spin: float) -> HandObject:
        """The object standing on the table {p : normal . p = offset} (``normal`` (3,) unit, up from it): its z
        axis along the normal, turned by ``spin`` rad about it, its bottom at ``position`` (3,) dropped onto it.
        The bottom is the lowest point of the object on the line down its axis (a cup's centre lies in its
        hollow, so the first point outside the object below the centre is not its bottom)."""
        turned = self.moved(body.frame_along(normal, spin), np.zeros(3))
        below = np.arange(0.0, 300.0, 0.5)[:, None] * -normal  # from its centre down along the normal
        inside = np.flatnonzero(turned.distance(below) < 0.0)
        height = below[inside[-1]] @ -normal + 0.5 if len(inside) else turned.lowest(-normal)  # 0.5: the step
        return turned.moved(np.eye(3), position - (normal @ position - offset) * normal + normal * height)

    def lowest(self, down: np.ndarray) -> float:
        """How far the object reaches along ``down`` (3,) unit, an upper bound: its cones' ends and radii, its
        solids' centres and half diagonals."""
        cones = self.cones
        reach = [np.max(np.maximum(cones.start @ down + cones.start_radius, cones.end @ down + cones.end_radius),
                        initial=-np.inf)]  # fmt: skip
        reach.append(np.max(self.solids.centre @ down + np.linalg.norm(self.solids.half, axis=-1), initial=-np.inf))
        return float(max(reach))

    def in_frame(self, frame: int) -> HandObject:
        """The object in image ``frame``, for rendering several frames at once."""
        cones = replace(self.cones, frame=np.full(len(self.cones.frame), frame))
        return HandObject(self.kind, cones, replace(self.solids, frame=np.full(len(self.solids.frame), frame)))

    def in_camera(self, rotation: np.ndarray, translation: np.ndarray, left: bool, frame: int) -> HandObject:
        """A hand-frame object in the camera frame of a hand placed as ``kinematics.hand_to_camera`` places it
        (rotation (3, 3), translation (3,), mirrored for a left hand), in image ``frame``."""

        def place(points: np.ndarray) -> np.ndarray:  # (N, 3) -> (N, 3)
            return hand_to_camera(points[None], rotation[None], translation[None], np.array([float(left)]))[0]

        centre = place(self.solids.centre)
        axes = np.stack([place(self.solids.centre + self.solids.axes[..., k]) - centre for k in range(3)], -1)
        cones = replace(self.cones, start=place(self.cones.start), end=place(self.cones.end))
        return HandObject(self.kind, cones, replace(self.solids, centre=centre, axes=axes)).in_frame(frame)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance (a lower bound, see the module) of points (..., 3) to the object -> (...,) mm."""
        flat = points.reshape(-1, 3)
        distance = np.full(len(flat), np.inf)
        if len(self.cones.frame):
            cones = self.cones
            to_cones = round_cone_distance(flat, cones.start, cones.end, cones.start_radius, cones.end_radius)
            distance = np.minimum(distance, to_cones.min(-1))
        for k in range(len(self.solids.frame)):
            distance = np.minimum(distance, _solid_distance(self.solids, k, flat))
        return distance.reshape(points.shape[:-1])


def _solid_distance(solids: Solids, k: int, points: np.ndarray) -> np.ndarray:
    local = (points - solids.centre[k]) @ solids.axes[k]  # (N, 3) in the part's frame
    distance = _primitive_distance(solids.kind[k], local, solids.half[k])
    if solids.cut_half[k].any():
        cut = _primitive_distance(solids.kind[k], local - [0.0, 0.0, solids.cut_shift[k]], solids.cut_half[k])
        distance = np.maximum(distance, -cut)
    return distance


def _primitive_distance(kind: int, local: np.ndarray, half: np.ndarray) -> np.ndarray:
    if kind == BOX:
        excess = np.abs(local) - half  # (N, 3)
    else:
        excess = np.stack([np.linalg.norm(local[:, :2], axis=1) - half[0], np.abs(local[:, 2]) - half[2]], 1)
    outside = np.linalg.norm(np.maximum(excess, 0.0), axis=1)
    return outside + np.minimum(excess.max(axis=1), 0.0)


def _cones(parts: list[tuple]) -> RoundCones:
    """Round cones of one object from (start, end, start radius, end radius) tuples."""
    return RoundCones(
        start=np.array([part[0] for part in parts], dtype=np.float64).reshape(-1, 3),
        end=np.array([part[1] for part in parts], dtype=np.float64).reshape(-1, 3),
        start_radius=np.array([part[2] for part in parts], dtype=np.float64),
        end_radius=np.array([part[3] for part in parts], dtype=np.float64),
        frame=np.zeros(len(parts), dtype=np.int64),
    )


def _solids(parts: list[tuple]) -> Solids:
    """Solids of one object from (kind, centre, half, cut_half, cut_shift) tuples, axes aligned with its frame."""
    if not parts:
        return Solids.empty()
    return Solids(
        kind=np.array([part[0] for part in parts], dtype=np.int64),
        centre=np.array([part[1] for part in parts], dtype=np.float64),
        axes=np.tile(np.eye(3), (len(parts), 1, 1)),
        half=np.array([part[2] for part in parts], dtype=np.float64),
        cut_half=np.array([part[3] for part in parts], dtype=np.float64),
        cut_shift=np.array([part[4] for part in parts], dtype=np.float64),
        frame=np.zeros(len(parts), dtype=np.int64),
    )


def sample_object(rng: np.random.Generator, kind: str | None = None) -> HandObject:
    """A random object of ``kind`` (one of ``OBJECT_KINDS``, drawn when None) in its own frame, sized as the
    everyday things it stands for (a 500 ml bottle is about 65 mm across and 200 mm tall)."""
    kind = OBJECT_KINDS[rng.integers(len(OBJECT_KINDS))] if kind is None else kind
    solid, none = np.zeros(3), 0.0
    cones, solids = [], []
    if kind == "bottle":
        radius, half = rng.uniform(28.0, 40.0), rng.uniform(55.0, 95.0)
        neck = rng.uniform(11.0, 15.0)
        solids.append((CYLINDER, [0.0, 0.0, 0.0], [radius, radius, half], solid, none))
        shoulder = half - 0.6 * radius
        cones.append(([0.0, 0.0, shoulder], [0.0, 0.0, half + 0.5 * radius], 0.97 * radius, neck))
        cones.append(([0.0, 0.0, half + 0.5 * radius], [0.0, 0.0, half + 0.5 * radius + 45.0], neck, neck))
    elif kind == "can":
        radius, half = rng.uniform(26.0, 38.0), rng.uniform(45.0, 70.0)
        solids.append((CYLINDER, [0.0, 0.0, 0.0], [radius, radius, half], solid, none))
    elif kind == "cup":
        radius, half, wall = rng.uniform(35.0, 45.0), rng.uniform(40.0, 55.0), rng.uniform(3.0, 5.0)
        # the hollow starts one wall above the bottom and runs out through the open top
        solids.append((CYLINDER, [0.0, 0.0, 0.0], [radius, radius, half], [radius - wall] * 2 + [half], wall + 1.0))
        handle = [[radius - 2.0, 0.0, 0.6 * half], [radius + 22.0, 0.0, 0.45 * half]]
        handle += [[radius + 22.0, 0.0, -0.45 * half], [radius - 2.0, 0.0, -0.6 * half]]
        cones += [(handle[k], handle[k + 1], 5.0, 5.0) for k in range(3)]
    elif kind == "box":
        size = [rng.uniform(20.0, 40.0), rng.uniform(25.0, 50.0), rng.uniform(40.0, 90.0)]
        solids.append((BOX, [0.0, 0.0, 0.0], size, solid, none))
    elif kind == "phone":
        size = [rng.uniform(33.0, 40.0), rng.uniform(68.0, 80.0), rng.uniform(3.5, 5.0)]
        solids.append((BOX, [0.0, 0.0, 0.0], size, solid, none))
    elif kind in ("ball", "small_ball"):
        radius = rng.uniform(30.0, 55.0) if kind == "ball" else rng.uniform(12.0, 22.0)
        cones.append(([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], radius, radius))
    elif kind == "handle":
        radius, half = rng.uniform(10.0, 18.0), rng.uniform(55.0, 110.0)
        cones.append(([0.0, 0.0, -half], [0.0, 0.0, half], radius, radius * rng.uniform(0.85, 1.0)))
    elif kind == "tool":  # a hammer or a pan: a handle with a head at one end
        radius, half = rng.uniform(11.0, 15.0), rng.uniform(60.0, 90.0)
        cones.append(([0.0, 0.0, -half], [0.0, 0.0, half], radius, radius))
        head = [rng.uniform(40.0, 70.0), rng.uniform(12.0, 20.0), rng.uniform(12.0, 20.0)]
        solids.append((BOX, [0.0, 0.0, half + head[2]], head, solid, none))
    elif kind == "pen":
        radius, half = rng.uniform(4.0, 6.0), rng.uniform(60.0, 75.0)
        cones.append(([0.0, 0.0, -half], [0.0, 0.0, half], radius, radius * 0.6))
    else:
        raise ValueError(f"unknown object kind {kind!r}; known: {', '.join(OBJECT_KINDS)}")
    return HandObject(kind, _cones(cones), _solids(solids))


def merge_objects(objects: list[HandObject]) -> tuple[RoundCones, Solids]:
    """The parts of several objects (each already in its image's frame) together, for rendering."""
    return RoundCones.concatenate([obj.cones for obj in objects]), Solids.concatenate([obj.solids for obj in objects])
