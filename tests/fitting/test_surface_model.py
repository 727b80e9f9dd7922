import numpy as np
import torch
from fit_hands import random_hands
from tolerance import assert_close

from handgraph.fitting import hand_model
from handgraph.fitting.surface_model import fitted_cones
from handgraph.geometry.kinematics import HandShape, chain_joints
from handgraph.geometry.numerics import ulps
from handgraph.synth.surface import hand_cones, round_cone_distance


def _swept_balls_distance(points, start, end, start_radius, end_radius, steps=4001):
    """A round cone is the union of the balls along its axis: its distance outside is the smallest over a fine
    sweep of |p - c(s)| - r(s). Slow and obviously right."""
    s = np.linspace(0.0, 1.0, steps)
    centres = start + s[:, None] * (end - start)
    radii = start_radius + s * (end_radius - start_radius)
    return (np.linalg.norm(points[:, None] - centres[None], axis=-1) - radii[None]).min(axis=1)


def test_round_cone_distance_is_the_swept_balls_distance():
    rng = np.random.default_rng(0)
    for _ in range(20):
        start, end = rng.normal(0, 30, 3), rng.normal(0, 30, 3)
        start_radius, end_radius = rng.uniform(3, 15, 2)
        points = rng.normal(0, 50, (300, 3))
        reference = _swept_balls_distance(points, start, end, start_radius, end_radius)
        outside = reference > 0
        fast = round_cone_distance(
            torch.as_tensor(points), *(torch.as_tensor(v)[None] for v in (start, end, start_radius, end_radius))
        )[:, 0].numpy()
        # not rounding: the sweep samples the axis every 1/4000 of its length, and |p - c(s)| - r(s) changes
        # by at most |end - start| + |r1 - r0| per unit of s, so the sampled minimum is at most half a step of
        # that above the true one; float64 rounding of coordinates within 300 mm adds ulps
        sweep = (np.linalg.norm(end - start) + abs(end_radius - start_radius)) / (2 * 4000)
        assert_close(fast[outside], reference[outside], sweep + ulps(300.0, np.float64, 64))
        # the sweep's minimum is never below the true distance: inside for it is inside, up to float64 ulps
        assert (fast[~outside] <= ulps(300.0, np.float64, 64)).all()
        # the same function on NumPy arrays (the generator's grasps call it so): the same float64 formula,
        # whose square roots and powers may round apart by ulps of the 300 mm compared
        on_arrays = round_cone_distance(points, *(np.asarray(v)[None] for v in (start, end, start_radius, end_radius)))
        assert_close(on_arrays[:, 0], fast, ulps(300.0, np.float64, 64))


def test_fitted_cones_are_the_generators_cones():
    x = random_hands(4, seed=10)
    left = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    start, end, start_radius, end_radius = fitted_cones(x, left)
    scale = np.exp(x[:, 26].numpy())
    shape = HandShape.average(4)
    shape.bone_lengths = np.exp(x[:, 27:].numpy()).reshape(4, 5, 3)
    shape.root_offsets = shape.root_offsets * scale[:, None, None]
    shape.joint_radii = shape.joint_radii * scale[:, None, None]
    shape.scale, shape.forearm_length = scale, np.zeros(4)
    joints = chain_joints(x[:, 6:26].numpy().reshape(4, 5, 4), shape.bone_lengths, shape.root_offsets)
    rotation = hand_model.rotation_matrix(x).numpy()
    cones = hand_cones(joints, shape, rotation, x[:, 3:6].numpy(), left.numpy())
    # two float64 implementations (torch for fitting, NumPy for rendering) of rotations and chains: ulps of
    # coordinates up to 700 mm, of radii up to 30 mm
    coordinates = ulps(700.0, np.float64, 128)
    assert_close(start.numpy(), cones.start.reshape(4, 26, 3)[:, :24], coordinates)
    assert_close(end.numpy(), cones.end.reshape(4, 26, 3)[:, :24], coordinates)
    assert_close(start_radius.numpy(), cones.start_radius.reshape(4, 26)[:, :24], ulps(30.0, np.float64, 16))
    assert_close(end_radius.numpy(), cones.end_radius.reshape(4, 26)[:, :24], ulps(30.0, np.float64, 16))
