"""Integral regression (Sun et al., "Integral Human Pose Regression", 2018): per-joint heatmaps and depth
maps, decoded by soft-argmax into normalised (u, v, d)."""

from __future__ import annotations

import torch
from torch import nn

from handgraph.geometry.heatmaps import expected_value, soft_argmax


class IntegralHead(nn.Module):
    """Features (B, C, H, W) -> heatmap logits (B, J, H, W) and depth maps (B, J, H, W) by 1x1 convolutions
    (None without ``depths``, for a model that gets its depths elsewhere)."""

    def __init__(self, channels: int, joints: int, depths: bool = True):
        super().__init__()
        self.heatmaps = nn.Conv2d(channels, joints, 1)
        self.depths = nn.Conv2d(channels, joints, 1) if depths else None

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.heatmaps(features), self.depths(features) if self.depths is not None else None


def integral_uvd(logits: torch.Tensor, depth_maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft-argmax (u, v) and the depth expected under the same distribution. Returns (B, J, 3) and the
    (B, J, H, W) probabilities."""
    uv, probability = soft_argmax(logits)
    depth = expected_value(probability, depth_maps)
    return torch.cat([uv, depth[..., None]], dim=-1), probability
