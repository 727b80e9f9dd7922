"""Sampling hands: articulations (uniform within limits, or named gestures with perturbations), shapes,
viewpoints and placements. Every function draws from the ``numpy.random.Generator`` it is given."""

from __future__ import annotations

import numpy as np

from handgraph.geometry import anatomy
from handgraph.geometry.kinematics import HandShape
from handgraph.geometry.rotations import axis_angle_to_matrix, rotation_y, rotation_z
from handgraph.synth.body import unit

_OPEN = [0, 0, 0, 0]
_CURLED = [85, 0, 100, 65]
_THUMB_TUCKED = [40, 25, 45, 35]  # thumb across the curled fingers
_THUMB_UP = [15, -5, 0, -5]  # extended along the side of the fist
_THUMB_OUT = [-10, 35, -5, -5]  # extended away from the hand

GESTURES_DEG: dict[str, np.ndarray] = {
    name: np.array(chains, dtype=np.float64)
    for name, chains in {
        # rows: thumb (CMC flexion, CMC abduction, MCP, IP), then index, middle, ring, little
        # (MCP flexion, MCP abduction towards the thumb, PIP, DIP); degrees
        "open": [[0, 20, 0, 0], [0, 10, 0, 0], [0, 0, 0, 0], [0, -8, 0, 0], [0, -16, 0, 0]],
        "flat": [[35, -12, 5, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 2, 0, 0], [0, 4, 0, 0]],
        "relaxed": [[10, 25, 15, 15], [15, 4, 20, 12], [20, 0, 25, 15], [25, -4, 30, 20], [30, -8, 35, 22]],
        "fist": [_THUMB_TUCKED, _CURLED, _CURLED, _CURLED, _CURLED],
        "point": [_THUMB_TUCKED, _OPEN, _CURLED, _CURLED, _CURLED],
        "pinch": [[30, 45, 20, 20], [45, 0, 45, 30], [15, 0, 20, 12], [15, -4, 20, 12], [15, -8, 20, 12]],
        "ok": [[30, 40, 25, 25], [55, 0, 60, 40], [5, 0, 5, 0], [5, -6, 5, 0], [5, -12, 5, 0]],
        "peace": [[45, 25, 45, 35], [0, 12, 0, 0], [0, -8, 0, 0], _CURLED, _CURLED],
        "thumbs_up": [_THUMB_UP, _CURLED, _CURLED, _CURLED, _CURLED],
        "horns": [_THUMB_TUCKED, [0, 8, 0, 0], _CURLED, _CURLED, [0, -12, 0, 0]],
        "call": [_THUMB_OUT, _CURLED, _CURLED, _CURLED, [0, -18, 0, 0]],
        "three": [[50, 20, 45, 35], [0, 10, 0, 0], [0, 0, 0, 0], [0, -8, 0, 0], _CURLED],
        "four": [[45, 10, 50, 30], [0, 10, 0, 0], [0, 0, 0, 0], [0, -8, 0, 0], [0, -16, 0, 0]],
        "claw": [[20, 40, 30, 40], [10, 8, 80, 70], [10, 0, 80, 70], [10, -6, 80, 70], [10, -12, 80, 70]],
        "grasp": [[25, 50, 20, 15], [50, 0, 60, 40], [50, 0, 60, 40], [50, 0, 60, 40], [50, 0, 60, 40]],
        "l_shape": [[-5, 55, 0, 0], _OPEN, _CURLED, _CURLED, _CURLED],
    }.items()
}
"""Named hand gestures as (5 chains, 4 angles) in degrees, within ``anatomy.JOINT_LIMITS_DEG``."""

PALM_VIEW = np.diag([1.0, -1.0, -1.0])
"""Hand-to-camera rotation of the central view: fingers up the image, palm facing the camera."""


def clip_to_limits(articulation_deg: np.ndarray) -> np.ndarray:
    """Clip (..., 5, 4) angles in degrees to the anatomical limits."""
    return np.clip(articulation_deg, anatomy.JOINT_LIMITS_DEG[..., 0], anatomy.JOINT_LIMITS_DEG[..., 1])


def sample_uniform_articulation(rng: np.random.Generator) -> np.ndarray:
    """One articulation, uniform within the limits, with each DIP following its PIP. Returns (5, 4) deg."""
    low, high = anatomy.JOINT_LIMITS_DEG[..., 0], anatomy.JOINT_LIMITS_DEG[..., 1]
    angles = rng.uniform(low, high)
    coupled = anatomy.DIP_PIP_COUPLING * angles[1:, 2] + rng.normal(0.0, 8.0, 4)
    angles[1:, 3] = coupled  # the thumb's IP joint has no such coupling
    return clip_to_limits(angles)


def sample_gesture_articulation(rng: np.random.Generator, noise_deg: float) -> tuple[str, np.ndarray]:
    """A random named gesture with Gaussian perturbations of every angle. Returns (name, (5, 4) deg)."""
    name = list(GESTURES_DEG)[rng.integers(len(GESTURES_DEG))]
    return name, clip_to_limits(GESTURES_DEG[name] + rng.normal(0.0, noise_deg, (5, 4)))


def sample_shape(rng: np.random.Generator, scale_range: tuple[float, float] = anatomy.SCALE_RANGE) -> HandShape:
    """One hand shape: global scale (within ``scale_range``), per-bone lengths, thickness and forearm length."""
    scale = rng.uniform(*scale_range)
    bone_factor = 1.0 + np.clip(rng.normal(0.0, anatomy.BONE_VARIATION, (5, 3)), -0.1, 0.1)
    thickness = 1.0 + np.clip(rng.normal(0.0, anatomy.THICKNESS_VARIATION), -0.15, 0.15)
    return HandShape(
        bone_lengths=(anatomy.BONE_LENGTHS_MM * bone_factor * scale)[None],
        root_offsets=(anatomy.ROOT_OFFSETS_MM * scale)[None],
        joint_radii=(anatomy.JOINT_RADII_MM * scale * thickness)[None],
        scale=np.array([scale]),
        thickness=np.array([thickness]),
        forearm_length=np.array([rng.uniform(*anatomy.FOREARM_LENGTH_RANGE_MM) * scale]),
    )


def sample_view_rotation(
    rng: np.random.Generator, cone_deg: float, back_fraction: float, roll_deg: float
) -> np.ndarray:
    """A hand-to-camera rotation: the palm (or, with probability ``back_fraction``, the back of the hand)
    faces the camera, tilted by an angle uniform over the spherical cap of half-angle ``cone_deg`` (180 is
    the full sphere), then rolled about the optical axis by up to ``roll_deg``. Returns (3, 3)."""
    base = PALM_VIEW @ rotation_y(np.pi) if rng.uniform() < back_fraction else PALM_VIEW
    tilt = np.arccos(rng.uniform(np.cos(np.radians(cone_deg)), 1.0))
    heading = rng.uniform(0.0, 2.0 * np.pi)
    tilt_rotation = axis_angle_to_matrix(np.array([np.cos(heading), np.sin(heading), 0.0]) * tilt)
    roll = rotation_z(np.radians(rng.uniform(-roll_deg, roll_deg)))
    return roll @ tilt_rotation @ base


def sample_egocentric_rotation(
    rng: np.random.Generator, side: float, turns: tuple[float, ...] = (0.0, 0.0, 0.5, -0.5, 1.6)
) -> np.ndarray:
    """A hand as a head- or chest-mounted camera looking 15-65 degrees down sees its wearer's hand: from behind
    and above it, fingers forward (away from the wearer) and level or down by up to 60 degrees in the world (not
    in the camera's frame, which looks down: level fingers point up the image, away from the forearm that runs
    down it), the palm facing the world's down, or turned about the fingers as a grasp turns it (sideways, up):
    by one of ``turns`` rad. ``side`` is +1 for a right hand, -1 for a left one (the hand's own side of the view).
    Returns the hand-to-camera rotation (3, 3) as ``kinematics.hand_to_camera`` takes it."""
    pitch = np.radians(rng.uniform(15.0, 65.0))  # how far the camera looks down
    forward = np.array([0.0, -np.sin(pitch), np.cos(pitch)])  # the world's level forward, in the camera's frame
    down = np.array([0.0, np.cos(pitch), np.sin(pitch)])  # and its down
    droop = np.radians(rng.uniform(-15.0, 60.0))  # the fingers below the level: reaching, or grasping from above
    fingers = unit(np.cos(droop) * forward + np.sin(droop) * down + [rng.normal(-0.2 * side, 0.3), 0.0, 0.0])
    down = down + rng.normal(0.0, 0.2, 3)
    palm = unit(down - (down @ fingers) * fingers)
    palm = axis_angle_to_matrix(fingers * rng.choice(turns) * side) @ palm
    return np.stack([np.cross(fingers, palm), fingers, palm], axis=1)
