"""``awr``: adaptive weighting regression (Huang et al., "AWR: Adaptive Weighting Regression for 3D Hand Pose
Estimation", AAAI 2020), sized like handgraph's other models.

Per stride-4 cell and joint the network predicts a closeness H_j(p), a unit direction U_j(p) and a weight logit
W_j(p); the joint is the dense vote of the hand's cells (``dense_vote``, where the formula is):

    J_j = sum_p softmax_p(W_j)(p) (P_p + r (1 - H_j(p)) U_j(p))

The weights are learned end to end, through the joint loss alone (the adaptive weighting); the dense maps are
also supervised directly (the dense loss).
"""

from __future__ import annotations

import torch
from torch import nn

from handgraph.models.backbone import Backbone, conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.dense_vote import vote_field

DENSE_WEIGHT = 1.0


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
        maps = self.head(features).reshape(batch, self.layout.num_joints, 5, height * width)
        field = vote_field(maps[:, :, :4], depth, height, width)
        uvd_norm, _ = field.vote(maps[:, :, 4])
        return {"uvd_norm": uvd_norm, "heatmaps": [], "auxiliary": field.loss(DENSE_WEIGHT)}
