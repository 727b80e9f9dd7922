"""Forward kinematics of the 21-joint hand, batched, for NumPy arrays and torch tensors alike.

A hand is its shape (bone lengths, root positions, thickness) and its pose: 20 articulation angles (per
chain: root flexion, root abduction, second and third flexion) plus a global rotation and translation, 26
degrees of freedom in all. Each chain starts at its root joint R0 (fixed in the hand frame, see
``anatomy``) and turns through

    R1 = R_rest Rz(s abduction) Rx(flexion_1),  R2 = R1 Rx(flexion_2),  R3 = R2 Rx(flexion_3)
    p_k = p_(k-1) + R_k (0, L_k, 0)

where Rx turns the bone (+y) towards the palm (+z) and s (``ABDUCTION_SIGN``) is -1 for the four fingers, whose
positive abduction turns them towards the thumb (+x), as ``Rz(-a)`` does, and +1 for the thumb, whose positive
abduction lifts it away from the palm in its twisted rest frame. Camera-frame joints are R_global (m * p) + t, with the
mirror m = diag(-1, 1, 1) for a left hand and t the wrist's position in the camera frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handgraph.geometry import anatomy
from handgraph.geometry.arrays import array_module, as_like
from handgraph.geometry.rotations import axis_angle_to_matrix, rotation_x, rotation_y, rotation_z

POSE_DOF_NAMES = ("global_rx", "global_ry", "global_rz", "global_tx", "global_ty", "global_tz") + tuple(
    f"{chain}_{articulation}"
    for chain in ("thumb", "index", "middle", "ring", "little")
    for articulation in anatomy.ARTICULATION_NAMES
)
"""The 26 pose parameters: rotation vector (rad), wrist position (mm), then 5 chains x 4 angles (rad)."""


def _rest_rotations() -> np.ndarray:
    thumb = anatomy.THUMB_REST_DEG
    thumb_rest = (
        rotation_z(np.radians(-thumb["splay"]))
        @ rotation_x(np.radians(thumb["palmar"]))
        @ rotation_y(np.radians(thumb["twist"]))
    )
    fingers = rotation_z(np.radians(-anatomy.FINGER_SPLAY_DEG[1:]))  # Rz(-a) turns +y towards the thumb
    return np.concatenate([thumb_rest[None], fingers], axis=0)  # (5, 3, 3)


REST_ROTATIONS = _rest_rotations()
"""Rest orientation of each chain's root joint in the hand frame, (5, 3, 3)."""

ABDUCTION_SIGN = np.array([1.0, -1.0, -1.0, -1.0, -1.0])
"""Per chain, the sign that makes positive abduction mean what ``anatomy.JOINT_LIMITS_DEG`` says."""


@dataclass
class HandShape:
    """The shape of B hands, in mm, in the hand frame."""

    bone_lengths: np.ndarray
    """(B, 5, 3): three bones per chain."""
    root_offsets: np.ndarray
    """(B, 5, 3): root joint of each chain."""
    joint_radii: np.ndarray
    """(B, 5, 4): half the finger thickness at each chain joint."""
    scale: np.ndarray
    """(B,): global scale the above include; the palm and forearm follow it."""
    thickness: np.ndarray
    """(B,): thickness factor the radii include; the palm and forearm follow it."""
    forearm_length: np.ndarray
    """(B,): forearm stub beyond the wrist."""

    @classmethod
    def average(cls, count: int = 1) -> HandShape:
        """``count`` copies of the average hand (scale 1, no variation, 120 mm of forearm)."""
        ones = np.ones(count)
        return cls(
            bone_lengths=np.broadcast_to(anatomy.BONE_LENGTHS_MM, (count, 5, 3)).copy(),
            root_offsets=np.broadcast_to(anatomy.ROOT_OFFSETS_MM, (count, 5, 3)).copy(),
            joint_radii=np.broadcast_to(anatomy.JOINT_RADII_MM, (count, 5, 4)).copy(),
            scale=ones.copy(),
            thickness=ones.copy(),
            forearm_length=120.0 * ones,
        )

    def vector(self) -> np.ndarray:
        """The shape as one flat vector per hand, (B, 15 + 15 + 20 + 3), for labels."""
        parts = [self.bone_lengths, self.root_offsets, self.joint_radii]
        flat = [part.reshape(len(self.scale), -1) for part in parts]
        return np.concatenate(flat + [np.stack([self.scale, self.thickness, self.forearm_length], 1)], axis=1)


def chain_joints(articulation, bone_lengths, root_offsets):
    """Hand-frame joints of a right hand. (B, 5, 4) rad, (B, 5, 3) mm, (B, 5, 3) mm -> (B, 21, 3) mm.

    Works on NumPy arrays and torch tensors; under torch it is differentiable in every input.
    """
    xp = array_module(articulation)
    flexion_1, abduction, flexion_2, flexion_3 = (articulation[..., k] for k in range(4))  # (B, 5) each
    rest = as_like(REST_ROTATIONS, articulation)
    rotation = rest @ rotation_z(abduction * as_like(ABDUCTION_SIGN, articulation)) @ rotation_x(flexion_1)
    points = [root_offsets]  # (B, 5, 3)
    for bone, flexion in enumerate((None, flexion_2, flexion_3)):
        if flexion is not None:
            rotation = rotation @ rotation_x(flexion)
        points.append(points[-1] + rotation[..., :, 1] * bone_lengths[..., bone : bone + 1])
    chains = xp.stack(points, axis=-2)  # (B, 5, 4, 3)
    chains = chains.reshape(chains.shape[0], 20, 3)
    return xp.concatenate([xp.zeros_like(chains[:, :1]), chains], axis=1)  # wrist at the origin


def hand_to_camera(points, rotation, translation, left):
    """Hand-frame points of right hands to the camera frame, mirroring left hands.

    Shapes: points (B, K, 3), rotation (B, 3, 3), translation (B, 3), left (B,) -> (B, K, 3).
    """
    xp = array_module(points)
    sign = 1.0 - 2.0 * as_like(left, points)  # -1 mirrors x for left hands
    mirrored = xp.stack([points[..., 0] * sign[:, None], points[..., 1], points[..., 2]], axis=-1)
    return mirrored @ xp.swapaxes(rotation, -1, -2) + translation[:, None, :]


def forward_kinematics(pose, bone_lengths, root_offsets, left):
    """Camera-frame joints from 26-parameter poses (see ``POSE_DOF_NAMES``).

    Shapes: pose (B, 26), bone_lengths (B, 5, 3), root_offsets (B, 5, 3), left (B,) -> (B, 21, 3) mm.
    """
    articulation = pose[:, 6:].reshape(pose.shape[0], 5, 4)
    joints = chain_joints(articulation, bone_lengths, root_offsets)
    return hand_to_camera(joints, axis_angle_to_matrix(pose[:, :3]), pose[:, 3:6], left)
