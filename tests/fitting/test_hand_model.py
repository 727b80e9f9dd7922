import torch
from fit_hands import random_hands
from tolerance import assert_close

from handgraph.fitting import hand_model
from handgraph.geometry import anatomy
from handgraph.geometry.kinematics import forward_kinematics
from handgraph.geometry.numerics import ulps


def test_joints_are_the_generators_forward_kinematics():
    x = random_hands(6, seed=0)
    left = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    bones = torch.exp(x[:, hand_model.LOG_BONES]).reshape(-1, 5, 3)
    roots = torch.exp(x[:, hand_model.LOG_SCALE])[:, None, None] * torch.as_tensor(anatomy.ROOT_OFFSETS_MM)
    expected = forward_kinematics(x[:, :26], bones, roots, left)
    joints, _ = hand_model.joints_and_jacobian(x, left)
    # other float64 implementations of the same chains: ulps of coordinates up to 700 mm
    assert_close(joints, expected, ulps(700.0, torch.float64, 128))
    assert_close(hand_model.joints_of(x, left), expected, ulps(700.0, torch.float64, 128))


def test_the_analytic_jacobian_is_autograds():
    x = random_hands(5, seed=1)
    left = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    _, jacobian = hand_model.joints_and_jacobian(x, left)
    for b in range(len(x)):

        def moved(step, b=b):
            return hand_model.joints_of(hand_model.retract(x[b : b + 1], step[None]), left[b : b + 1])[0]

        reference = torch.autograd.functional.jacobian(moved, torch.zeros(42, dtype=torch.float64))  # (21, 3, 42)
        # the same derivatives through other float64 products: ulps of the largest entry (mm per radian)
        assert_close(jacobian[b], reference, ulps(reference.abs().max(), torch.float64, 256), f"hand {b}")


def test_retract_turns_on_the_left_and_adds_the_rest():
    x = random_hands(3, seed=2)
    step = 0.1 * torch.randn(3, 42, dtype=torch.float64)
    moved = hand_model.retract(x, step)
    expected = hand_model.rotation_matrix(step) @ hand_model.rotation_matrix(x)
    # rotation entries within [-1, 1], composed in another order: a few float64 ulps of 1
    assert_close(hand_model.rotation_matrix(moved), expected, ulps(1.0, torch.float64, 16))
    assert torch.equal(moved[:, 3:], x[:, 3:] + step[:, 3:])  # the same additions: bitwise
