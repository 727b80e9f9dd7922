"""Augmentation of crops that keeps image and labels consistent: in-plane rotation, scale and centre shift.

In normalised crop coordinates (``preprocess.crop``) a point p = (u_n, v_n) with depth d_n moves to

    p' = R(theta) (p - s_uv) / k,    d' = (d_n - s_d) / k

which is the crop of a cube k times larger, centred s (normalised units) away from the old centre and turned
by theta about the ray through the crop centre. The image is resampled with the inverse map (nearest
neighbour); what comes from outside the old crop, or leaves the cube in depth, takes the far value 1. The
crop parameters follow: focal lengths divided by k, principal point through the same map, centre depth and
cube side updated, so labels still decode to millimetres (the in-plane rotation is taken as a turn of the
scene about that ray, not as a change of camera).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment_crop(
    depth: torch.Tensor,
    uvd_norm: torch.Tensor,
    crop: torch.Tensor,
    rotation: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Apply per-frame rotation (B,) rad, scale (B,) and shift (B, 3) to normalised crops.

    Shapes: depth (B, 1, S, S) in [-1, 1], uvd_norm (B, J, 3), crop (B, 6) -> the same three, transformed.
    """
    size = depth.shape[-1]
    cos, sin = torch.cos(rotation), torch.sin(rotation)
    # Inverse map for sampling: p = k R(-theta) p' + s_uv.
    inverse = torch.stack(
        [
            torch.stack([cos * scale, sin * scale, shift[:, 0]], -1),
            torch.stack([-sin * scale, cos * scale, shift[:, 1]], -1),
        ],
        dim=1,
    )  # (B, 2, 3)
    grid = F.affine_grid(inverse, list(depth.shape), align_corners=False)
    moved = F.grid_sample(depth - 1.0, grid, mode="nearest", padding_mode="zeros", align_corners=False) + 1.0
    foreground = moved < 1.0
    moved = torch.where(foreground, (moved - shift[:, 2].view(-1, 1, 1, 1)) / scale.view(-1, 1, 1, 1), moved)
    moved = torch.where(moved.abs() > 1.0, torch.ones_like(moved), moved)
    relative = (uvd_norm[..., :2] - shift[:, None, :2]) / scale[:, None, None]
    u = cos[:, None] * relative[..., 0] - sin[:, None] * relative[..., 1]
    v = sin[:, None] * relative[..., 0] + cos[:, None] * relative[..., 1]
    d = (uvd_norm[..., 2] - shift[:, None, 2]) / scale[:, None]
    return moved, torch.stack([u, v, d], dim=-1), _moved_crop(crop, scale, shift, size)


def _moved_crop(crop: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, size: int) -> torch.Tensor:
    fx, fy, cx, cy, centre_z, cube = crop.unbind(dim=1)
    middle = (size - 1) / 2
    # The principal point in normalised units, moved like a point without the turn.
    cx_n, cy_n = (cx - middle) * 2 / size, (cy - middle) * 2 / size
    new_cx = ((cx_n - shift[:, 0]) / scale) * size / 2 + middle
    new_cy = ((cy_n - shift[:, 1]) / scale) * size / 2 + middle
    new_z = centre_z + shift[:, 2] * cube / 2
    return torch.stack([fx / scale, fy / scale, new_cx, new_cy, new_z, cube * scale], dim=1)
