"""Labels of synthetic hands: joints in the NYU-14, ICVL-16 and MSRA-21 conventions as points on the model,
the hand centre, and per-joint visibility against the rendered depth.

A convention's joint is either a canonical joint or a point of the hand frame built from canonical joints:
ICVL's palm lies 45 % of the way from the wrist to the middle MCP (43-57 mm from the finger roots, as on
ICVL's test labels); NYU's palm centre 90 % of the way (about 80 mm from the wrist, as on NYU's); NYU's second
wrist landmark 30 mm to the little-finger side of the wrist (NYU's two wrist points are about 35 mm apart).
"""

from __future__ import annotations

import numpy as np

from handgraph.geometry.layouts import ICVL16, MSRA21, NYU14
from handgraph.geometry.skeleton import HAND, JointLayout

_WRIST, _MIDDLE_MCP = HAND.index("wrist"), HAND.index("middle_mcp")
TIPS = [4, 8, 12, 16, 20]


def hand_centre(joints):
    """The centroid of the 21 joints, the centre crops are cut around. (..., 21, 3) -> (..., 3).

    Unlike the palm centre it moves towards extended fingers, so the default 250 mm cube keeps them.
    """
    return joints.mean(axis=-2)


def _model_points(joints_hand: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Hand-frame points that are not canonical joints, (B, 3) each."""
    wrist, middle_mcp = joints_hand[:, _WRIST], joints_hand[:, _MIDDLE_MCP]
    return {
        "icvl16:palm": wrist + 0.45 * (middle_mcp - wrist),
        "nyu14:palm_centre": wrist + 0.90 * (middle_mcp - wrist),
        "nyu14:wrist_back": wrist + np.array([-30.0, 0.0, 0.0]) * scale[:, None],
    }


CONVENTIONS: dict[str, JointLayout] = {"nyu14": NYU14, "icvl16": ICVL16, "msra21": MSRA21}


def convention_joints(joints_hand: np.ndarray, scale: np.ndarray, layout: JointLayout) -> np.ndarray:
    """Hand-frame joints of a dataset convention, (B, 21, 3) canonical -> (B, J, 3) in the layout's order."""
    points = _model_points(joints_hand, scale)
    columns = []
    for own, canonical in enumerate(layout.canonical):
        if canonical is not None:
            columns.append(joints_hand[:, canonical])
        else:
            columns.append(points[f"{layout.name}:{layout.joint_names[own]}"])
    return np.stack(columns, axis=1)


def joint_visibility(
    uvd: np.ndarray, radii: np.ndarray, hand_depth: np.ndarray, scene_depth: np.ndarray, tolerance_mm: float = 5.0
) -> np.ndarray:
    """Whether each joint is seen: its pixel shows the hand, and that surface is no further in front of the
    joint than the joint's radius plus a tolerance (otherwise another part of the hand hides it).

    Shapes: uvd (B, J, 3) in the image's pixels, radii (B, J) mm, hand_depth and scene_depth (B, H, W) mm with
    0 for nothing -> (B, J) bool. A fingertip joint sits on the rim of its fingertip, so pass the centre of
    the fingertip's cap for it (see ``visibility_points``).
    """
    frames, height, width = hand_depth.shape
    u, v = np.rint(uvd[..., 0]).astype(np.int64), np.rint(uvd[..., 1]).astype(np.int64)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    frame = np.broadcast_to(np.arange(frames)[:, None], u.shape)
    hand = hand_depth[frame, v.clip(0, height - 1), u.clip(0, width - 1)]
    scene = scene_depth[frame, v.clip(0, height - 1), u.clip(0, width - 1)]
    shows_hand = (hand > 0) & (hand <= scene)
    return inside & shows_hand & (hand >= uvd[..., 2] - radii - tolerance_mm)


def visibility_points(xyz: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """The points whose view decides each joint's visibility: the joint itself, except that a fingertip is
    replaced by the centre of its rounded cap, which projects inside the finger's silhouette.

    Shapes: xyz (B, 21, 3), radii (B, 21) -> (B, 21, 3).
    """
    points = xyz.copy()
    direction = xyz[:, TIPS] - xyz[:, [tip - 1 for tip in TIPS]]
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    points[:, TIPS] -= direction * radii[:, TIPS, None]
    return points
