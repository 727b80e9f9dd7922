import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from tolerance import assert_close

from handgraph.geometry.kinematics import POSE_DOF_NAMES, HandShape, chain_joints, forward_kinematics, hand_to_camera
from handgraph.geometry.numerics import ulps
from handgraph.geometry.rotations import axis_angle_to_matrix, rotation_x, rotation_y, rotation_z
from handgraph.synth.poses import GESTURES_DEG, sample_shape, sample_uniform_articulation


def _random_hands(count=8, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [sample_shape(rng) for _ in range(count)]
    articulation = np.radians(np.stack([sample_uniform_articulation(rng) for _ in range(count)]))
    lengths = np.concatenate([shape.bone_lengths for shape in shapes])
    offsets = np.concatenate([shape.root_offsets for shape in shapes])
    return articulation, lengths, offsets


def test_pose_has_26_degrees_of_freedom():
    assert len(POSE_DOF_NAMES) == 26


def test_forward_kinematics_keeps_bone_lengths_and_roots():
    articulation, lengths, offsets = _random_hands()
    joints = chain_joints(articulation, lengths, offsets)  # (B, 21, 3)
    chains = joints[:, 1:].reshape(-1, 5, 4, 3)
    # float64 chains of four rotations (each a few roundings) applied to points within 200 mm of the wrist
    assert_close(chains[:, :, 0], offsets, ulps(np.abs(offsets).max(), np.float64, 16))
    assert_close(np.linalg.norm(np.diff(chains, axis=2), axis=-1), lengths, ulps(200.0, np.float64, 32))
    np.testing.assert_array_equal(joints[:, 0], 0.0)


def test_positive_finger_abduction_turns_towards_the_thumb():
    shape = HandShape.average()
    straight = chain_joints(np.zeros((1, 5, 4)), shape.bone_lengths, shape.root_offsets)
    articulation = np.zeros((1, 5, 4))
    articulation[:, 1:, 1] = np.radians(10.0)
    turned = chain_joints(articulation, shape.bone_lengths, shape.root_offsets)
    tips = [8, 12, 16, 20]  # hand frame: +x is the thumb side
    assert (turned[0, tips, 0] > straight[0, tips, 0] + 5.0).all()


def test_open_hand_spreads_its_fingers_and_flat_hand_keeps_them_together():
    shape = HandShape.average(2)
    articulation = np.radians(np.stack([GESTURES_DEG["open"], GESTURES_DEG["flat"]]))
    joints = chain_joints(articulation, shape.bone_lengths, shape.root_offsets)
    span = lambda first, second: np.linalg.norm(joints[:, first] - joints[:, second], axis=-1)  # noqa: E731
    knuckles, tips = span(5, 17), span(8, 20)  # index to little, at the MCPs and at the tips
    assert tips[0] > 1.8 * knuckles[0]  # open: fingers fan out
    assert tips[1] < 1.45 * knuckles[1]  # flat: fingers side by side, only their rest splay


def test_camera_transform_is_rigid_and_mirrors_left_hands():
    articulation, lengths, offsets = _random_hands(4)
    joints = chain_joints(articulation, lengths, offsets)
    rotation = Rotation.random(4, random_state=1).as_matrix()
    translation = np.array([[10.0, -20.0, 500.0]] * 4)
    right = hand_to_camera(joints, rotation, translation, np.zeros(4))
    left = hand_to_camera(joints, rotation, translation, np.ones(4))
    pairwise = lambda points: np.linalg.norm(points[:, :, None] - points[:, None], axis=-1)  # noqa: E731
    # a rotation and a 500 mm translation in float64: a few roundings of coordinates up to 700 mm
    assert_close(pairwise(right), pairwise(joints), ulps(700.0, np.float64, 32))
    assert_close(pairwise(left), pairwise(joints), ulps(700.0, np.float64, 32))
    mirrored = joints * np.array([-1.0, 1.0, 1.0])
    assert_close(left, mirrored @ rotation.transpose(0, 2, 1) + translation[:, None], ulps(700.0, np.float64, 16))


def test_flexion_curls_fingers_towards_the_palm():
    shape = HandShape.average(1)
    articulation = np.zeros((1, 5, 4))
    articulation[0, 1:, 0] = np.radians(90)  # MCP flexion of the four fingers
    joints = chain_joints(articulation, shape.bone_lengths, shape.root_offsets)
    assert (joints[0, [6, 10, 14, 18], 2] > joints[0, [5, 9, 13, 17], 2] + 30).all()  # +z is palmar


def test_numpy_and_torch_agree_and_torch_is_differentiable():
    articulation, lengths, offsets = _random_hands(3)
    pose = np.concatenate(
        [np.random.default_rng(2).normal(size=(3, 3)), [[0, 0, 400.0]] * 3, articulation.reshape(3, 20)], 1
    )
    expected = forward_kinematics(pose, lengths, offsets, np.array([0.0, 1.0, 0.0]))
    tensors = [torch.tensor(value, requires_grad=True) for value in (pose, lengths, offsets)]
    joints = forward_kinematics(*tensors, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    # torch's and NumPy's sin, cos and matrix products (each within an ulp or two, other kernels) through 5
    # chained rotations, at coordinates up to 600 mm
    assert_close(joints.detach().numpy(), expected, ulps(600.0, np.float64, 128))
    joints.square().sum().backward()
    for tensor in tensors:
        assert torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0


def test_rotations_match_scipy_and_have_finite_gradients_at_zero():
    vectors = np.random.default_rng(3).normal(size=(6, 3))
    # entries within [-1, 1] from other formulas (Rodrigues' against scipy's quaternions): a few float64 ulps
    assert_close(axis_angle_to_matrix(vectors), Rotation.from_rotvec(vectors).as_matrix(), ulps(1.0, np.float64, 16))
    for function, axis in ((rotation_x, "x"), (rotation_y, "y"), (rotation_z, "z")):
        assert_close(function(np.array(0.7)), Rotation.from_euler(axis, 0.7).as_matrix(), ulps(1.0, np.float64, 16))
    zero = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    axis_angle_to_matrix(zero)[0, 1].backward()
    assert torch.isfinite(zero.grad).all()


@pytest.mark.parametrize("count", [1, 5])
def test_average_shape_vector(count):
    assert HandShape.average(count).vector().shape == (count, 53)
