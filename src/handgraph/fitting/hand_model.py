"""The kinematic hand as a parameter vector, its joints, and their analytic Jacobian, batched in torch.

One hand is a vector x of 42 numbers (``PARAMETER_NAMES``):

    x = (rotation vector (3), wrist position t (3), 20 articulation angles (rad), log scale, 15 log bone lengths)

with the joints of ``geometry.kinematics`` (the same chains, rest frames and limits):

    p_cam = R(x_rot) M p_hand(angles, s, L) + t,   roots = s * ROOT_OFFSETS_MM,   M = diag(-1, 1, 1) for a left hand

The Jacobian is taken with respect to a local step delta, applied by ``retract``: the rotation turns on the
left, R <- exp(delta_rot) R, and everything else adds. With that step the columns have closed forms, those of
a chain of revolute joints:

    d p / d delta_rot   = e_j x (p - t)                       (the hand turns about its wrist)
    d p / d t           = I
    d p_k / d theta     = R M (axis x (p_k - p_joint))          for joints k after the joint that theta turns
    d p_k / d log L_b   = R M (L_b d_b)                          for joints k after bone b (d_b its direction)
    d p_k / d log s     = R M root                               for every joint of the chain

Every flexion of a chain turns about one axis, the x axis of its root frame after abduction, so a finger stays
in one plane. ``tests/fitting`` checks the columns against autograd.
"""

from __future__ import annotations

import numpy as np
import roma
import torch

from handgraph.geometry import anatomy
from handgraph.geometry.kinematics import ABDUCTION_SIGN, POSE_DOF_NAMES, REST_ROTATIONS

NUM_POSE = 26
"""Rotation, translation and the 20 angles: what a fit of a known shape moves."""
NUM_PARAMETERS = 42
ANGLES = slice(6, 26)
LOG_SCALE = 26
LOG_BONES = slice(27, 42)

PARAMETER_NAMES = (
    POSE_DOF_NAMES
    + ("log_scale",)
    + tuple(
        f"{chain}_log_bone_{bone}" for chain in ("thumb", "index", "middle", "ring", "little") for bone in range(1, 4)
    )
)


def parameter_bounds(dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """(P,) lower and upper bounds: the anatomical limits on the angles (rad), none elsewhere."""
    low = torch.full((NUM_PARAMETERS,), -torch.inf, dtype=dtype)
    high = torch.full((NUM_PARAMETERS,), torch.inf, dtype=dtype)
    limits = torch.as_tensor(np.radians(anatomy.JOINT_LIMITS_DEG), dtype=dtype)  # (5, 4, 2)
    low[ANGLES], high[ANGLES] = limits[..., 0].reshape(20), limits[..., 1].reshape(20)
    return low, high


def retract(x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """x moved by a local step: the rotation turned on the left by delta's rotation vector, the rest added.
    (B, P), (B, P) -> (B, P)."""
    rotation = roma.rotvec_composition([delta[:, :3], x[:, :3]])
    return torch.cat([rotation, x[:, 3:] + delta[:, 3:]], dim=1)


def rotation_matrix(x: torch.Tensor) -> torch.Tensor:
    """(B, P) -> (B, 3, 3) the hands' global rotations."""
    return roma.rotvec_to_rotmat(x[:, :3])


def placement(x: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """R M: hand frame to camera axes, mirrored in x for left hands. (B, P), (B,) -> (B, 3, 3)."""
    sign = 1.0 - 2.0 * left.to(x.dtype)
    mirror = torch.stack([sign, torch.ones_like(sign), torch.ones_like(sign)], dim=-1)  # (B, 3)
    return rotation_matrix(x) * mirror[:, None, :]


def chains(x: torch.Tensor):
    """Hand-frame chain points and what their derivatives need. x (B, P).

    Abduction turns a chain's rest frame R0 about its z axis: the turned frame's x and y axes are
    cos(a) x0 + sin(a) y0 and cos(a) y0 - sin(a) x0. Every flexion then turns about that x axis, so bone k
    points along cos(phi_k) y + sin(phi_k) z with phi_k the sum of the first k flexions: no matrix products.
    """
    count = x.shape[0]
    angles = x[:, ANGLES].reshape(count, 5, 4)
    rest = torch.as_tensor(REST_ROTATIONS, dtype=x.dtype)  # (5, 3, 3), columns x0, y0, z0
    turn = angles[..., 1] * torch.as_tensor(ABDUCTION_SIGN, dtype=x.dtype)  # (B, 5)
    cos_turn, sin_turn = torch.cos(turn)[..., None], torch.sin(turn)[..., None]
    flexion_axis = cos_turn * rest[:, :, 0] + sin_turn * rest[:, :, 1]  # (B, 5, 3)
    along = cos_turn * rest[:, :, 1] - sin_turn * rest[:, :, 0]
    phi = torch.cumsum(angles[..., [0, 2, 3]], dim=-1)[..., None]  # (B, 5, 3 bones, 1)
    directions = torch.cos(phi) * along[:, :, None] + torch.sin(phi) * rest[:, None, :, 2]  # (B, 5, 3, 3)
    segments = directions * torch.exp(x[:, LOG_BONES]).reshape(count, 5, 3, 1)
    roots = torch.exp(x[:, LOG_SCALE])[:, None, None] * torch.as_tensor(anatomy.ROOT_OFFSETS_MM, dtype=x.dtype)
    chain = torch.cat([roots[:, :, None], roots[:, :, None] + torch.cumsum(segments, dim=2)], dim=2)  # (B, 5, 4, 3)
    abduction_axis = (rest[:, :, 2] * torch.as_tensor(ABDUCTION_SIGN, dtype=x.dtype)[:, None]).expand_as(flexion_axis)
    return chain, segments, flexion_axis, abduction_axis


def _hand_frame_jacobian(chain, segments, flexion_axis, abduction_axis) -> torch.Tensor:
    """d chain / d (angles, log scale, log bones) in the hand frame: (B, 5, 4 joints, 3, 4 + 1 + 3)."""
    after = torch.tril(torch.ones(4, 4, dtype=chain.dtype), diagonal=-1)  # after[k, j]: joint k follows joint j
    # Flexion j turns the joints after chain joint j about the chain's flexion axis (j = 0, 1, 2).
    lever = chain[:, :, :, None] - chain[:, :, None, :3]  # (B, 5, 4 k, 3 j, 3)
    flexions = torch.linalg.cross(flexion_axis[:, :, None, None].expand_as(lever), lever) * after[:, :3, None]
    abductions = torch.linalg.cross(abduction_axis[:, :, None].expand_as(lever[:, :, :, 0]), lever[:, :, :, 0])
    # Bone b moves the joints after it by its own segment.
    bones = segments[:, :, None, :, :] * after[None, None, :, :3, None]  # (B, 5, 4 k, 3 b, 3)
    scale = chain[:, :, :1].expand_as(chain)  # the root moves every joint of its chain
    columns = [flexions[:, :, :, 0], abductions, flexions[:, :, :, 1], flexions[:, :, :, 2], scale]
    columns += [bones[:, :, :, b] for b in range(3)]
    return torch.stack(columns, dim=-1)


def joints_and_jacobian(x: torch.Tensor, left: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera-frame joints of the canonical layout and their Jacobian with respect to ``retract``'s step.

    Shapes: x (B, 42), left (B,) -> joints (B, 21, 3) mm, jacobian (B, 21, 3, 42).
    """
    count, dtype = x.shape[0], x.dtype
    chain, segments, flexion_axis, abduction_axis = chains(x)
    placed = placement(x, left)  # (B, 3, 3)
    offsets = torch.cat([torch.zeros(count, 1, 3, dtype=dtype), chain.reshape(count, 20, 3)], dim=1) @ placed.mT
    joints = offsets + x[:, None, 3:6]  # (B, 21, 3)

    local = _hand_frame_jacobian(chain, segments, flexion_axis, abduction_axis)  # (B, 5, 4, 3, 8)
    local = torch.einsum("bij,bckjn->bckni", placed, local).reshape(count, 20, 8, 3)  # columns before xyz
    columns = torch.zeros(count, 21, NUM_PARAMETERS, 3, dtype=dtype)  # the Jacobian, transposed
    basis = torch.eye(3, dtype=dtype)
    columns[:, :, :3] = torch.linalg.cross(basis.expand(count, 21, 3, 3), offsets[:, :, None].expand(-1, -1, 3, -1))
    columns[:, :, 3:6] = basis
    chain_of = torch.arange(20) // 4
    rows = torch.arange(1, 21)[:, None]
    columns[:, rows, 6 + 4 * chain_of[:, None] + torch.arange(4)] = local[:, :, :4]
    columns[:, 1:, LOG_SCALE] = local[:, :, 4]
    columns[:, rows, 27 + 3 * chain_of[:, None] + torch.arange(3)] = local[:, :, 5:]
    jacobian = columns.mT
    return joints, jacobian


def joints_of(x: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """Camera-frame canonical joints only, differentiable in x. (B, 42), (B,) -> (B, 21, 3)."""
    count = x.shape[0]
    chain = chains(x)[0].reshape(count, 20, 3)
    placed = placement(x, left)
    hand = torch.cat([torch.zeros(count, 1, 3, dtype=x.dtype), chain], dim=1)
    return hand @ placed.mT + x[:, None, 3:6]
