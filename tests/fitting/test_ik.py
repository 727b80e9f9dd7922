import numpy as np
import pytest
import torch
from fit_hands import random_hands
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.fitting import hand_model, ik
from handgraph.fitting.result import fit_layout_joints, mirrored_model
from handgraph.fitting.targets import canonical_targets
from handgraph.geometry.joint_map import canonical_to_layout
from handgraph.geometry.layouts import ICVL16, NYU14
from handgraph.geometry.numerics import ulps
from handgraph.geometry.skeleton import HAND


def _observable(x: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """(B, 20) angles that move some joint by at least 0.2 mm per degree, by central differences of the
    joints (independent of the fit's own Jacobian)."""
    step = np.radians(0.5)
    moves = []
    for angle in range(6, 26):
        plus, minus = x.clone(), x.clone()
        plus[:, angle] += step
        minus[:, angle] -= step
        change = hand_model.joints_of(plus, left) - hand_model.joints_of(minus, left)  # over one degree
        moves.append(change.norm(dim=-1).max(dim=1).values)
    return torch.stack(moves, dim=1) >= 0.2


@pytest.mark.parametrize("left", [0.0, 1.0])
def test_fit_recovers_hands_made_by_forward_kinematics(left):
    x = random_hands(300, seed=3)
    mirrored = torch.full((300,), left, dtype=torch.float64)
    joints = hand_model.joints_of(x, mirrored)
    solution = ik.fit_joints(joints, torch.ones(300, 21, dtype=torch.float64), mirrored)
    fitted = hand_model.joints_of(solution.x, mirrored)
    assert (fitted - joints).norm(dim=-1).max() < 1.0
    observable = _observable(x, mirrored)
    assert observable.float().mean() > 0.9  # the test is not vacuous
    error = (solution.x[:, 6:26] - x[:, 6:26]).abs().rad2deg()
    assert error[observable].max() < 1.0
    truth = x[:, 27:].exp()
    assert_close(solution.x[:, 27:].exp(), truth, 0.02 * truth)  # the fit's accuracy, not rounding: bones within 2 %


def test_fit_converges_from_a_perturbed_start():
    x = random_hands(200, seed=4)
    mirrored = torch.zeros(200, dtype=torch.float64)
    joints = hand_model.joints_of(x, mirrored)
    start = x.clone()
    generator = torch.Generator().manual_seed(0)
    start[:, 6:26] += 0.25 * torch.randn(200, 20, generator=generator, dtype=torch.float64)  # about 15 degrees
    start[:, :3] += 0.15 * torch.randn(200, 3, generator=generator, dtype=torch.float64)
    start[:, 3:6] += 15 * torch.randn(200, 3, generator=generator, dtype=torch.float64)
    assert (hand_model.joints_of(start, mirrored) - joints).norm(dim=-1).mean() > 10
    solution = ik.fit_joints(joints, torch.ones(200, 21, dtype=torch.float64), mirrored, start=start)
    error = (hand_model.joints_of(solution.x, mirrored) - joints).norm(dim=-1).max(dim=1).values
    assert (error < 1.0).float().mean() >= 0.98


def test_joints_beyond_a_limit_end_at_the_limit():
    x = random_hands(50, seed=5, limit_fraction=0.6)
    low, high = hand_model.parameter_bounds()
    x[:, 6 + 4 * 1 + 2] = high[6 + 4 + 2] + np.radians(25)  # index PIP bent 25 degrees past its limit
    x[:, 6 + 4 * 2 + 0] = low[6 + 8] - np.radians(20)  # middle MCP hyperextended 20 degrees past its limit
    mirrored = torch.zeros(50, dtype=torch.float64)
    solution = ik.fit_joints(hand_model.joints_of(x, mirrored), torch.ones(50, 21, dtype=torch.float64), mirrored)
    # clamped to the limit, then moved by float64 steps: ulps of angles below pi
    assert_close(solution.x[:, 12], high[12].expand(50), ulps(np.pi, torch.float64, 16))
    assert_close(solution.x[:, 14], low[14].expand(50), ulps(np.pi, torch.float64, 16))
    assert (
        (solution.x[:, 6:26] >= low[6:26] - ulps(np.pi, torch.float64, 16))
        & (solution.x[:, 6:26] <= high[6:26] + ulps(np.pi, torch.float64, 16))
    ).all()


def test_a_fit_is_a_valid_hand_even_for_noisy_joints():
    x = random_hands(100, seed=6)
    joints = hand_model.joints_of(x, torch.zeros(100, dtype=torch.float64)).numpy()
    noisy = joints + np.random.default_rng(0).normal(0, 8, joints.shape)
    fits = fit_layout_joints(noisy, HAND)
    low, high = hand_model.parameter_bounds()
    assert (
        (fits.x[:, 6:26] >= low[6:26] - ulps(np.pi, torch.float64, 16))
        & (fits.x[:, 6:26] <= high[6:26] + ulps(np.pi, torch.float64, 16))
    ).all()
    fitted = fits.canonical_xyz
    bones = np.linalg.norm(fitted[:, 1:] - fitted[:, list(HAND.parents)[1:]], axis=-1)
    expected = np.exp(fits.x[:, 27:].numpy()).reshape(100, 5, 3)
    chains = bones.reshape(100, 5, 4)[:, :, 1:]  # the three bones of every chain, after its root
    # lengths of differences of float64 joints within 700 mm of the camera
    assert_close(chains, expected, ulps(700.0, np.float64, 32))
    assert fits.residual_mm.mean() < np.linalg.norm(noisy - joints, axis=-1).mean()  # the fit removes noise


def test_a_sequence_has_one_shape():
    x = random_hands(1, seed=7).repeat(12, 1)
    x[:, 6:26] = random_hands(12, seed=8, limit_fraction=0.5)[:, 6:26]
    joints = hand_model.joints_of(x, torch.zeros(12, dtype=torch.float64)).numpy()
    noisy = joints + np.random.default_rng(1).normal(0, 3, joints.shape)
    fits = fit_layout_joints(noisy, HAND, sequence=True)
    assert torch.equal(fits.x[:, 26:], fits.x[:1, 26:].expand(12, -1))
    single = fit_layout_joints(noisy, HAND)
    assert (single.x[:, 26:] - single.x[:1, 26:]).abs().max() > 1e-3  # per frame: shapes differ by far more than ulps
    truth = np.exp(x[0, 27:].numpy())
    assert (
        np.abs(np.exp(fits.x[0, 27:].numpy()) - truth).mean() < np.abs(np.exp(single.x[:, 27:].numpy()) - truth).mean()
    )


def test_a_layout_with_fewer_joints_is_fitted_on_its_own():
    x = random_hands(40, seed=9, limit_fraction=0.5)
    mirrored = torch.zeros(40, dtype=torch.float64)
    canonical = hand_model.joints_of(x, mirrored).numpy()
    fits = fit_layout_joints(canonical_to_layout(canonical, NYU14), NYU14)
    twins = [own for own, _ in NYU14.canonical_pairs()]
    assert fits.residual_mm[:, twins].mean() < 1.0
    assert fits.xyz.shape == (40, 14, 3)


def test_mirroring_follows_the_hand_and_the_cameras_handedness():
    assert not mirrored_model(False, 500.0, 500.0) and mirrored_model(True, 500.0, 500.0)
    assert mirrored_model(False, 588.0, -587.0) and not mirrored_model(True, 588.0, -587.0)


def test_bad_joints_get_one_line_errors():
    good = np.zeros((2, 21, 3))
    nan = good.copy()
    nan[1, 4, 2] = np.nan
    with pytest.raises(HandgraphError, match=r"res.txt: frame 2, joint 5 \(thumb_tip\) is not a finite number"):
        canonical_targets(nan, HAND, "res.txt")
    with pytest.raises(HandgraphError, match=r"joints of shape \(2, 14, 3\); expected \(frames, 21, 3\)"):
        canonical_targets(np.zeros((2, 14, 3)), HAND)
    with pytest.raises(HandgraphError, match="the icvl16 layout has no wrist joint"):
        canonical_targets(np.zeros((2, 16, 3)), ICVL16)
