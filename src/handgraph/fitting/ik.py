"""Inverse kinematics: the kinematic hand (pose within the joint limits, and shape) that best explains joints.

For B hands with observed canonical joints o_k and weights w_k (0 where a layout has no such joint), the fit
minimises over x (``hand_model``)

    sum_k w_k |p_k(x) - o_k|^2  +  sum_angles (W_POSE theta)^2  +  sum_bones (W_BONE log(L_b / (s Lbar_b)))^2
    + (W_SCALE log s)^2,   theta within anatomy.JOINT_LIMITS_DEG

with Levenberg-Marquardt (``solver``), started from an analytic guess: the palm's rotation, position and scale
from wrist and knuckles by a scaled Procrustes fit (Umeyama 1991), then each chain's angles read off its bones
in the chain's rest frame. The priors are weak (a 1 rad angle weighs like 0.3 mm of joint error, a bone 20 %
off the average like 0.4 mm): they only settle what the joints leave open, such as a finger's abduction when it
is bent 90 degrees at its root, or the bones of a layout without middle joints.
"""

from __future__ import annotations

import numpy as np
import roma
import torch

from handgraph.fitting import hand_model
from handgraph.fitting.hand_model import ANGLES, LOG_BONES, LOG_SCALE, NUM_PARAMETERS
from handgraph.fitting.solver import levenberg_marquardt
from handgraph.geometry import anatomy
from handgraph.geometry.alignment import similarity_transform
from handgraph.geometry.kinematics import ABDUCTION_SIGN, REST_ROTATIONS
from handgraph.geometry.rotations import rotation_x, rotation_z

W_POSE = 0.3
"""mm per rad: the pull of each angle towards the flat hand."""
W_BONE = 2.0
"""mm per unit of log bone length: the pull of each bone towards the average hand of the fitted scale."""
W_SCALE = 2.0
"""mm per unit of log scale: the pull towards the average hand's size."""

PALM = (0, 1, 5, 9, 13, 17)
"""Wrist and the root of every chain: the joints fixed in the hand frame, up to scale."""


def _average_x(count: int, dtype) -> torch.Tensor:
    x = torch.zeros(count, NUM_PARAMETERS, dtype=dtype)
    x[:, LOG_BONES] = torch.log(torch.as_tensor(anatomy.BONE_LENGTHS_MM, dtype=dtype)).reshape(15)
    return x


def initial_guess(observed: torch.Tensor, weights: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """The analytic start. observed (B, 21, 3) mm canonical, weights (B, 21), left (B,) -> x (B, 42).

    With at least three palm joints observed the palm alone places the hand; otherwise the flat average hand
    is placed on every observed joint. A chain's angles and bones come from its observed bones; a bone with an
    unobserved end keeps the average hand's angle and length.
    """
    count, dtype = observed.shape[0], observed.dtype
    x = _average_x(count, dtype)
    mirror = torch.ones(count, 3, dtype=dtype)
    mirror[:, 0] = 1.0 - 2.0 * left.to(dtype)
    flat = hand_model.joints_of(x, torch.zeros(count, dtype=dtype))  # hand frame: no rotation, no translation
    palm_weights = torch.zeros_like(weights)
    palm_weights[:, PALM] = weights[:, PALM]
    use_palm = bool(((palm_weights > 0).sum(1) >= 3).all())
    rotation, scale, translation = similarity_transform(
        flat * mirror[:, None], observed, palm_weights if use_palm else weights
    )
    x[:, :3] = roma.rotmat_to_rotvec(rotation)
    x[:, 3:6] = translation
    x[:, LOG_SCALE] = torch.log(scale.clamp(0.5, 2.0))
    hand = ((observed - translation[:, None]) @ rotation) * mirror[:, None]  # M R^T (o - t): hand frame, mm
    angles, bones = _chain_angles(hand, weights, x)
    x[:, ANGLES], x[:, LOG_BONES] = angles, bones
    return x


def _chain_angles(hand: torch.Tensor, weights: torch.Tensor, x: torch.Tensor):
    """Every chain's angles (rad) and log bone lengths read off hand-frame joints (B, 21, 3), all chains at once:
    each bone's direction in the frame of the bone before it gives that bone's flexion (and, for the first
    bone, the root's abduction); angles are clipped to the limits before the next bone is read."""
    count, dtype = hand.shape[0], hand.dtype
    low, high = (bound[ANGLES].reshape(5, 4) for bound in hand_model.parameter_bounds(dtype))
    sign = torch.as_tensor(ABDUCTION_SIGN, dtype=dtype)
    chains = hand[:, 1:].reshape(count, 5, 4, 3)
    seen = weights[:, 1:].reshape(count, 5, 4) > 0
    vectors = chains[:, :, 1:] - chains[:, :, :-1]  # (B, 5, 3 bones, 3)
    lengths = vectors.norm(dim=-1)
    ok = seen[:, :, 1:] & seen[:, :, :-1] & (lengths > 1.0)  # (B, 5, 3)
    units = vectors / lengths.clamp_min(1e-9)[..., None]
    frame = torch.as_tensor(REST_ROTATIONS, dtype=dtype).expand(count, 5, 3, 3)
    local = (units[:, :, 0, None] @ frame)[:, :, 0]  # (B, 5, 3) first bone in the rest frame
    flexion = torch.atan2(local[..., 2], torch.hypot(local[..., 0], local[..., 1]))
    abduction = torch.atan2(-local[..., 0], local[..., 1]) * sign
    columns = [torch.where(ok[..., 0], flexion, 0.0).clamp(low[:, 0], high[:, 0])]
    columns.append(torch.where(ok[..., 0], abduction, 0.0).clamp(low[:, 1], high[:, 1]))
    frame = frame @ rotation_z(columns[1] * sign) @ rotation_x(columns[0])
    for bone in (1, 2):
        local = (units[:, :, bone, None] @ frame)[:, :, 0]
        angle = torch.where(ok[..., bone], torch.atan2(local[..., 2], local[..., 1]), 0.0)
        columns.append(angle.clamp(low[:, bone + 1], high[:, bone + 1]))
        frame = frame @ rotation_x(columns[-1])
    log_bones = torch.where(ok, torch.log(lengths.clamp_min(1.0)), x[:, LOG_BONES].reshape(count, 5, 3))
    return torch.stack(columns, dim=-1).reshape(count, 20), log_bones.reshape(count, 15)


def _residuals(observed: torch.Tensor, weights: torch.Tensor, left: torch.Tensor):
    """The fit's residual function for ``levenberg_marquardt``: data rows then prior rows."""
    count, dtype = observed.shape[0], observed.dtype
    root = weights.sqrt()[..., None, None]  # (B, 21, 1, 1)
    mean_bones = torch.log(torch.as_tensor(anatomy.BONE_LENGTHS_MM, dtype=dtype)).reshape(15)
    prior_jacobian = torch.zeros(36, NUM_PARAMETERS, dtype=dtype)
    prior_jacobian[:20, ANGLES] = W_POSE * torch.eye(20, dtype=dtype)
    prior_jacobian[20:35, LOG_BONES] = W_BONE * torch.eye(15, dtype=dtype)
    prior_jacobian[20:35, LOG_SCALE] = -W_BONE
    prior_jacobian[35, LOG_SCALE] = W_SCALE
    prior_jacobian = prior_jacobian.expand(count, -1, -1)

    def residuals(x: torch.Tensor):
        joints, jacobian = hand_model.joints_and_jacobian(x, left)
        data = (root[..., 0] * (joints - observed)).reshape(count, 63)
        bone_prior = W_BONE * (x[:, LOG_BONES] - x[:, LOG_SCALE, None] - mean_bones)
        prior = torch.cat([W_POSE * x[:, ANGLES], bone_prior, W_SCALE * x[:, LOG_SCALE, None]], dim=1)
        data_jacobian = (root * jacobian).reshape(count, 63, NUM_PARAMETERS)
        return torch.cat([data, prior], dim=1), torch.cat([data_jacobian, prior_jacobian], dim=1)

    return residuals


def fit_joints(
    observed: torch.Tensor,
    weights: torch.Tensor,
    left: torch.Tensor,
    start: torch.Tensor | None = None,
    fix_shape: bool = False,
    iterations: int = 30,
):
    """Fit B hands to observed canonical joints. Returns the solver's ``Solution`` (x (B, 42), cost).

    Shapes: observed (B, 21, 3) mm, weights (B, 21) (0: not observed), left (B,). ``start`` (B, 42) replaces the
    analytic guess; with ``fix_shape`` its scale and bones are kept and only the pose moves.
    """
    x = initial_guess(observed, weights, left) if start is None else start
    lower, upper = hand_model.parameter_bounds(observed.dtype)
    free = torch.ones(NUM_PARAMETERS, dtype=torch.bool)
    if fix_shape:
        free[hand_model.NUM_POSE :] = False
    residuals = _residuals(observed, weights, left)
    return levenberg_marquardt(residuals, x, hand_model.retract, lower, upper, free, iterations)


def shared_shape(x: torch.Tensor) -> torch.Tensor:
    """One shape for a whole sequence: the per-frame median of log scale and log bone lengths. (F, 42) -> (16,)."""
    return x[:, hand_model.NUM_POSE :].median(dim=0).values


def with_shape(x: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
    """Fits x (F, 42) with their shape replaced by one shape (16,): the start of a sequence's pose-only fit."""
    return torch.cat([x[:, : hand_model.NUM_POSE], shape.expand(len(x), -1)], dim=1)


def angles_degrees(x: torch.Tensor) -> np.ndarray:
    """(B, 42) -> (B, 5, 4) articulation angles in degrees, as ``anatomy.ARTICULATION_NAMES`` per chain."""
    return np.degrees(x[:, ANGLES].reshape(-1, 5, 4).detach().cpu().numpy())
