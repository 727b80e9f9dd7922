"""Which frames may teach: a per-frame decision on the pseudo-labels' own measures, no label needed.

Self-training learns its own mistakes back when it trusts every pseudo-label (confirmation bias: Arazo et al.,
IJCNN 2020; for keypoints, "confident yet inaccurate" pseudo-labels, Lin et al., NeurIPS 2023), so the
field keeps only the surest part: the keypoints above the batch's median confidence (Kim et al., ECCV 2022),
spatially and temporally consistent ones (Mu et al., CVPR 2020). Here the surest frames are those whose
refined hand the camera confirms best (``explained``, ``fitting.agreement``), among those whose depth supports
the network's joints and whose network and refinement do not disagree wildly:

    candidate  <=>  support >= min_support  and  moved_mm <= max_moved_mm  and  a residual was measured
    used       <=>  candidate  and  explained within the highest keep_share of the candidates'

Chosen on domain-shifted synthetic sequences with their labels hidden from the rule (a Kinect v2, hands
15-30 % larger than the largest the shipped model saw, holding objects; 480 frames, 427 hands found;
``docs/adaptation.md``): the share of the hand's surface confirmed ranks the pseudo-labels best (Spearman
-0.65 against their error; the depth residual +0.58, the joints' support -0.32, the distance moved +0.02).
All pseudo-labels were 15.8 mm from the truth (the network 20.9); the half with the most confirmed surface
9.9 mm (211 hands). Gating on support >= 0.75 as well left 92 hands at 9.0 mm: half the frames for 1 mm.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from handgraph.errors import HandgraphError


@dataclass(frozen=True)
class SelectionRule:
    """The thresholds of the decision (see the module's text)."""

    min_support: float = 0.5
    """Share of the network's joints on the frame's surface (``predictor.joint_support``): half of them, or the
    network stands off the hand (on an object, on nothing)."""
    max_moved_mm: float = 25.0
    """Mean distance the refinement moved the joints from the network's: farther, it may have left for
    another hand or object."""
    keep_share: float = 0.5
    """Of the candidates, the share with the most confirmed surface that is used."""

    def __post_init__(self) -> None:
        if not (0 <= self.min_support <= 1 and self.max_moved_mm > 0 and 0 < self.keep_share <= 1):
            raise HandgraphError(f"selection rule: min_support within [0, 1], keep_share within (0, 1] and "
                                 f"max_moved_mm positive; got {asdict(self)}")  # fmt: skip


def select_frames(measures: dict[str, np.ndarray], rule: SelectionRule) -> np.ndarray:
    """(N,) bool: the frames whose pseudo-labels are used, from (N,) ``residual_mm``, ``explained``, ``support``
    and ``moved_mm``."""
    residual = np.asarray(measures["residual_mm"], dtype=np.float64)
    explained = np.asarray(measures["explained"], dtype=np.float64)
    candidate = (
        np.isfinite(residual) & (measures["support"] >= rule.min_support) & (measures["moved_mm"] <= rule.max_moved_mm)
    )
    used = np.zeros(len(residual), dtype=bool)
    count = int(np.ceil(rule.keep_share * candidate.sum()))
    if count:
        order = np.flatnonzero(candidate)[np.argsort(-explained[candidate], kind="stable")]
        used[order[:count]] = True
    return used
