"""Joint heatmaps <-> normalised image coordinates: Gaussian targets and the soft-argmax decoder.

A map of H x W cells covers the crop's [-1, 1]^2 with cell centres at (2 i + 1) / W - 1 (torch's
align_corners=False), so maps of any stride decode to the same coordinates as the crop.

- encode: ``gaussian_heatmaps`` puts a normalised Gaussian (sum 1) of deviation ``sigma`` cells at each joint;
- decode: ``soft_argmax`` turns logits into a distribution by softmax and returns its mean position
  (integral regression, Sun et al. 2018), differentiable everywhere.
"""

from __future__ import annotations

import torch


def cell_centres(cells: int, like: torch.Tensor) -> torch.Tensor:
    """Normalised centres of ``cells`` cells along one axis, (cells,)."""
    return (2 * torch.arange(cells, dtype=like.dtype, device=like.device) + 1) / cells - 1


def soft_argmax(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, J, H, W) logits -> (B, J, 2) expected (u, v) and (B, J, H, W) probabilities."""
    batch, joints, height, width = logits.shape
    probability = torch.softmax(logits.reshape(batch, joints, -1), dim=-1).reshape(logits.shape)
    u = (probability.sum(dim=2) * cell_centres(width, logits)).sum(dim=-1)
    v = (probability.sum(dim=3) * cell_centres(height, logits)).sum(dim=-1)
    return torch.stack([u, v], dim=-1), probability


def expected_value(probability: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Mean of per-joint maps under per-joint distributions: (B, J, H, W) x2 -> (B, J)."""
    return (probability * maps).sum(dim=(-2, -1))


def gaussian_heatmaps(uv: torch.Tensor, height: int, width: int, sigma: float) -> torch.Tensor:
    """(B, J, 2) normalised positions -> (B, J, H, W) Gaussians of ``sigma`` cells, each summing to 1."""
    xs, ys = cell_centres(width, uv), cell_centres(height, uv)
    dx = (xs.view(1, 1, 1, -1) - uv[..., 0, None, None]) * width / 2  # in cells
    dy = (ys.view(1, 1, -1, 1) - uv[..., 1, None, None]) * height / 2
    heat = torch.exp(-(dx**2 + dy**2) / (2 * sigma**2))
    return heat / heat.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
