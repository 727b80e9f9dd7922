"""``awr``: adaptive weighting regression (Huang et al., "AWR: Adaptive Weighting Regression for 3D Hand Pose
Estimation", AAAI 2020), sized like handgraph's other models.

Every cell p of the stride-4 map is a 3D point P_p of the crop in normalised (u, v, d): its centre, and the
nearest depth among its 4 x 4 pixels (a point of the surface, where an average would mix hand and background).
Per cell and joint the network predicts a dense representation of the offset to the joint, a closeness H_j(p)
and a unit direction U_j(p), and a weight logit W_j(p). Within the radius r the offset's length is r (1 - H),
so each cell votes for a joint position, and the joint is the vote weighted by a softmax of W over the cells
that see the hand:

    J_j = sum_p softmax_p(W_j)(p) (P_p + r (1 - H_j(p)) U_j(p))

The weights are learned end to end, through the joint loss alone (the adaptive weighting); the dense maps are
also supervised directly (the dense loss), against H* = max(0, 1 - |J* - P_p| / r) and U* = (J* - P_p) /
|J* - P_p| on the cells within r of the joint.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handgraph.heatmaps import cell_centres
from handgraph.models.backbone import Backbone, conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig

RADIUS = 0.4
"""r in normalised units: 50 mm of a 250 mm cube (a unit is half the cube)."""
DENSE_WEIGHT = 1.0
BACKGROUND = 0.99
"""Cells whose nearest normalised depth is at least this hold no hand (the far value is 1) and do not vote."""


class AWRModel(PoseModel):
    """Backbone -> closeness, direction and weight maps per joint -> weighted dense vote."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        joints = self.layout.num_joints
        self.head = nn.Sequential(
            conv_bn_relu(config.width, config.width),
            conv_bn_relu(config.width, config.width),
            nn.Conv2d(config.width, 5 * joints, 1),
        )

    def predict(self, depth: torch.Tensor) -> dict:
        features = self.backbone(depth)  # (B, C, H, W)
        batch, _, height, width = features.shape
        joints, cells = self.layout.num_joints, height * width
        maps = self.head(features).reshape(batch, joints, 5, cells)
        closeness, direction, logits = maps[:, :, 0], F.normalize(maps[:, :, 1:4], dim=2), maps[:, :, 4]
        points = _cell_points(depth[:, :1], height, width)  # (B, 3, N)
        hand = points[:, 2] < BACKGROUND  # (B, N)
        hand = hand | ~hand.any(dim=1, keepdim=True)  # a crop without a hand lets every cell vote
        weights = torch.softmax(logits.masked_fill(~hand[:, None], float("-inf")), dim=-1)  # (B, J, N)
        votes = points[:, None] + RADIUS * (1 - closeness)[:, :, None] * direction  # (B, J, 3, N)
        uvd_norm = torch.einsum("bjn,bjcn->bjc", weights, votes)

        def dense_loss(target_uvd_norm: torch.Tensor) -> dict[str, torch.Tensor]:
            offset = target_uvd_norm[..., None] - points[:, None]  # (B, J, 3, N)
            distance = offset.norm(dim=2)  # (B, J, N)
            near = (distance < RADIUS) & hand[:, None]
            target_closeness = (1 - distance / RADIUS).clamp_min(0.0)
            closeness_loss = F.smooth_l1_loss(closeness * hand[:, None], target_closeness * hand[:, None])
            unit = offset / distance[:, :, None].clamp_min(1e-6)
            direction_error = F.smooth_l1_loss(direction, unit, reduction="none").sum(dim=2)  # (B, J, N)
            direction_loss = (direction_error * near).sum() / near.sum().clamp_min(1)
            return {"dense": DENSE_WEIGHT * (closeness_loss + direction_loss)}

        return {"uvd_norm": uvd_norm, "heatmaps": [], "auxiliary": dense_loss}


def _cell_points(depth: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, 1, S, S) normalised depth -> (B, 3, H W): each cell's centre (u, v) and its nearest depth."""
    batch = depth.shape[0]
    pooled = -F.adaptive_max_pool2d(-depth, (height, width)).reshape(batch, -1)
    v, u = torch.meshgrid(cell_centres(height, depth), cell_centres(width, depth), indexing="ij")
    plane = torch.stack([u.reshape(-1), v.reshape(-1)]).expand(batch, 2, -1)
    return torch.cat([plane, pooled[:, None]], dim=1)
