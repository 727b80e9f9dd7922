"""The fitted hand's surface: its round cones in the camera frame. The exact distance of points to them is
``synth.surface.round_cone_distance``; the hand's distance is the smallest over its cones.
"""

from __future__ import annotations

import torch

from handgraph.fitting import hand_model
from handgraph.geometry import anatomy
from handgraph.geometry.kinematics import hand_to_camera
from handgraph.synth.surface import hand_frame_cones

NUM_FITTED_CONES = 24
"""The hand's 26 cones without the two of the forearm stub: the wrist bends, the fitted hand does not."""


def fitted_cones(x: torch.Tensor, left: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The 24 cones of fitted hands in the camera frame, differentiable in x. (B, 42), (B,) -> (B, 24, 3) starts and
    ends, (B, 24) start and end radii. Finger radii are the average hand's times the fitted scale."""
    count, dtype = x.shape[0], x.dtype
    chain = hand_model.chains(x)[0].reshape(count, 20, 3)
    joints_hand = torch.cat([torch.zeros(count, 1, 3, dtype=dtype), chain], dim=1)
    scale = torch.exp(x[:, hand_model.LOG_SCALE])
    radii = torch.as_tensor(anatomy.JOINT_RADII_MM, dtype=dtype) * scale[:, None, None]
    start, end, start_radius, end_radius = hand_frame_cones(
        joints_hand, radii, scale, torch.ones_like(scale), torch.zeros_like(scale)
    )
    rotation = hand_model.rotation_matrix(x)
    keep = slice(0, NUM_FITTED_CONES)
    return (
        hand_to_camera(start[:, keep], rotation, x[:, 3:6], left),
        hand_to_camera(end[:, keep], rotation, x[:, 3:6], left),
        start_radius[:, keep],
        end_radius[:, keep],
    )
