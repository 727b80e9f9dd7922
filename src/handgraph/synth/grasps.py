"""Hands touching things: a hand closed on an object, or resting on a surface, its fingers touching without
passing through.

A grasp places the object against the palm (for a pinch, between the tips of the thumb and the first two
fingers) and then closes each finger from an open pose towards a curled one,
a(t) = a_open + t (a_closed - a_open) for t in [0, 1], stopping it at the first t where it touches: where the
smallest distance from its three round cones to the object reaches zero. A round cone is the union of the balls
B(a + s (b - a), ra + s (rb - ra)) for s in [0, 1], so its distance to the object is

    min_s  d(a + s (b - a)) - (ra + s (rb - ra))

with d the object's signed distance (``objects``, or n.p - offset for a plane), taken over ``BALLS`` values of
s: neighbouring balls overlap, and the surface between two of them lies at most a few tenths of a millimetre
outside them. t is searched on a grid of ``COARSE_STEPS`` and then refined on ``FINE_STEPS`` between the last
free step and the first touching one, so each finger stops within 1/384 of its closing path of the contact
(under half a degree). A finger that touches nothing closes fully. Chains move independently in the
kinematics, so all five close at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from handgraph.geometry.kinematics import HandShape, chain_joints
from handgraph.geometry.rotations import axis_angle_to_matrix
from handgraph.synth.body import frame_along
from handgraph.synth.objects import HandObject, sample_object
from handgraph.synth.poses import GESTURES_DEG, clip_to_limits
from handgraph.synth.surface import hand_frame_cones

BALLS = 9
COARSE_STEPS = 24
FINE_STEPS = 16
FINGER_CONES = 15
"""The first 15 of the hand's round cones are the fingers' and thumb's, three per chain."""
THUMB_PALM_CONES = [22, 23]
"""The thenar and web cones (``surface._palm_cones``), which follow the thumb's metacarpal."""
CONTACT_MM = 1.0
"""A finger whose clearance is under this touches; a grasp whose hand lies deeper than this in the object is
drawn again."""

Distance = Callable[[np.ndarray], np.ndarray]
"""A signed distance: points (..., 3) mm -> (...,) mm, negative inside."""


@dataclass
class Grasp:
    """A hand holding an object, in the hand frame of a right hand."""

    articulation_deg: np.ndarray
    """(5, 4) the hand's angles."""
    held: HandObject
    """The object, placed in the hand frame."""
    touching: np.ndarray
    """(5,) bool: which chains rest on the object."""


def hand_cones_at(shape: HandShape, articulation_deg: np.ndarray) -> tuple[np.ndarray, ...]:
    """The 26 round cones of one hand shape at T articulations, hand frame. (T, 5, 4) deg -> (T, 26, 3) starts
    and ends, (T, 26) start and end radii."""
    count = len(articulation_deg)
    joints = chain_joints(
        np.radians(articulation_deg),
        np.broadcast_to(shape.bone_lengths, (count, 5, 3)),
        np.broadcast_to(shape.root_offsets, (count, 5, 3)),
    )
    return hand_frame_cones(
        joints,
        np.broadcast_to(shape.joint_radii, (count, 5, 4)),
        np.repeat(shape.scale, count),
        np.repeat(shape.thickness, count),
        np.repeat(shape.forearm_length, count),
    )


def cone_clearance(start, end, start_radius, end_radius, distance: Distance) -> np.ndarray:
    """Smallest distance from each round cone to what ``distance`` describes. (..., 3) ends, (...) radii -> (...)."""
    s = np.linspace(0.0, 1.0, BALLS)
    centres = start[..., None, :] + s[:, None] * (end - start)[..., None, :]  # (..., BALLS, 3)
    radii = start_radius[..., None] + s * (end_radius - start_radius)[..., None]
    return (distance(centres) - radii).min(-1)


def _chain_clearance(shape: HandShape, articulation_deg: np.ndarray, distance: Distance) -> np.ndarray:
    """(T, 5, 4) deg -> (T, 5): each chain's clearance; the thumb's includes the thenar and web cones, which
    its metacarpal moves."""
    clearance = cone_clearance(*hand_cones_at(shape, articulation_deg), distance)  # (T, 26)
    chains = clearance[:, :FINGER_CONES].reshape(len(articulation_deg), 5, 3).min(-1)
    chains[:, 0] = np.minimum(chains[:, 0], clearance[:, THUMB_PALM_CONES].min(-1))
    return chains


def close_until_contact(
    shape: HandShape, open_deg: np.ndarray, closed_deg: np.ndarray, distance: Distance
) -> tuple[np.ndarray, np.ndarray]:
    """Each chain closed from ``open_deg`` towards ``closed_deg`` (5, 4) until it touches. Returns the
    articulation (5, 4) deg and which chains touch (5,); a chain that touches already when open stays open."""
    path = closed_deg - open_deg
    steps = np.linspace(0.0, 1.0, COARSE_STEPS + 1)
    clearance = _chain_clearance(shape, open_deg + steps[:, None, None] * path, distance)  # (T, 5)
    touched = clearance <= 0.0
    first = np.where(touched.any(0), touched.argmax(0), COARSE_STEPS + 1)  # (5,)
    low = steps[np.clip(first - 1, 0, COARSE_STEPS)]
    high = steps[np.clip(first, 0, COARSE_STEPS)]
    fine = low + np.linspace(0.0, 1.0, FINE_STEPS + 1)[:, None] * (high - low)  # (F, 5) per chain
    clearance = _chain_clearance(shape, open_deg + fine[:, :, None] * path, distance)
    free = np.where(clearance > 0.0, fine, -1.0).max(0)  # the last free t per chain
    t = np.where(first > COARSE_STEPS, 1.0, np.where(first == 0, 0.0, np.maximum(free, low)))
    return open_deg + t[:, None] * path, first <= COARSE_STEPS


def _palm_clearance(shape: HandShape, articulation_deg: np.ndarray, distance: Distance) -> float:
    """Clearance of the palm, the forearm stub and the open thumb, which the object is placed against."""
    cones = [
        part[0, [0, 1, 2, *range(FINGER_CONES, part.shape[1])]] for part in hand_cones_at(shape, articulation_deg[None])
    ]
    return float(cone_clearance(*cones, distance).min())


def hand_clearance(shape: HandShape, articulation_deg: np.ndarray, distance: Distance) -> float:
    """Smallest distance from the whole hand (all 26 cones) to what ``distance`` describes, mm."""
    cones = (part[0] for part in hand_cones_at(shape, articulation_deg[None]))
    return float(cone_clearance(*cones, distance).min())


def _open_pose(rng: np.random.Generator) -> np.ndarray:
    """Fingers nearly straight and spread as they are before a grasp, the thumb away from the palm."""
    pose = GESTURES_DEG["open"] + rng.normal(0.0, 4.0, (5, 4))
    pose[1:, 0] = rng.uniform(-10.0, 10.0, 4)
    pose[1:, 2:] = rng.uniform(0.0, 12.0, (4, 2))
    pose[0] = [rng.uniform(-10.0, 5.0), rng.uniform(30.0, 55.0), rng.uniform(-5.0, 5.0), rng.uniform(-5.0, 5.0)]
    return clip_to_limits(pose)


def _closed_pose(rng: np.random.Generator, open_deg: np.ndarray) -> np.ndarray:
    """Every chain curled as far as it goes, keeping the open pose's spread."""
    pose = open_deg.copy()
    pose[1:, 0] = rng.uniform(75.0, 90.0, 4)
    pose[1:, 2] = rng.uniform(95.0, 110.0, 4)
    pose[1:, 3] = rng.uniform(60.0, 85.0, 4)
    pose[0] = [rng.uniform(25.0, 50.0), rng.uniform(40.0, 60.0), rng.uniform(30.0, 60.0), rng.uniform(40.0, 80.0)]
    return clip_to_limits(pose)


def _object_pose(rng: np.random.Generator, held: HandObject, shape: HandShape) -> tuple[np.ndarray, np.ndarray]:
    """Where a grip puts the object before the hand closes: rotation (3, 3) and position (3,), hand frame."""
    knuckles = shape.root_offsets[0, 1:].mean(0)  # the four fingers' MCP joints' centre
    spin = rng.uniform(0.0, 2.0 * np.pi)
    if held.grip == "pinch":
        pinch = chain_joints(np.radians(GESTURES_DEG["pinch"])[None], shape.bone_lengths, shape.root_offsets)[0]
        between = 0.5 * (pinch[4] + pinch[8])  # thumb tip and index tip
        across = pinch[8] - pinch[4]
        axis = np.cross(across, rng.normal(size=3))  # any direction across the line of the two tips
        return frame_along(axis / np.linalg.norm(axis), spin), between
    if held.grip == "power":
        turn = rng.uniform(-0.5, 0.5) + (np.pi if rng.uniform() < 0.5 else 0.0)
        axis = np.array([np.cos(turn), np.sin(turn), 0.0])  # across the palm, tilted within its plane
        position = [rng.uniform(-15.0, 10.0), knuckles[1] * rng.uniform(0.7, 0.9), 0.0]
        return frame_along(axis, spin), np.array(position)
    if held.grip == "flat":  # the phone's thin axis along the palm's normal, its long axis along the fingers
        rotation = axis_angle_to_matrix(np.array([0.0, 0.0, rng.uniform(-0.45, 0.45)]))
        return rotation, np.array([rng.uniform(-10.0, 10.0), knuckles[1] * rng.uniform(0.6, 0.85), 0.0])
    return frame_along(np.array([0.0, 0.0, 1.0]), spin), np.array(
        [rng.uniform(-5.0, 10.0), knuckles[1] * rng.uniform(0.85, 1.05), 0.0]
    )


def _against_palm(shape: HandShape, open_deg: np.ndarray, held: HandObject, rotation, position, gap: float):
    """The object moved along the palm's normal (+z) until it lies ``gap`` mm from the palm."""
    for _ in range(6):
        placed = held.moved(rotation, position)
        clearance = _palm_clearance(shape, open_deg, placed.distance)
        if abs(clearance - gap) < 0.1:
            break
        position = position + [0.0, 0.0, gap - clearance]
    return held.moved(rotation, position)


def sample_grasp(rng: np.random.Generator, shape: HandShape, kind: str | None = None, tries: int = 5) -> Grasp | None:
    """A random object of ``kind`` (drawn when None) held by a right hand of ``shape`` (one hand), or None if
    ``tries`` placements all left the hand inside the object (rare)."""
    for _ in range(tries):
        held = sample_object(rng, kind)
        open_deg = _open_pose(rng)
        rotation, position = _object_pose(rng, held, shape)
        if held.grip == "pinch":
            placed = held.moved(rotation, position)
            palm = _palm_clearance(shape, open_deg, placed.distance)
            placed = held.moved(rotation, position + [0.0, 0.0, max(0.0, 2.0 - palm)])
        else:
            placed = _against_palm(shape, open_deg, held, rotation, position, rng.uniform(0.0, 2.0))
        articulation, touching = close_until_contact(shape, open_deg, _closed_pose(rng, open_deg), placed.distance)
        if hand_clearance(shape, articulation, placed.distance) > -CONTACT_MM:
            return Grasp(articulation, placed, touching)
    return None


def rest_on_plane(
    rng: np.random.Generator, shape: HandShape, target_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """A right hand of ``shape`` resting its palm side on a table, or pressing on it with the fingertips, the
    fingers closed from flat towards ``target_deg`` (5, 4) until they meet the table.

    Returns the articulation (5, 4) deg and the table {p : n.p = offset} in the hand frame, n (3,) pointing to
    the hand's side; the hand presses up to 3 mm into it, as a palm's soft tissue gives.
    """
    tilt = np.array([rng.uniform(-0.5, 0.2), rng.uniform(-0.25, 0.25), 0.0])  # wrist raised, hand rocked
    normal = axis_angle_to_matrix(tilt) @ np.array([0.0, 0.0, -1.0])
    flat = np.zeros((5, 4))
    flat[1:, 0] = rng.uniform(-15.0, 0.0, 4)
    flat[:, 1] = target_deg[:, 1]
    flat = clip_to_limits(flat)
    start, end, start_radius, end_radius = (part[0] for part in hand_cones_at(shape, flat[None]))
    lowest = np.min(np.minimum(start @ normal - start_radius, end @ normal - end_radius))
    offset = float(lowest + rng.uniform(0.0, 3.0))

    def to_plane(points: np.ndarray) -> np.ndarray:
        return points @ normal - offset

    articulation, _ = close_until_contact(shape, flat, clip_to_limits(target_deg), to_plane)
    return articulation, normal, offset


def sample_table_up(rng: np.random.Generator) -> np.ndarray:
    """The up direction of a level table in the frame of a camera that looks 15-65 degrees down at it (give or
    take a few degrees of roll and slope): (0, -cos p, -sin p), towards the top of the image and the camera."""
    pitch = np.radians(rng.uniform(15.0, 65.0))
    up = np.array([0.0, -np.cos(pitch), -np.sin(pitch)]) + rng.normal(0.0, 0.08, 3)
    return up / np.linalg.norm(up)


def resting_rotation(rng: np.random.Generator, table_normal: np.ndarray, left: bool, up: np.ndarray) -> np.ndarray:
    """The hand-to-camera rotation (3, 3), as ``kinematics.hand_to_camera`` takes it, that lays a hand whose
    table has normal ``table_normal`` (hand frame, from ``rest_on_plane``) on a table whose normal is ``up``
    (camera frame), the fingers pointing away from the camera, turned up to 45 degrees either way."""
    mirror = np.diag([-1.0 if left else 1.0, 1.0, 1.0])
    normal = mirror @ table_normal
    along = mirror @ np.array([0.0, 1.0, 0.0])  # the fingers' direction
    along = along - (along @ normal) * normal
    along /= np.linalg.norm(along)
    hand = np.stack([normal, along, np.cross(normal, along)], axis=1)
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up  # away from the camera, on the table
    forward = axis_angle_to_matrix(up * rng.uniform(-0.8, 0.8)) @ (forward / np.linalg.norm(forward))
    return np.stack([up, forward, np.cross(up, forward)], axis=1) @ hand.T
