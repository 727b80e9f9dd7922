import numpy as np
import pytest
import torch
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import CAMERA_PRESETS, Intrinsics, camera_preset, uvd_to_xyz, xyz_to_uvd
from handgraph.geometry.numerics import ulps


def test_presets_are_the_community_kit_values():
    assert camera_preset("nyu") == Intrinsics(588.03, -587.07, 320, 240, 640, 480)
    assert camera_preset("icvl") == Intrinsics(240.99, 240.96, 160, 120, 320, 240)
    assert camera_preset("msra") == Intrinsics(241.42, 241.42, 160, 120, 320, 240)
    assert camera_preset("hands2017") == Intrinsics(475.065948, 475.065857, 315.944855, 245.287079, 640, 480)


def test_uvd_to_xyz_by_hand():
    camera = Intrinsics(fx=500.0, fy=-400.0, cx=100.0, cy=50.0)
    xyz = uvd_to_xyz(np.array([150.0, 90.0, 1000.0]), camera)
    np.testing.assert_array_equal(xyz, [100.0, -100.0, 1000.0])  # 50 * 1000 / 500: exact in binary


@pytest.mark.parametrize("name", list(CAMERA_PRESETS))
def test_round_trip_numpy_batched(name):
    camera = camera_preset(name)
    rng = np.random.default_rng(0)
    uvd = np.stack([rng.uniform(0, 640, (4, 21)), rng.uniform(0, 480, (4, 21)), rng.uniform(200, 1500, (4, 21))], -1)
    xyz = uvd_to_xyz(uvd, camera)
    assert xyz.shape == (4, 21, 3) and isinstance(xyz, np.ndarray)
    # float64 there and back: a few roundings of each coordinate's scale (pixels up to 640, mm up to 1500)
    assert_close(xyz_to_uvd(xyz, camera), uvd, ulps(np.array([640.0, 640.0, 1500.0]), np.float64, 8))


def test_round_trip_torch_with_gradients():
    camera = camera_preset("nyu")
    uvd = torch.tensor([[[320.0, 240.0, 500.0], [100.0, 400.0, 900.0]]], dtype=torch.float64, requires_grad=True)
    xyz = uvd_to_xyz(uvd, camera)
    assert isinstance(xyz, torch.Tensor) and xyz.shape == (1, 2, 3)
    assert_close(xyz_to_uvd(xyz, camera), uvd, ulps(np.array([640.0, 640.0, 900.0]), np.float64, 8))  # as above
    xyz.sum().backward()
    assert torch.isfinite(uvd.grad).all() and uvd.grad.abs().sum() > 0


def test_torch_and_numpy_agree():
    camera = camera_preset("icvl")
    uvd = np.array([[12.5, 200.0, 321.0], [300.0, 10.0, 800.0]])
    expected = uvd_to_xyz(uvd, camera)  # the same float64 formula in either module: ulps of the coordinates
    assert_close(uvd_to_xyz(torch.from_numpy(uvd), camera), expected, ulps(np.abs(expected).max(), np.float64, 4))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fx": 0.0}, "non-zero"),
        ({"fy": float("nan")}, "fy must be a finite number"),
        ({"cx": "320"}, "cx must be a finite number"),
        ({"width": -5}, "width must be a positive integer"),
    ],
)
def test_bad_intrinsics_are_named(fields, message):
    values = {"fx": 500.0, "fy": 500.0, "cx": 320.0, "cy": 240.0} | fields
    with pytest.raises(HandgraphError, match=message):
        Intrinsics(**values)


def test_unknown_preset():
    with pytest.raises(HandgraphError, match="unknown camera preset 'kinect'; known: nyu, icvl"):
        camera_preset("kinect")
