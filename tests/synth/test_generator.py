import dataclasses

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, xyz_to_uvd
from handgraph.geometry.kinematics import forward_kinematics
from handgraph.geometry.layouts import ICVL16, MSRA21, NYU14
from handgraph.geometry.numerics import summation_bound, ulps
from handgraph.synth.generator import SynthConfig, generate_frames
from handgraph.synth.sensor import SENSOR_PRESETS, sensor_preset

CLEAN = SynthConfig(preset="clean", background=False, size=96)


@pytest.fixture(scope="module")
def frames():
    return generate_frames(SynthConfig(size=96), seed=5, indices=range(24))


@pytest.fixture(scope="module")
def clean_frames():
    return generate_frames(CLEAN, seed=6, indices=range(24))


FAMILIES = dataclasses.replace(CLEAN, object_fraction=0.5, surface_fraction=0.6, egocentric_fraction=0.5)
"""Hands holding objects, resting on tables, seen by a head-mounted camera."""


@pytest.fixture(scope="module")
def family_frames():
    return generate_frames(FAMILIES, seed=8, indices=range(24))


def test_shapes_and_types(frames):
    assert frames["depth"].shape == (24, 96, 96) and frames["depth"].dtype == np.uint16
    assert frames["xyz"].shape == frames["uvd"].shape == (24, 21, 3)
    assert frames["visible"].dtype == bool and frames["pose"].shape == (24, 26)
    assert frames["nyu14_xyz"].shape == (24, 14, 3) and frames["icvl16_xyz"].shape == (24, 16, 3)
    np.testing.assert_array_equal(frames["index"], np.arange(24))  # integers
    assert 0.3 < frames["left"].mean() < 0.7


def test_same_seed_same_frames_whatever_the_batch(frames):
    again = generate_frames(SynthConfig(size=96), seed=5, indices=[7, 3])
    for key, value in frames.items():  # bitwise: the same computation, on this machine, per frame
        np.testing.assert_array_equal(again[key], value[[7, 3]], err_msg=key)
    other = generate_frames(SynthConfig(size=96), seed=6, indices=[7])
    assert not np.array_equal(other["xyz"], frames["xyz"][[7]])


def test_uvd_is_the_projection_of_xyz(frames):
    for index in range(3):
        fx, fy, cx, cy = frames["intrinsics"][index]
        expected = xyz_to_uvd(frames["xyz"][index].astype(np.float64), Intrinsics(fx, fy, cx, cy))
        # uvd is stored in float32 (half an ulp), projected from the float32 xyz in float64 here and there
        assert_close(frames["uvd"][index], expected, ulps(expected, np.float32, 2))


def test_pose_parameters_reproduce_the_joints(frames):
    shape = frames["shape"].astype(np.float64)
    lengths, offsets = shape[:, :15].reshape(-1, 5, 3), shape[:, 15:30].reshape(-1, 5, 3)
    joints = forward_kinematics(frames["pose"].astype(np.float64), lengths, offsets, frames["left"].astype(float))
    # the pose, bone lengths and offsets are stored in float32 (relative 6e-8): over a chain of 4 bones of
    # arm 250 mm each rounded angle moves a tip by 250 mm x 6e-8 per radian step; 64 ulps of the largest
    # coordinate covers the 26 parameters, the float32 xyz and the camera translation
    assert_close(joints, frames["xyz"], ulps(np.abs(joints).max(), np.float32, 64))


@pytest.mark.parametrize("which, share", [("clean_frames", (0.3, 0.95)), ("family_frames", (0.2, 0.9))])
def test_visible_joints_lie_just_behind_the_hand_surface(which, share, request):
    clean_frames = request.getfixturevalue(which)
    # With the clean sensor the stored depth is the exact surface: at a visible joint's pixel the surface lies
    # in front of the joint by at most its radius plus the tolerance, never behind it by more than rounding.
    depth = clean_frames["depth"] * 0.1
    radii = np.concatenate([np.full((24, 1), 30.0), clean_frames["shape"][:, 30:50]], axis=1)
    uvd, visible = clean_frames["uvd"], clean_frames["visible"]
    tips = [4, 8, 12, 16, 20]
    checked = 0
    for frame, joint in zip(*np.nonzero(visible), strict=True):
        if joint in tips:
            continue  # tips are judged at the centre of their cap
        u, v = np.rint(uvd[frame, joint, :2]).astype(int)
        surface = depth[frame, v, u]
        assert surface > 0
        assert uvd[frame, joint, 2] - radii[frame, joint] - 5.0 - 1e-3 <= surface <= uvd[frame, joint, 2] + 0.5
        checked += 1
    assert checked > 100
    assert share[0] < visible.mean() < share[1]


def test_held_objects_and_tables_are_labelled_and_hide_what_they_cover(family_frames):
    held, table = family_frames["held"] >= 0, family_frames["surface"]
    assert held.sum() >= 6 and table.sum() >= 3 and not (held & table).any()
    assert (family_frames["gesture"][held | table] == -1).all()
    again = generate_frames(FAMILIES, seed=8, indices=[9, 2])
    for key, value in family_frames.items():  # bitwise: the same computation, on this machine, per frame
        np.testing.assert_array_equal(again[key], value[[9, 2]], err_msg=key)
    # an object in front of a joint: the joint is hidden, and the surface at its pixel is nearer than the hand
    depth, uvd, visible = family_frames["depth"] * 0.1, family_frames["uvd"], family_frames["visible"]
    u, v = np.rint(uvd[..., 0]).astype(int).clip(0, 95), np.rint(uvd[..., 1]).astype(int).clip(0, 95)
    surface = depth[np.arange(24)[:, None], v, u]
    covered = (surface > 0) & (surface < uvd[..., 2] - 40.0)  # 40 mm in front of the joint: not its own finger
    assert covered[held].any() and not (visible & covered & held[:, None]).any()


def test_conventions_agree_with_the_canonical_joints(frames):
    for layout in (NYU14, ICVL16, MSRA21):
        points = frames[f"{layout.name}_xyz"]
        for own, canonical in layout.canonical_pairs():
            # the same joint stored twice in float32: at most a rounding apart
            assert_close(points[:, own], frames["xyz"][:, canonical], ulps(frames["xyz"][:, canonical], np.float32, 1))
    wrist, middle_mcp = frames["xyz"][:, 0], frames["xyz"][:, 9]
    palm = frames["nyu14_xyz"][:, NYU14.index("palm_centre")]
    # lengths of about 80 mm between float32 points at about 800 mm: the points' rounding, 2 ulps at 800 mm
    reach = np.linalg.norm(middle_mcp - wrist, axis=-1)
    assert_close(np.linalg.norm(palm - wrist, axis=-1), 0.9 * reach, ulps(np.abs(frames["xyz"]).max(), np.float32, 4))
    assert np.all(frames["icvl16_xyz"][:, 0, 2] > 0)


def test_crops_hold_the_hand_centre_in_the_middle(frames):
    fx, fy, cx, cy = frames["intrinsics"].T
    centre = frames["centre_xyz"]
    # the centre is stored in float32: its projection inherits 2 ulps of fx x / z, whose size is the offset cx
    assert_close(fx * centre[:, 0] / centre[:, 2] + cx, 47.5, ulps(np.abs(cx).max(), np.float32, 4))
    assert_close(fy * centre[:, 1] / centre[:, 2] + cy, 47.5, ulps(np.abs(cy).max(), np.float32, 4))
    # the mean of 21 float32 joints against the stored float32 centre: 21 terms summed, then rounded
    assert_close(centre, frames["xyz"].mean(axis=1), summation_bound(21, np.abs(centre).max(), np.float32))
    # the 250 mm cube spans the 96 pixels at the centre's depth (float32 depth: 2 ulps of 96)
    assert_close(fx * 250.0 / centre[:, 2], 96.0, ulps(96.0, np.float32, 2))


def test_centre_jitter_moves_the_crop_not_the_hand(frames):
    jittered = generate_frames(SynthConfig(size=96, centre_jitter_mm=10.0), seed=5, indices=range(24))
    np.testing.assert_array_equal(jittered["xyz"], frames["xyz"])
    offsets = jittered["centre_xyz"] - jittered["xyz"].mean(axis=1)
    assert 5.0 < offsets.std() < 15.0
    fx, _, cx, _ = jittered["intrinsics"].T
    centre = jittered["centre_xyz"]
    assert_close(fx * centre[:, 0] / centre[:, 2] + cx, 47.5, ulps(np.abs(cx).max(), np.float32, 4))  # as above


def test_full_frame_images():
    frame = generate_frames(dataclasses.replace(CLEAN, size=None), seed=1, indices=[0])
    assert frame["depth"].shape == (1, 480, 640)
    np.testing.assert_array_equal(frame["intrinsics"][0], [588.03, 587.07, 320.0, 240.0])  # the preset's floats


def test_clean_sensor_keeps_the_exact_depth_and_kinect_adds_distance_dependent_noise():
    plane = np.full((64, 64), 1000.0)
    plane[:, :32] = 600.0
    clean = sensor_preset("clean").apply(plane, np.random.default_rng(0)) * 0.1
    # 0.1 mm units: rounding to the nearest unit moves a depth by at most 0.05 mm (and float64's ulps)
    assert_close(clean, plane, 0.05 + ulps(1000.0, np.float64, 4))
    kinect = sensor_preset("kinect")
    readings = np.stack([kinect.apply(plane, np.random.default_rng(seed)) for seed in range(20)]).astype(float)
    far, near = readings[:, 4:-4, 40:60], readings[:, 4:-4, 4:24]
    far, near = far[far > 0], near[near > 0]
    assert abs(far.mean() - 1000.0) < 1.0 and abs(near.mean() - 600.0) < 1.0
    assert far.std() > 1.3 * near.std()  # noise grows with distance
    edge_column = readings[:, :, 31:33]
    assert (edge_column == 0).mean() > 0.15  # the depth jump loses pixels
    # and the near surface grows over the far side's first column (fattening 0.5, then dropout 0.25 there)
    grown = np.abs(readings[:, :, 32] - 600.0) < 10.0
    assert 0.25 < grown.mean() < 0.5
    assert (np.abs(readings[:, :, 33:] - 600.0) > 10.0).all()  # one pixel only


def test_sensor_range_and_units():
    depth = np.full((16, 16), 300.0)
    depth[:, 0], depth[:, 1], depth[:, 2] = 100.0, 5000.0, 0.0  # too near, too far, nothing
    reading = SENSOR_PRESETS["realsense"].apply(depth, np.random.default_rng(0))
    assert (reading[:, :3] == 0).all()
    interior = reading[2:-2, 6:-2].astype(float) * 0.125  # away from the edges that drop out
    assert abs(np.median(interior[interior > 0]) - 300.0) < 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"size": -5}, "size must be an integer from 8"),
        ({"preset": "kinect3"}, "unknown preset 'kinect3'"),
        ({"distance_mm": (800.0, 250.0)}, "distance_mm must satisfy"),
        ({"left_fraction": 1.5}, r"left_fraction must be within \[0.0, 1.0\]"),
        ({"cube_mm": 0.0}, "cube_mm must be within"),
    ],
)
def test_bad_configs_are_named(overrides, message):
    with pytest.raises(HandgraphError, match=message):
        SynthConfig(**overrides)


def test_background_probabilities_override_the_preset():
    config = SynthConfig(background_probabilities=(1.0, 0.0, 0.0))
    assert config.sensor.desk_probability == 1.0 and config.sensor.torso_probability == 0.0
    assert SynthConfig().sensor.desk_probability == 0.35
    with_plane = generate_frames(dataclasses.replace(config, size=48), seed=2, indices=range(4))
    bare = generate_frames(SynthConfig(size=48, background_probabilities=(0.0, 0.0, 0.0)), seed=2, indices=range(4))
    covered = (with_plane["depth"] > 0).mean(axis=(1, 2))
    assert (covered > 0.6).all() and (covered > (bare["depth"] > 0).mean(axis=(1, 2)) + 0.2).all()
    with pytest.raises(HandgraphError, match="needs three values"):
        SynthConfig(background_probabilities=(0.5, 0.5))


def test_config_round_trips_through_a_dict():
    config = SynthConfig(
        preset="realsense", size=64, distance_mm=(300.0, 500.0), background_probabilities=(0.1, 0.2, 0.3)
    )
    assert SynthConfig.from_dict(config.to_dict()) == config
    with pytest.raises(HandgraphError, match="unknown key 'colour'"):
        SynthConfig.from_dict({"colour": "blue"})
