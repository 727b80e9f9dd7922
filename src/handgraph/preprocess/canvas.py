"""The hand localiser's view of a frame: any camera's depth frame resampled to one fixed pinhole camera.

A canvas is a small image whose camera has focal length ``focal_px`` on both axes and its principal point in
the middle. Frame and canvas share the optical centre and axes, so canvas pixel (u', v') sees the ray of frame
pixel

    u = cx + |fx| / f' (u' - cx'),    v = cy + |fy| / f' (v' - cy')

whatever the frame's resolution: a hand 600 mm away spans the same canvas pixels on a Kinect, a RealSense or
an ICVL frame. Focal lengths enter by their size only (NYU's negative fy makes its world y point up; its
pixels still run down the image). Frame pixels outside the canvas's field of view are dropped, canvas pixels
outside the frame's read 0 (no measurement), and so do depths outside [near_mm, far_mm]. Sampling is nearest
neighbour: depth must not be blended across a hand's outline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics


@dataclass(frozen=True)
class Canvas:
    """The localiser's input camera and depth range."""

    focal_px: float = 96.0
    """Focal length of the canvas camera: a 180 mm hand 600 mm away spans about 29 pixels."""
    width: int = 128
    """Canvas width: SR300/SR305 (68 degrees) and ICVL frames fit whole, a Kinect v2's (70) nearly."""
    height: int = 112
    """Canvas height; width and height are multiples of 16 for the network's strides."""
    near_mm: float = 150.0
    """Depths nearer than this read 0: nearer than any depth camera's working range."""
    far_mm: float = 4500.0
    """Depths farther than this read 0 (a frame of 65,535 everywhere has nothing to look at)."""

    def __post_init__(self) -> None:
        sizes = (self.width, self.height)
        if not (self.focal_px > 0 and all(size > 0 and size % 16 == 0 for size in sizes)):
            raise HandgraphError(
                f"canvas: focal_px must be positive and width, height positive multiples of 16, got {self}"
            )
        if not 0 <= self.near_mm < self.far_mm:
            raise HandgraphError(f"canvas: need 0 <= near_mm < far_mm, got {self.near_mm}, {self.far_mm}")

    @property
    def camera(self) -> Intrinsics:
        """The canvas's pinhole camera, y down."""
        return Intrinsics(
            self.focal_px, self.focal_px, (self.width - 1) / 2, (self.height - 1) / 2, self.width, self.height
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Canvas:
        from handgraph.io.configs import override

        return override(cls(), values)


def canvas_to_frame_uv(uv: np.ndarray, camera: Intrinsics, canvas: Canvas) -> np.ndarray:
    """Canvas pixel coordinates (..., 2) to the frame's pixel coordinates (..., 2)."""
    middle = np.array([(canvas.width - 1) / 2, (canvas.height - 1) / 2])
    scale = np.array([abs(camera.fx), abs(camera.fy)]) / canvas.focal_px
    return (np.asarray(uv, dtype=np.float64) - middle) * scale + [camera.cx, camera.cy]


def frame_to_canvas_uv(uv: np.ndarray, camera: Intrinsics, canvas: Canvas) -> np.ndarray:
    """Frame pixel coordinates (..., 2) to canvas pixel coordinates (..., 2): the inverse of the above."""
    middle = np.array([(canvas.width - 1) / 2, (canvas.height - 1) / 2])
    scale = canvas.focal_px / np.array([abs(camera.fx), abs(camera.fy)])
    return (np.asarray(uv, dtype=np.float64) - [camera.cx, camera.cy]) * scale + middle


def sampling_indices(camera: Intrinsics, frame_shape: tuple[int, int], canvas: Canvas) -> np.ndarray:
    """For every canvas pixel the flat index of the frame pixel it samples, -1 outside the frame. (H', W')."""
    height, width = frame_shape
    columns = np.arange(canvas.width, dtype=np.float64)
    rows = np.arange(canvas.height, dtype=np.float64)
    u = np.rint(canvas_to_frame_uv(np.stack([columns, np.zeros_like(columns)], -1), camera, canvas)[:, 0])
    v = np.rint(canvas_to_frame_uv(np.stack([np.zeros_like(rows), rows], -1), camera, canvas)[:, 1])
    inside = ((v >= 0) & (v < height))[:, None] & ((u >= 0) & (u < width))[None, :]
    flat = v[:, None].astype(np.int64) * width + u[None, :].astype(np.int64)
    return np.where(inside, flat, -1)


def frame_to_canvas(
    depth_mm: np.ndarray, camera: Intrinsics, canvas: Canvas, indices: np.ndarray | None = None
) -> np.ndarray:
    """Resample one (H, W) depth frame in mm to the (H', W') float32 canvas, 0 where nothing is measured.

    ``indices`` from :func:`sampling_indices` can be passed to skip recomputing them for every frame of one
    camera."""
    if depth_mm.ndim != 2:
        raise HandgraphError(f"expected a 2D depth frame, got shape {depth_mm.shape}")
    if indices is None:
        indices = sampling_indices(camera, depth_mm.shape, canvas)
    sampled = depth_mm.reshape(-1)[np.maximum(indices, 0)].astype(np.float32)
    keep = (indices >= 0) & (sampled >= canvas.near_mm) & (sampled <= canvas.far_mm)  # NaN fails both tests
    return np.where(keep, sampled, np.float32(0.0))
