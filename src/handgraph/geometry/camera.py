"""Pinhole depth-camera intrinsics and the uvd <-> xyz conversion, for NumPy arrays and torch tensors alike.

    x = (u - cx) * d / fx        u = x * fx / z + cx
    y = (v - cy) * d / fy        v = y * fy / z + cy
    z = d                        d = z

u, v in pixels, d and x, y, z in millimetres. The presets are the parameters the community evaluation kit uses
(``../shared/data/README.md``); NYU's negative fy turns image-down v into NYU's world frame, where y points up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TypeVar

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.arrays import array_module

Array = TypeVar("Array")  # a numpy.ndarray or a torch.Tensor; the functions return the same type


def is_finite_number(value: object) -> bool:
    """An int or float (not a bool) that is finite as a float: JSON's 1e999 and 10**400 are not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


@dataclass(frozen=True)
class Intrinsics:
    """A pinhole camera: focal lengths and principal point in pixels, plus the image size."""

    fx: float
    """Focal length along u, pixels. Negative flips the x axis."""
    fy: float
    """Focal length along v, pixels. Negative makes y point up (NYU's world frame)."""
    cx: float
    """Principal point, u coordinate, pixels."""
    cy: float
    """Principal point, v coordinate, pixels."""
    width: int | None = None
    """Image width in pixels, when known."""
    height: int | None = None
    """Image height in pixels, when known."""

    def __post_init__(self) -> None:
        for field_name in ("fx", "fy", "cx", "cy"):
            value = getattr(self, field_name)
            if not is_finite_number(value):
                raise HandgraphError(f"camera intrinsics: {field_name} must be a finite number, got {value!r}")
        if self.fx == 0 or self.fy == 0:
            raise HandgraphError(f"camera intrinsics: fx and fy must be non-zero, got fx={self.fx}, fy={self.fy}")
        for field_name in ("width", "height"):
            value = getattr(self, field_name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise HandgraphError(f"camera intrinsics: {field_name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


CAMERA_PRESETS: dict[str, Intrinsics] = {
    "nyu": Intrinsics(fx=588.03, fy=-587.07, cx=320.0, cy=240.0, width=640, height=480),
    "icvl": Intrinsics(fx=240.99, fy=240.96, cx=160.0, cy=120.0, width=320, height=240),
    "msra": Intrinsics(fx=241.42, fy=241.42, cx=160.0, cy=120.0, width=320, height=240),
    "hands2017": Intrinsics(fx=475.065948, fy=475.065857, cx=315.944855, cy=245.287079, width=640, height=480),
    # the RealSense SR305 of ../shared/data/real/sr305 (its frames store depth in 0.125 mm: --depth-scale 0.125)
    "sr305": Intrinsics(fx=476.0068, fy=476.0068, cx=313.683, cy=242.755, width=640, height=480),
}


def camera_preset(name: str) -> Intrinsics:
    """The intrinsics of a named camera (``nyu``, ``icvl``, ``msra``, ``hands2017``, ``sr305``)."""
    if name not in CAMERA_PRESETS:
        raise HandgraphError(f"unknown camera preset {name!r}; known: {', '.join(CAMERA_PRESETS)}")
    return CAMERA_PRESETS[name]


def _terms(camera: Intrinsics | Array) -> tuple:
    """fx, fy, cx, cy of one camera, or of one camera per frame as (B, 1) columns for (B, J, 3) points."""
    if isinstance(camera, Intrinsics):
        return camera.fx, camera.fy, camera.cx, camera.cy
    return tuple(camera[..., k, None] for k in range(4))


def uvd_to_xyz(uvd: Array, camera: Intrinsics | Array) -> Array:
    """Back-project pixel coordinates with depth to camera-frame points.

    Shapes: uvd (..., 3) -> xyz (..., 3) for one ``Intrinsics``; uvd (B, J, 3) with a (B, 4) array of
    (fx, fy, cx, cy), one camera per frame.
    """
    fx, fy, cx, cy = _terms(camera)
    u, v, d = uvd[..., 0], uvd[..., 1], uvd[..., 2]
    return array_module(uvd).stack([(u - cx) * d / fx, (v - cy) * d / fy, d], axis=-1)


def xyz_to_uvd(xyz: Array, camera: Intrinsics | Array) -> Array:
    """Project camera-frame points to pixel coordinates with depth; z must be non-zero.

    Shapes as for :func:`uvd_to_xyz`.
    """
    fx, fy, cx, cy = _terms(camera)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    return array_module(xyz).stack([x * fx / z + cx, y * fy / z + cy, z], axis=-1)


def crop_intrinsics(camera: Intrinsics, centre_u: float, centre_v: float, side_px: float, size: int) -> Intrinsics:
    """The pinhole camera of a square crop: ``side_px`` frame pixels around (centre_u, centre_v), resampled
    to ``size`` x ``size`` (see :func:`crop_intrinsics_array`)."""
    if side_px <= 0 or size <= 0:
        raise HandgraphError(f"crop: side_px and size must be positive, got {side_px} and {size}")
    fx, fy, cx, cy = crop_intrinsics_array(
        np.array([camera.fx, camera.fy, camera.cx, camera.cy]), centre_u, centre_v, side_px, size
    ).tolist()
    return Intrinsics(fx=fx, fy=fy, cx=cx, cy=cy, width=size, height=size)


def crop_intrinsics_array(intrinsics: Array, centre_u, centre_v, side_px, size: int) -> Array:
    """Crop cameras as (..., 4) arrays (fx, fy, cx, cy), NumPy or torch, batched over the leading axes.

    Pixel centres are integers in both images and the crop centre maps to the middle of the crop, (size - 1)
    / 2, so that u_crop = (u - centre_u) * size / side_px + (size - 1) / 2: a crop of a pinhole camera is a
    pinhole camera, and uvd_to_xyz with it gives camera-frame points directly.
    """
    xp = array_module(intrinsics)
    scale = size / side_px
    middle = (size - 1) / 2
    fx, fy, cx, cy = (intrinsics[..., k] for k in range(4))
    return xp.stack(
        [fx * scale, fy * scale, (cx - centre_u) * scale + middle, (cy - centre_v) * scale + middle], axis=-1
    )


def cube_side_px(camera: Intrinsics, cube_mm: float, depth_mm: float) -> float:
    """How many frame pixels a cube of ``cube_mm`` spans at ``depth_mm`` (the larger of the two focal lengths)."""
    return cube_mm * max(abs(camera.fx), abs(camera.fy)) / depth_mm
