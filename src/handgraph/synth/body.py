"""The rest of the person behind a hand, as round cones: arms, torso, shoulders, neck and head.

Sizes are adult averages scaled with the hand (a person with a 1.1 hand is 1.1 times as broad): forearm
250 mm from wrist to elbow, upper arm 300 mm, shoulders 380 mm apart, torso 500 mm long and about 220 mm
deep, a head 180 mm wide and 230 mm tall on a 100 mm neck. A person is built from one shoulder, the axis to
the other shoulder and the body's up direction, so the arm that holds the hand decides where the body is.
"""

from __future__ import annotations

import numpy as np

from handgraph.geometry.rotations import axis_angle_to_matrix

Cone = tuple[np.ndarray, np.ndarray, float, float]
"""One round cone: start (3,), end (3,), start radius, end radius; mm in the camera frame."""

FOREARM_MM = 250.0
UPPER_ARM_MM = 300.0


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def random_turn(rng: np.random.Generator, direction: np.ndarray, largest_rad: float) -> np.ndarray:
    """``direction`` turned by an angle up to ``largest_rad`` about a random axis."""
    axis = unit(np.cross(direction, rng.normal(size=3)))
    return axis_angle_to_matrix(axis * rng.uniform(0.0, largest_rad)) @ direction


def frame_along(axis: np.ndarray, spin: float) -> np.ndarray:
    """A rotation whose z column is the unit ``axis`` (3,), turned by ``spin`` about it. Returns (3, 3)."""
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    first = np.cross(helper, axis)
    first /= np.linalg.norm(first)
    basis = np.stack([first, np.cross(axis, first), axis], axis=1)
    return axis_angle_to_matrix(axis * spin) @ basis


def arm_cones(wrist: np.ndarray, elbow: np.ndarray, shoulder: np.ndarray | None, scale: float) -> list[Cone]:
    """Forearm from the wrist to the elbow, and the upper arm on to the shoulder when it is given."""
    cones: list[Cone] = [(wrist, elbow, 24.0 * scale, 38.0 * scale)]
    if shoulder is not None:
        cones.append((elbow, shoulder, 40.0 * scale, 52.0 * scale))
    return cones


def person_cones(shoulder: np.ndarray, across: np.ndarray, up: np.ndarray, scale: float) -> list[Cone]:
    """Torso, shoulders, neck and head of a person whose one shoulder is at ``shoulder`` (3,) with
    ``across`` (3,) the unit direction to the other shoulder and ``up`` (3,) the unit direction of the spine."""
    width = 380.0 * scale
    other = shoulder + across * width
    middle = 0.5 * (shoulder + other)
    down = -up
    torso_top, torso_bottom = middle + down * 90.0 * scale, middle + down * 500.0 * scale
    half = across * 70.0 * scale
    neck_top = middle + up * 110.0 * scale
    return [
        (shoulder, other, 55.0 * scale, 55.0 * scale),
        (torso_top - half, torso_bottom - half, 115.0 * scale, 105.0 * scale),
        (torso_top + half, torso_bottom + half, 115.0 * scale, 105.0 * scale),
        (middle, neck_top, 55.0 * scale, 50.0 * scale),
        (neck_top + up * 55.0 * scale, neck_top + up * 150.0 * scale, 88.0 * scale, 80.0 * scale),
    ]


def other_shoulder(shoulder: np.ndarray, across: np.ndarray, scale: float) -> np.ndarray:
    return shoulder + across * 380.0 * scale
