import dataclasses

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, camera_preset
from handgraph.geometry.numerics import ulps
from handgraph.preprocess.canvas import Canvas, canvas_to_frame_uv, frame_to_canvas, frame_to_canvas_uv

CANVAS = Canvas(focal_px=40.0, width=48, height=32)


def _reference(depth: np.ndarray, camera: Intrinsics, canvas: Canvas) -> np.ndarray:
    """Pixel by pixel: the canvas pixel's ray, the frame pixel it passes through, the nearest one's depth."""
    out = np.zeros((canvas.height, canvas.width), dtype=np.float32)
    for row in range(canvas.height):
        for column in range(canvas.width):
            x = (column - (canvas.width - 1) / 2) / canvas.focal_px  # x / z of the ray
            y = (row - (canvas.height - 1) / 2) / canvas.focal_px
            u, v = round(camera.cx + abs(camera.fx) * x), round(camera.cy + abs(camera.fy) * y)
            if 0 <= u < depth.shape[1] and 0 <= v < depth.shape[0]:
                value = depth[v, u]
                out[row, column] = value if canvas.near_mm <= value <= canvas.far_mm else 0.0
    return out


def test_resampling_equals_a_pixel_by_pixel_reference():
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.0, 6000.0, (120, 160))  # some beyond far_mm, some nearer than near_mm
    camera = Intrinsics(fx=150.0, fy=140.0, cx=82.0, cy=57.0, width=160, height=120)
    # bitwise on any processor: the sample positions come from IEEE-754 basic operations, the values are copied
    np.testing.assert_array_equal(frame_to_canvas(depth, camera, CANVAS), _reference(depth, camera, CANVAS))
    assert (frame_to_canvas(depth, camera, CANVAS) == 0).any()


def test_focal_length_signs_do_not_flip_the_image():
    # NYU's negative fy makes its world y point up; the frame's pixels still run down the image.
    depth = np.random.default_rng(1).uniform(500.0, 900.0, (480, 640))
    nyu = camera_preset("nyu")
    flipped = frame_to_canvas(depth, nyu, CANVAS)
    upright = frame_to_canvas(depth, dataclasses.replace(nyu, fy=-nyu.fy), CANVAS)
    np.testing.assert_array_equal(flipped, upright)


def test_pixel_maps_are_inverse():
    camera = camera_preset("nyu")
    uv = np.random.default_rng(2).uniform(0, 600, (10, 2))
    back = canvas_to_frame_uv(frame_to_canvas_uv(uv, camera, CANVAS), camera, CANVAS)
    assert_close(back, uv, ulps(640.0, np.float64, 16))  # float64 there and back: ulps of the frame's pixels


def test_bad_canvas_and_frames():
    with pytest.raises(HandgraphError, match="multiples of 16"):
        Canvas(width=100)
    with pytest.raises(HandgraphError, match="2D depth frame"):
        frame_to_canvas(np.zeros((2, 4, 4)), camera_preset("nyu"), CANVAS)
    everything_far = np.full((480, 640), 65535.0)
    assert not frame_to_canvas(everything_far, camera_preset("nyu"), Canvas()).any()
    nan = np.full((480, 640), np.nan)
    assert not frame_to_canvas(nan, camera_preset("nyu"), Canvas()).any()
