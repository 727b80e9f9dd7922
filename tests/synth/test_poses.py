import numpy as np
import pytest
from tolerance import assert_close

from handgraph.geometry import anatomy
from handgraph.geometry.numerics import ulps
from handgraph.synth.poses import (
    GESTURES_DEG,
    PALM_VIEW,
    sample_egocentric_rotation,
    sample_gesture_articulation,
    sample_shape,
    sample_uniform_articulation,
    sample_view_rotation,
)

LOW, HIGH = anatomy.JOINT_LIMITS_DEG[..., 0], anatomy.JOINT_LIMITS_DEG[..., 1]


def test_uniform_poses_respect_the_limits_and_couple_dip_to_pip():
    rng = np.random.default_rng(0)
    poses = np.stack([sample_uniform_articulation(rng) for _ in range(2000)])
    assert ((poses >= LOW) & (poses <= HIGH)).all()
    # every articulation is spread over most of its range
    spread = (poses.max(0) - poses.min(0)) / (HIGH - LOW)
    assert (spread[:, :3] > 0.9).all()
    pip, dip = poses[:, 1:, 2].ravel(), poses[:, 1:, 3].ravel()
    assert np.corrcoef(pip, dip)[0, 1] > 0.9


def test_gestures_lie_within_the_limits_with_and_without_noise():
    for name, angles in GESTURES_DEG.items():
        assert angles.shape == (5, 4) and ((angles >= LOW) & (angles <= HIGH)).all(), name
    rng = np.random.default_rng(1)
    for _ in range(300):
        name, angles = sample_gesture_articulation(rng, noise_deg=15.0)
        assert name in GESTURES_DEG and ((angles >= LOW) & (angles <= HIGH)).all()


def test_shapes_stay_in_their_ranges():
    rng = np.random.default_rng(2)
    shapes = [sample_shape(rng) for _ in range(500)]
    scales = np.array([shape.scale[0] for shape in shapes])
    assert scales.min() >= 0.8 and scales.max() <= 1.2
    factors = np.stack([shape.bone_lengths[0] / (anatomy.BONE_LENGTHS_MM * shape.scale[0]) for shape in shapes])
    assert factors.min() >= 0.9 - 1e-12 and factors.max() <= 1.1 + 1e-12


@pytest.mark.parametrize("cone_deg", [0.0, 30.0, 100.0, 180.0])
def test_views_are_rotations_within_the_cone(cone_deg):
    rng = np.random.default_rng(3)
    for _ in range(200):
        rotation = sample_view_rotation(rng, cone_deg, back_fraction=0.0, roll_deg=180.0)
        # products of a few float64 rotations: orthonormal to a few ulps of 1
        assert_close(rotation @ rotation.T, np.eye(3), ulps(1.0, np.float64, 16))
        assert_close(np.linalg.det(rotation), 1.0, ulps(1.0, np.float64, 16))
        palm_normal = rotation @ np.array([0.0, 0.0, 1.0])  # hand +z is palmar; the palm view faces -z_camera
        angle = np.degrees(np.arccos(np.clip(-palm_normal[2], -1, 1)))
        assert angle <= cone_deg + 1e-6


def test_zero_cone_and_roll_give_the_palm_view_or_the_back_view():
    rng = np.random.default_rng(4)
    assert_close(sample_view_rotation(rng, 0.0, 0.0, 0.0), PALM_VIEW, ulps(1.0, np.float64, 16))  # as above
    back = sample_view_rotation(rng, 0.0, 1.0, 0.0)
    assert_close((back @ np.array([0.0, 0.0, 1.0]))[2], 1.0, ulps(1.0, np.float64, 16))  # palm turned away


def test_an_egocentric_hand_points_away_from_its_wearer_and_up_the_image():
    """A camera at the eyes looks down at the hand: fingers level or drooping point away from the camera and,
    mostly, up the image, away from the forearm that runs down it to the elbow below the camera. (The first
    version drew the fingers' image direction down, over their own forearm, in every draw.)"""
    rng = np.random.default_rng(5)
    rotations = np.stack([sample_egocentric_rotation(rng, side) for side in [1.0, -1.0] * 200])
    fingers, palm = rotations[:, :, 1], rotations[:, :, 2]  # the hand frame's y and z axes in the camera's
    assert (fingers[:, 2] > 0.0).all(), "no finger points at the wearer's eyes"
    assert np.mean(fingers[:, 1] < 0.0) > 0.6, "most fingers point up the image (level ones always do)"
    np.testing.assert_allclose(np.einsum("ni,ni->n", fingers, palm), 0.0, atol=1e-12)  # float64 unit vectors
