"""The crop every model sees, and its exact inverse: pure tensor functions, batched, device-agnostic.

A crop is a cube of side ``cube`` mm around a hand centre, seen by the crop's own pinhole camera (see
``camera.crop_intrinsics_array``) and resampled to S x S. A crop is described per frame by six numbers,
``crop = (fx, fy, cx, cy, centre_z, cube)``: the crop camera, the centre's depth and the cube side.

Networks work in normalised coordinates, all in [-1, 1] inside the cube:

    u_n = (2 u + 1) / S - 1,  v_n = (2 v + 1) / S - 1,  d_n = (d - centre_z) / (cube / 2)

with u, v crop pixels (pixel centres at integers, so the image spans [-1, 1] exactly as torch's
``align_corners=False`` convention has it) and d in mm. ``uvd_to_xyz`` with the crop camera then gives mm in
the original camera's frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from handgraph.geometry.camera import Intrinsics, crop_intrinsics_array, uvd_to_xyz

CROP_FIELDS = ("fx", "fy", "cx", "cy", "centre_z", "cube")


def crop_uvd_to_xyz(uvd: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
    """(B, J, 3) crop pixels and mm -> (B, J, 3) mm in the camera frame, through each frame's crop camera."""
    return uvd_to_xyz(uvd, crop[:, :4])


def normalized_to_uvd(uvd_norm: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    """(B, J, 3) normalised coordinates -> crop pixels and mm."""
    u = (uvd_norm[..., 0] + 1) * size / 2 - 0.5
    v = (uvd_norm[..., 1] + 1) * size / 2 - 0.5
    d = crop[:, 4:5] + uvd_norm[..., 2] * crop[:, 5:6] / 2
    return torch.stack([u, v, d], dim=-1)


def uvd_to_normalized(uvd: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    """(B, J, 3) crop pixels and mm -> normalised coordinates; the inverse of :func:`normalized_to_uvd`."""
    u = (2 * uvd[..., 0] + 1) / size - 1
    v = (2 * uvd[..., 1] + 1) / size - 1
    d = (uvd[..., 2] - crop[:, 4:5]) / (crop[:, 5:6] / 2)
    return torch.stack([u, v, d], dim=-1)


def normalize_depth(depth_mm: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
    """(B, 1, S, S) depth in mm -> [-1, 1] around the centre; missing pixels and everything outside the cube,
    in front of it or behind it, take the far value 1."""
    centre, half = crop[:, 4].view(-1, 1, 1, 1), crop[:, 5].view(-1, 1, 1, 1) / 2
    normalized = (depth_mm - centre) / half
    outside = (depth_mm <= 0) | (normalized.abs() > 1)
    return torch.where(outside, torch.ones_like(normalized), normalized)


def make_crops(
    frame_intrinsics: torch.Tensor, centre_xyz: torch.Tensor, cube_mm: torch.Tensor | float, size: int
) -> torch.Tensor:
    """(B, 6) crops of side ``cube_mm`` around camera-frame centres, for cameras (B, 4) of the frames."""
    cube = torch.as_tensor(cube_mm, dtype=centre_xyz.dtype, device=centre_xyz.device).expand(centre_xyz.shape[0])
    fx, fy, cx, cy = (frame_intrinsics[:, k] for k in range(4))
    z = centre_xyz[:, 2]
    centre_u, centre_v = fx * centre_xyz[:, 0] / z + cx, fy * centre_xyz[:, 1] / z + cy
    side = cube * torch.maximum(fx.abs(), fy.abs()) / z
    cameras = crop_intrinsics_array(frame_intrinsics, centre_u, centre_v, side, size)
    return torch.cat([cameras, z[:, None], cube[:, None]], dim=1)


def crop_depth(depth_mm: torch.Tensor, frame_intrinsics: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    """Resample (B, H, W) frames into (B, 1, S, S) crops, nearest neighbour (depth must not be blended across
    edges); pixels that fall outside the frame read 0 (no measurement).

    Both cameras share their centre and axes, so crop pixel (u', v') sees frame pixel
    u = (u' - cx') fx / fx' + cx, v = (v' - cy') fy / fy' + cy.
    """
    height, width = depth_mm.shape[-2:]
    steps = torch.arange(size, dtype=depth_mm.dtype, device=depth_mm.device)
    fx, fy, cx, cy = (frame_intrinsics[:, k, None] for k in range(4))
    cfx, cfy, ccx, ccy = (crop[:, k, None] for k in range(4))
    u = (steps[None] - ccx) * fx / cfx + cx  # (B, S) frame columns of the crop's columns
    v = (steps[None] - ccy) * fy / cfy + cy  # (B, S)
    grid_x = (2 * u + 1) / width - 1  # align_corners=False: pixel centres at (2 i + 1) / W - 1
    grid_y = (2 * v + 1) / height - 1
    grid = torch.stack(torch.broadcast_tensors(grid_x[:, None, :], grid_y[:, :, None]), dim=-1)  # (B, S, S, 2)
    return F.grid_sample(depth_mm[:, None], grid, mode="nearest", padding_mode="zeros", align_corners=False)


def intrinsics_tensor(camera: Intrinsics, count: int = 1, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(count, 4) copies of one camera."""
    return torch.tensor([[camera.fx, camera.fy, camera.cx, camera.cy]], dtype=dtype).expand(count, 4).clone()


__all__ = [
    "CROP_FIELDS",
    "crop_depth",
    "crop_uvd_to_xyz",
    "intrinsics_tensor",
    "make_crops",
    "normalize_depth",
    "normalized_to_uvd",
    "uvd_to_normalized",
]


def frame_crops(
    depth_mm: torch.Tensor, frame_intrinsics: torch.Tensor, centre_xyz: torch.Tensor, cube_mm: float, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Model inputs from (B, H, W) frames, their cameras (B, 4) and hand centres (B, 3): the normalised crops
    (B, 1, S, S) and the crops' parameters (B, 6)."""
    crop = make_crops(frame_intrinsics, centre_xyz, cube_mm, size)
    return normalize_depth(crop_depth(depth_mm, frame_intrinsics, crop, size), crop), crop
