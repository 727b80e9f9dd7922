"""Any layout's joints as the canonical joints a fit is asked to explain, after checking them."""

from __future__ import annotations

import numpy as np
import torch

from handgraph.errors import HandgraphError
from handgraph.geometry.skeleton import HAND, JointLayout

MIN_OBSERVED = 6
"""Fewer canonical joints than this cannot place a hand and say anything of its fingers."""


def canonical_targets(joints: np.ndarray, layout: JointLayout, source: str = "joints") -> tuple[torch.Tensor, ...]:
    """(N, J, 3) joints (mm, camera frame) in ``layout`` -> observed (N, 21, 3) and weights (N, 21) float64
    tensors: weight 1 where the layout has the canonical joint, 0 elsewhere.

    ``source`` names the file or field in errors. A layout without the wrist, or with too few canonical
    joints, is refused, and so is any frame with a non-finite coordinate.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (layout.num_joints, 3):
        raise HandgraphError(
            f"{source}: joints of shape {joints.shape}; expected (frames, {layout.num_joints}, 3) for the "
            f"{layout.name} layout"
        )
    check_fittable(layout, source)
    pairs = layout.canonical_pairs()
    bad = ~np.isfinite(joints)
    if bad.any():
        frame, joint, _ = np.argwhere(bad)[0]
        raise HandgraphError(
            f"{source}: frame {frame + 1}, joint {joint + 1} ({layout.joint_names[joint]}) is not a finite "
            "number; every joint needs x, y and z to fit"
        )
    observed = np.zeros((len(joints), 21, 3))
    weights = np.zeros((len(joints), 21))
    for own, canonical in pairs:
        observed[:, canonical], weights[:, canonical] = joints[:, own], 1.0
    return torch.from_numpy(observed), torch.from_numpy(weights)


def check_fittable(layout: JointLayout, source: str = "joints") -> None:
    """Refuse a layout without the wrist, or with too few canonical joints to place a hand."""
    pairs = layout.canonical_pairs()
    if HAND.index("wrist") not in [canonical for _, canonical in pairs]:
        raise HandgraphError(
            f"{source}: the {layout.name} layout has no wrist joint; a fit needs one to place the hand"
        )
    if len(pairs) < MIN_OBSERVED:
        raise HandgraphError(
            f"{source}: the {layout.name} layout has {len(pairs)} joints with a canonical twin; a fit needs "
            f"at least {MIN_OBSERVED}"
        )
