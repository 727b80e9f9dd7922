"""Training losses: integral coordinate L1, heatmap supervision, and bone-length consistency.

    L = |uvd_n - uvd_n*|_1 + w_xyz |xyz - xyz*|_1 / 100 mm
        + w_heatmap sum_maps CE(softmax(logits), Gaussian(uv*))
        + w_bone | |x_p - x_c| - |x_p* - x_c*| |_1 / 100 mm         (over the layout's bones)
        + the model's own terms, already weighted (``auxiliary``: a2j's anchor surrounding, awr's dense maps)

Normalised uvd errors of 1 are half a cube (125 mm), so 100 mm puts the millimetre terms on a similar scale.
Every term is a mean over frames and joints (or bones).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handgraph.geometry.heatmaps import gaussian_heatmaps

MM_SCALE = 100.0


@dataclass
class LossWeights:
    """Weights of the terms of the pose loss."""

    xyz: float = 1.0
    """L1 on camera-frame millimetres, per 100 mm."""
    heatmap: float = 0.1
    """Cross-entropy of every supervised heatmap against a Gaussian at the true joint."""
    bone: float = 0.5
    """L1 between predicted and true bone lengths, per 100 mm."""
    heatmap_sigma: float = 1.5
    """Deviation of the target Gaussians, in heatmap cells."""


def heatmap_cross_entropy(logits: torch.Tensor, uv: torch.Tensor, sigma: float) -> torch.Tensor:
    """Mean cross-entropy between softmax(logits) (B, J, H, W) and Gaussians at uv (B, J, 2) normalised."""
    target = gaussian_heatmaps(uv, logits.shape[-2], logits.shape[-1], sigma)
    log_probability = torch.log_softmax(logits.flatten(2), dim=-1)
    return -(target.flatten(2) * log_probability).sum(dim=-1).mean()


def bone_lengths(xyz: torch.Tensor, bones: torch.Tensor) -> torch.Tensor:
    """(B, J, 3), (K, 2) parent/child pairs -> (B, K) lengths."""
    return (xyz[:, bones[:, 0]] - xyz[:, bones[:, 1]]).norm(dim=-1)


def pose_loss(
    output: dict, uvd_norm: torch.Tensor, xyz: torch.Tensor, bones: torch.Tensor, weights: LossWeights
) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss of one batch and its terms (as floats, for logging).

    Shapes: output from ``PoseModel.forward``; true uvd_norm and xyz (B, J, 3); bones (K, 2) long.
    """
    terms = {
        "uvd": (output["uvd_norm"] - uvd_norm).abs().mean(),
        "xyz": (output["xyz"] - xyz).abs().mean() / MM_SCALE,
        "bone": (bone_lengths(output["xyz"], bones) - bone_lengths(xyz, bones)).abs().mean() / MM_SCALE,
    }
    heatmaps = output.get("heatmaps", [])
    if heatmaps:
        terms["heatmap"] = sum(
            heatmap_cross_entropy(logits, uvd_norm[..., :2], weights.heatmap_sigma) for logits in heatmaps
        )
    total = terms["uvd"] + weights.xyz * terms["xyz"] + weights.bone * terms["bone"]
    if heatmaps:
        total = total + weights.heatmap * terms["heatmap"]
    if "auxiliary" in output:
        own = output["auxiliary"](uvd_norm)
        terms.update(own)
        total = total + sum(own.values())
    return total, {name: float(value.detach()) for name, value in terms.items()}


def mapped_pose_loss(
    output: dict, uvd_norm: torch.Tensor, xyz: torch.Tensor, layout, weights: LossWeights
) -> tuple[torch.Tensor, dict[str, float]]:
    """The pose loss of a model of canonical joints against labels of another ``layout`` (a dataset's): xyz
    through the joint map (``evaluation.joint_map``, every joint of the layout), uvd and heatmaps on the joints
    that have a canonical twin, bone lengths along the layout's bones.

    Shapes: output of a canonical ``PoseModel``; true uvd_norm and xyz (B, J, 3) in ``layout``.
    """
    from handgraph.geometry.joint_map import canonical_to_layout

    own = [index for index, twin in enumerate(layout.canonical) if twin is not None]
    twins = [layout.canonical[index] for index in own]
    mapped = canonical_to_layout(output["xyz"], layout)  # (B, J, 3)
    bones = torch.tensor(layout.bones, device=xyz.device)
    terms = {
        "uvd": (output["uvd_norm"][:, twins] - uvd_norm[:, own]).abs().mean(),
        "xyz": (mapped - xyz).abs().mean() / MM_SCALE,
        "bone": (bone_lengths(mapped, bones) - bone_lengths(xyz, bones)).abs().mean() / MM_SCALE,
    }
    total = terms["uvd"] + weights.xyz * terms["xyz"] + weights.bone * terms["bone"]
    heatmaps = output.get("heatmaps", [])
    if heatmaps:
        terms["heatmap"] = sum(
            heatmap_cross_entropy(logits[:, twins], uvd_norm[:, own, :2], weights.heatmap_sigma) for logits in heatmaps
        )
        total = total + weights.heatmap * terms["heatmap"]
    return total, {name: float(value.detach()) for name, value in terms.items()}
