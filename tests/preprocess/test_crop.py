import dataclasses

import numpy as np
import torch
from tolerance import assert_close

from handgraph.geometry.camera import camera_preset, uvd_to_xyz, xyz_to_uvd
from handgraph.geometry.numerics import ulps
from handgraph.preprocess.crop import (
    crop_depth,
    crop_uvd_to_xyz,
    intrinsics_tensor,
    make_crops,
    normalize_depth,
    normalized_to_uvd,
    uvd_to_normalized,
)
from handgraph.synth.generator import SynthConfig, generate_frames


def test_normalised_coordinates_round_trip_and_span_the_crop():
    crop = torch.tensor([[200.0, 200.0, 40.0, 60.0, 500.0, 250.0]])
    uvd = torch.tensor([[[0.0, 0.0, 375.0], [127.0, 63.5, 625.0], [31.2, 90.1, 512.5]]])
    normalized = uvd_to_normalized(uvd, crop, 128)
    # float32 maps to [-1, 1] and back: a few ulps of 1, and of each coordinate's largest value
    assert_close(normalized[0, 0], torch.tensor([-1 + 1 / 128, -1 + 1 / 128, -1.0]), ulps(1.0, torch.float32, 4))
    assert_close(normalized[0, 1, 2], torch.tensor(1.0), ulps(1.0, torch.float32, 4))
    assert_close(normalized_to_uvd(normalized, crop, 128), uvd, ulps(uvd.abs().amax(dim=1), torch.float32, 8))


def test_crop_to_xyz_to_frame_is_the_inverse_of_cropping():
    camera = camera_preset("nyu")  # negative fy: y up
    frame = intrinsics_tensor(camera, dtype=torch.float64)
    centre = torch.tensor([[-120.0, 30.0, 760.0]], dtype=torch.float64)
    crop = make_crops(frame, centre, 250.0, 128)
    uvd_crop = torch.tensor([[[63.5, 63.5, 760.0], [10.0, 100.0, 700.0]]], dtype=torch.float64)
    xyz = crop_uvd_to_xyz(uvd_crop, crop)
    assert_close(xyz[0, 0], centre[0], ulps(760.0, torch.float64, 8))  # the crop's middle looks at the centre
    uvd_frame = xyz_to_uvd(xyz[0].numpy(), camera)
    # the same point, mapped from frame pixels back into the crop by its affine pixel map
    fx, fy, cx, cy = crop[0, :4].numpy()
    back_u = (uvd_frame[:, 0] - camera.cx) * fx / camera.fx + cx
    back_v = (uvd_frame[:, 1] - camera.cy) * fy / camera.fy + cy
    # float64 throughout: a few roundings of frame pixels (up to 640) and of mm (up to 800)
    assert_close(np.stack([back_u, back_v], -1), uvd_crop[0, :, :2].numpy(), ulps(640.0, np.float64, 16))
    assert_close(uvd_to_xyz(uvd_frame, camera), xyz[0].numpy(), ulps(800.0, np.float64, 16))
    focal = camera.fx * 128 / (250.0 * camera.fx / 760.0)
    assert_close(crop[0, 0], focal, ulps(focal, np.float64, 8))


def test_cropping_a_full_frame_matches_rendering_the_crop():
    # The generator can render the same hand as a full frame or directly as a crop: resampling the frame
    # with crop_depth must give (nearly, up to nearest-neighbour sampling) the directly rendered crop.
    base = SynthConfig(preset="clean", background=False)
    full = generate_frames(dataclasses.replace(base, size=None), seed=3, indices=[0, 1])
    cropped = generate_frames(dataclasses.replace(base, size=96), seed=3, indices=[0, 1])
    frame = intrinsics_tensor(base.sensor.camera, count=2, dtype=torch.float64)
    centre = torch.from_numpy(cropped["centre_xyz"]).double()
    crop = make_crops(frame, centre, 250.0, 96)
    # made here from the float32 centre the generator stores, there from its float64 centre: ulps of float32
    assert_close(crop[:, :4], cropped["intrinsics"], ulps(np.abs(cropped["intrinsics"]).max(), np.float32, 16))
    resampled = crop_depth(torch.from_numpy(full["depth"] * 0.1).double(), frame, crop, 96)[:, 0].numpy()
    direct = cropped["depth"] * 0.1
    both = (resampled > 0) & (direct > 0)
    assert both.sum() / max((direct > 0).sum(), 1) > 0.85
    assert np.median(np.abs(resampled - direct)[both]) < 1.0


def test_normalize_depth_sends_missing_and_outside_the_cube_to_far():
    crop = torch.tensor([[100.0, 100.0, 1.5, 1.5, 500.0, 200.0]])
    depth = torch.tensor([[[[0.0, 450.0], [700.0, 350.0]]]])
    assert torch.equal(normalize_depth(depth, crop), torch.tensor([[[[1.0, -0.5], [1.0, 1.0]]]]))  # (450 - 500) / 100
