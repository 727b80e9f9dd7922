"""The hand's surface: a union of tapered capsules (round cones), which is watertight by construction.

A round cone (a, b, ra, rb) is the convex hull of the balls B(a, ra) and B(b, rb), equivalently the union of
the balls B(a + s (b - a), ra + s (rb - ra)) for s in [0, 1]. The hand uses 26 of them: three per finger and
thumb (the distal one ends at the fingertip joint), four metacarpals, a knuckle row and a mid-palm row that
fill the palm out to a slab, a carpal capsule, a thenar capsule along most of the thumb's metacarpal, the web
between thumb and index finger, and two parallel forearm capsules that give the forearm its flattened section.

Distance to a round cone (a, b, ra, rb), in the half-plane of the axis: with w = (b - a) / L, q = p - a,
axial s = q.w, radial h = |q - s w|, sin(alpha) = (ra - rb) / L and the side's outward normal n = (sin, cos),
the side touches ball A at parameter 0 and ball B at L cos(alpha) along the side's direction (cos, -sin), so

    tau = s cos(alpha) - h sin(alpha)
    d = |q| - ra                         if tau < 0              (nearest to ball A)
    d = |p - b| - rb                     if tau > L cos(alpha)   (nearest to ball B)
    d = s sin(alpha) + h cos(alpha) - ra otherwise               (nearest to the side)

exact outside the cone (negative inside, where it bounds the depth of the point below the surface).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handgraph.geometry.arrays import array_module, as_like
from handgraph.geometry.kinematics import HandShape, hand_to_camera

NUM_HAND_PRIMITIVES = 26

# Hand-frame anchors of a scale-1 hand (mm): where the metacarpals of the four fingers start at the carpus.
# The little finger's starts far out: the hypothenar eminence keeps the palm's ulnar edge nearly straight
# from the knuckle to the wrist, so the palm is about 65 mm wide just above the wrist.
_CARPAL_ANCHORS_MM = np.array([[19.0, 16.0, 2.0], [4.0, 16.0, 0.0], [-12.0, 16.0, 2.0], [-27.0, 16.0, 4.0]])
_CARPAL_ROW_MM = np.array([[-24.0, 8.0, 2.0], [20.0, 8.0, 2.0]])
_THENAR_ANCHOR_MM = np.array([15.0, 36.0, 8.0])
_FOREARM_START_MM = np.array([[10.0, 6.0, 0.0], [-10.0, 6.0, 0.0]])


@dataclass
class RoundCones:
    """Round cones of several frames, flat: (N, 3) ends, (N,) radii, and the frame each belongs to. mm."""

    start: np.ndarray
    end: np.ndarray
    start_radius: np.ndarray
    end_radius: np.ndarray
    frame: np.ndarray
    """(N,) int: index of the frame (image) the cone is in."""

    @classmethod
    def concatenate(cls, parts: list[RoundCones]) -> RoundCones:
        """Several sets of cones as one (each keeps its ``frame``)."""
        if not parts:
            return cls(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
        names = ("start", "end", "start_radius", "end_radius", "frame")
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in names))

    @classmethod
    def from_batched(cls, start, end, start_radius, end_radius) -> RoundCones:
        """From (B, P, 3) ends and (B, P) radii, P cones in each of B frames."""
        frames, count = start_radius.shape
        return cls(
            start=start.reshape(-1, 3),
            end=end.reshape(-1, 3),
            start_radius=start_radius.reshape(-1),
            end_radius=end_radius.reshape(-1),
            frame=np.repeat(np.arange(frames), count),
        )


def round_cone_distance(points, start, end, start_radius, end_radius):
    """Distance of points to each cone, NumPy or torch (differentiable). points (..., N, 3); cones (..., K, 3)
    and (..., K) -> (..., N, K) mm."""
    xp = array_module(points)
    axis = end - start
    length = xp.clip(((axis * axis).sum(-1)) ** 0.5, 1e-9, None)  # (..., K)
    direction = axis / length[..., None]
    offset = points[..., :, None, :] - start[..., None, :, :]  # (..., N, K, 3)
    axial = (offset * direction[..., None, :, :]).sum(-1)
    squared = (offset * offset).sum(-1)
    radial = xp.clip(squared - axial * axial, 1e-12, None) ** 0.5
    sin = xp.clip((start_radius - end_radius) / length, -0.999, 0.999)[..., None, :]
    cos = (1.0 - sin * sin) ** 0.5
    along = axial * cos - radial * sin
    near_start = xp.clip(squared, 1e-12, None) ** 0.5 - start_radius[..., None, :]
    to_end = points[..., :, None, :] - end[..., None, :, :]
    near_end = xp.clip((to_end * to_end).sum(-1), 1e-12, None) ** 0.5 - end_radius[..., None, :]
    side = axial * sin + radial * cos - start_radius[..., None, :]
    return xp.where(along < 0, near_start, xp.where(along > length[..., None, :] * cos, near_end, side))


def _finger_cones(joints, radii) -> tuple:
    xp = array_module(joints)
    chains = joints[:, 1:].reshape(-1, 5, 4, 3)  # (B, 5 chains, 4 joints, 3)
    start, end = chains[:, :, :3], chains[:, :, 1:]
    # The distal capsule ends one tip radius short of the fingertip joint so that its cap passes through it.
    tip_direction = end[:, :, 2] - start[:, :, 2]
    tip_direction = tip_direction / (tip_direction * tip_direction).sum(axis=-1, keepdims=True) ** 0.5
    tip = end[:, :, 2] - tip_direction * radii[:, :, 3, None]
    end = xp.concatenate([end[:, :, :2], tip[:, :, None]], axis=2)
    count = len(joints)
    return (
        start.reshape(count, 15, 3),
        end.reshape(count, 15, 3),
        radii[:, :, :3].reshape(count, 15),
        radii[:, :, 1:].reshape(count, 15),
    )


def _palm_cones(joints, scale, thickness, forearm_length) -> tuple:
    """Shapes: joints (B, 21, 3) hand frame, scale, thickness, forearm_length (B,)."""
    xp = array_module(joints)
    thick = (scale * thickness)[:, None]  # (B, 1)
    scale = scale[:, None, None]
    mcp = joints[:, [5, 9, 13, 17]]  # (B, 4, 3) index to little
    carpal = as_like(_CARPAL_ANCHORS_MM, joints) * scale
    mid_palm = 0.5 * (carpal + mcp)
    thenar_end = joints[:, 1] + 0.75 * (joints[:, 2] - joints[:, 1])  # along the thumb metacarpal
    zero = xp.zeros_like(forearm_length)
    forearm_start = as_like(_FOREARM_START_MM, joints) * scale
    forearm_end = forearm_start - xp.stack([zero, forearm_length, zero], axis=1)[:, None]
    carpal_row = as_like(_CARPAL_ROW_MM, joints) * scale
    start = xp.concatenate(
        [
            carpal,
            mcp[:, :1],
            mid_palm[:, :1],
            carpal_row[:, :1],
            (as_like(_THENAR_ANCHOR_MM, joints) * scale[:, 0])[:, None],
            joints[:, 2:3],  # the web: thumb MCP to index MCP
            forearm_start,
        ],
        axis=1,
    )
    end = xp.concatenate(
        [mcp, mcp[:, 3:], mid_palm[:, 3:], carpal_row[:, 1:], thenar_end[:, None], mcp[:, :1], forearm_end], axis=1
    )
    start_radius = thick * as_like([11.5, 11.5, 11.0, 10.5, 10.0, 11.0, 15.0, 15.0, 7.0, 19.0, 19.0], joints)
    end_radius = thick * as_like([10.5, 10.5, 10.0, 9.5, 9.0, 10.0, 15.0, 12.0, 8.0, 23.0, 23.0], joints)
    return start, end, start_radius, end_radius


def hand_frame_cones(joints_hand, joint_radii, scale, thickness, forearm_length) -> tuple:
    """The 26 round cones of each of B right hands in the hand frame: (B, 26, 3) starts and ends, (B, 26)
    start and end radii. NumPy arrays or torch tensors (differentiable in the joints).

    Shapes: joints_hand (B, 21, 3) from ``chain_joints``, joint_radii (B, 5, 4), the rest (B,); see ``HandShape``.
    """
    xp = array_module(joints_hand)
    finger = _finger_cones(joints_hand, joint_radii)
    palm = _palm_cones(joints_hand, scale, thickness, forearm_length)
    return tuple(xp.concatenate([f, p], axis=1) for f, p in zip(finger, palm, strict=True))


def hand_cones(
    joints_hand: np.ndarray, shape: HandShape, rotation: np.ndarray, translation: np.ndarray, left: np.ndarray
) -> RoundCones:
    """The 26 round cones of each of B hands in the camera frame, hand b's in frame b.

    Shapes: joints_hand (B, 21, 3) right-hand hand-frame joints from ``chain_joints``; rotation (B, 3, 3),
    translation (B, 3), left (B,) as in ``hand_to_camera``.
    """
    start, end, start_radius, end_radius = hand_frame_cones(
        joints_hand, shape.joint_radii, shape.scale, shape.thickness, shape.forearm_length
    )
    return RoundCones.from_batched(
        hand_to_camera(start, rotation, translation, left),
        hand_to_camera(end, rotation, translation, left),
        start_radius,
        end_radius,
    )
