import torch
from fit_hands import random_hands

from handgraph.fitting import hand_model
from handgraph.synth import anatomy
from handgraph.synth.kinematics import forward_kinematics


def test_joints_are_the_generators_forward_kinematics():
    x = random_hands(6, seed=0)
    left = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    bones = torch.exp(x[:, hand_model.LOG_BONES]).reshape(-1, 5, 3)
    roots = torch.exp(x[:, hand_model.LOG_SCALE])[:, None, None] * torch.as_tensor(anatomy.ROOT_OFFSETS_MM)
    expected = forward_kinematics(x[:, :26], bones, roots, left)
    joints, _ = hand_model.joints_and_jacobian(x, left)
    assert torch.allclose(joints, expected, atol=1e-9)
    assert torch.allclose(hand_model.joints_of(x, left), expected, atol=1e-9)


def test_the_analytic_jacobian_is_autograds():
    x = random_hands(5, seed=1)
    left = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    _, jacobian = hand_model.joints_and_jacobian(x, left)
    for b in range(len(x)):

        def moved(step, b=b):
            return hand_model.joints_of(hand_model.retract(x[b : b + 1], step[None]), left[b : b + 1])[0]

        reference = torch.autograd.functional.jacobian(moved, torch.zeros(42, dtype=torch.float64))  # (21, 3, 42)
        assert torch.allclose(jacobian[b], reference, atol=1e-8), (jacobian[b] - reference).abs().max()


def test_retract_turns_on_the_left_and_adds_the_rest():
    x = random_hands(3, seed=2)
    step = 0.1 * torch.randn(3, 42, dtype=torch.float64)
    moved = hand_model.retract(x, step)
    expected = hand_model.rotation_matrix(step) @ hand_model.rotation_matrix(x)
    assert torch.allclose(hand_model.rotation_matrix(moved), expected, atol=1e-12)
    assert torch.allclose(moved[:, 3:], x[:, 3:] + step[:, 3:])
