"""The fitted hand's surface: its round cones in the camera frame, and the exact distance of points to them.

Distance to a round cone (a, b, ra, rb), in the half-plane of the axis: with w = (b - a) / L, q = p - a,
axial s = q.w, radial h = |q - s w|, sin(alpha) = (ra - rb) / L and the side's outward normal n = (sin, cos),
the side touches ball A at parameter 0 and ball B at L cos(alpha) along the side's direction (cos, -sin), so

    tau = s cos(alpha) - h sin(alpha)
    d = |q| - ra                         if tau < 0              (nearest to ball A)
    d = |p - b| - rb                     if tau > L cos(alpha)   (nearest to ball B)
    d = s sin(alpha) + h cos(alpha) - ra otherwise               (nearest to the side)

exact outside the cone (negative inside). The hand's distance is the smallest over its cones.
"""

from __future__ import annotations

import torch

from handgraph.fitting import hand_model
from handgraph.geometry import anatomy
from handgraph.geometry.kinematics import hand_to_camera
from handgraph.synth.surface import hand_frame_cones

NUM_FITTED_CONES = 24
"""The hand's 26 cones without the two of the forearm stub: the wrist bends, the fitted hand does not."""


def round_cone_distance(points, start, end, start_radius, end_radius) -> torch.Tensor:
    """Distance of points to each cone. points (..., N, 3); cones (..., K, 3) and (..., K) -> (..., N, K) mm."""
    axis = end - start
    length = axis.norm(dim=-1).clamp_min(1e-9)  # (..., K)
    direction = axis / length[..., None]
    offset = points[..., :, None, :] - start[..., None, :, :]  # (..., N, K, 3)
    axial = (offset * direction[..., None, :, :]).sum(-1)
    squared = (offset * offset).sum(-1)
    radial = (squared - axial * axial).clamp_min(1e-12).sqrt()
    sin = ((start_radius - end_radius) / length).clamp(-0.999, 0.999)[..., None, :]
    cos = (1.0 - sin * sin).sqrt()
    along = axial * cos - radial * sin
    near_start = squared.clamp_min(1e-12).sqrt() - start_radius[..., None, :]
    to_end = points[..., :, None, :] - end[..., None, :, :]
    near_end = (to_end * to_end).sum(-1).clamp_min(1e-12).sqrt() - end_radius[..., None, :]
    side = axial * sin + radial * cos - start_radius[..., None, :]
    return torch.where(along < 0, near_start, torch.where(along > length[..., None, :] * cos, near_end, side))


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
