"""Fitting joints of any layout, and what a fit reports: angles by name, a valid hand, the shape, the residuals."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from tqdm import tqdm

from handgraph.fitting import hand_model, ik
from handgraph.fitting.agreement import DepthAgreement
from handgraph.fitting.targets import canonical_targets
from handgraph.geometry.joint_map import canonical_to_layout
from handgraph.geometry.skeleton import FINGER_NAMES, JointLayout

ANGLE_NAMES = {
    "thumb": ("cmc_flexion", "cmc_abduction", "mcp_flexion", "ip_flexion"),
    **{finger: ("mcp_flexion", "mcp_abduction", "pip_flexion", "dip_flexion") for finger in FINGER_NAMES[1:]},
}
"""Per chain, the names of its four angles in ``anatomy.ARTICULATION_NAMES`` order."""

BONE_NAMES = {
    "thumb": ("metacarpal", "proximal", "distal"),
    **{finger: ("proximal", "middle", "distal") for finger in FINGER_NAMES[1:]},
}


@dataclass
class HandFits:
    """Kinematic fits of N hands to joints of one layout. Its derived arrays are computed once (a new fit, such
    as ``dataclasses.replace`` makes, computes its own)."""

    x: torch.Tensor
    """(N, 42) the fitted parameters (``hand_model``)."""
    mirrored: torch.Tensor
    """(N,) 1 where the model is mirrored (see ``mirrored_model``)."""
    layout: JointLayout
    joints: np.ndarray
    """(N, J, 3) mm: the joints that were fitted, in ``layout``."""
    refined: np.ndarray
    """(N,) bool: moved against the depth after the inverse kinematics."""
    agreement: DepthAgreement | None = None
    """How well the refined hands explain their frames' depth (``agreement``); None before a refinement."""

    @cached_property
    def canonical_xyz(self) -> np.ndarray:
        """(N, 21, 3) mm: the fitted hand's joints, canonical order."""
        return hand_model.joints_of(self.x, self.mirrored).numpy()

    @cached_property
    def xyz(self) -> np.ndarray:
        """(N, J, 3) mm: the fitted hand's joints in the layout that was fitted (landmarks without a twin filled)."""
        return canonical_to_layout(self.canonical_xyz, self.layout)

    @cached_property
    def residual_mm(self) -> np.ndarray:
        """(N, J): distance of each fitted joint from the joint it was fitted to."""
        return np.linalg.norm(self.xyz - self.joints, axis=-1)

    @cached_property
    def angles_deg(self) -> np.ndarray:
        """(N, 5, 4) the articulation angles in degrees."""
        return ik.angles_degrees(self.x)

    def record(self, index: int, mesh: str | None = None) -> dict:
        """Hand ``index`` as predictions.json's "fit" entry."""
        x = self.x[index].numpy()
        angles = self.angles_deg[index]
        bones = np.exp(x[hand_model.LOG_BONES]).reshape(5, 3)
        return {
            "xyz": self.xyz[index].round(3).tolist(),
            "angles_deg": {
                finger: dict(zip(ANGLE_NAMES[finger], angles[chain].round(2).tolist(), strict=True))
                for chain, finger in enumerate(FINGER_NAMES)
            },
            "global": {
                "rotation_vector_rad": x[:3].round(5).tolist(),
                "wrist_xyz": x[3:6].round(3).tolist(),
                "mirrored": bool(self.mirrored[index]),
            },
            "shape": {
                "scale": round(float(np.exp(x[hand_model.LOG_SCALE])), 4),
                "bone_lengths_mm": {
                    finger: dict(zip(BONE_NAMES[finger], bones[chain].round(2).tolist(), strict=True))
                    for chain, finger in enumerate(FINGER_NAMES)
                },
            },
            "residual_mm": self.residual_mm[index].round(2).tolist(),
            "refined": bool(self.refined[index]),
            **({} if self.agreement is None else self.agreement.record(index)),
            "mesh": mesh,
        }


def mirrored_model(left: bool, fx: float, fy: float) -> bool:
    """Whether the kinematic (right) hand must be mirrored to explain a hand's joints: for a left hand, and for a
    right hand whose coordinates come from a camera with fx fy < 0 (NYU's: x right, y up, z forward is a
    left-handed frame, in which every hand looks like its mirror image); not for both at once."""
    return bool(left) != (fx * fy < 0)


FIT_CHUNK = 1024
"""Hands solved together: a long result file is fitted chunk by chunk, with a progress bar."""


def fit_layout_joints(
    joints: np.ndarray, layout: JointLayout, mirrored: np.ndarray | bool = False, sequence: bool = False,
    source: str = "joints", progress: bool = False,
) -> HandFits:  # fmt: skip
    """Fit N hands to (N, J, 3) joints (mm, camera frame) of ``layout``; ``mirrored`` as ``mirrored_model`` says.
    With ``sequence`` the N frames show one hand: one shape is fitted for all of them (the median of free fits),
    then each frame's pose. ``source`` names the input in errors."""
    observed, weights = canonical_targets(joints, layout, source)
    flags = torch.as_tensor(np.broadcast_to(np.asarray(mirrored, dtype=np.float64), (len(observed),)).copy())
    chunks = [slice(start, start + FIT_CHUNK) for start in range(0, len(observed), FIT_CHUNK)]
    show = progress and len(chunks) > 1

    def solve(description: str, start: torch.Tensor | None = None) -> torch.Tensor:
        fitted = []
        for chunk in tqdm(chunks, desc=description, unit="chunk", disable=not show):
            begin = None if start is None else start[chunk]
            fitted.append(ik.fit_joints(observed[chunk], weights[chunk], flags[chunk], begin, start is not None).x)
        return torch.cat(fitted)

    x = solve("inverse kinematics")
    if sequence and len(observed) > 1:
        x = solve("inverse kinematics, one shape", ik.with_shape(x, ik.shared_shape(x)))
    return HandFits(x, flags, layout, np.asarray(joints, dtype=np.float64), np.zeros(len(observed), bool))
