"""``regress``: CNN, global pooling and direct regression of J x 3 coordinates (the DeepPrior++ family)."""

from __future__ import annotations

import torch
from torch import nn

from handgraph.models.backbone import Backbone
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig


class RegressionModel(PoseModel):
    """Backbone -> global average pooling -> MLP -> (B, J, 3) normalised uvd."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        joints = self.layout.num_joints
        self.regressor = nn.Sequential(
            nn.Linear(config.width, 256), nn.ReLU(inplace=True), nn.Dropout(0.1), nn.Linear(256, 3 * joints)
        )

    def predict(self, depth: torch.Tensor) -> dict:
        pooled = self.backbone(depth).mean(dim=(-2, -1))  # (B, C)
        uvd_norm = self.regressor(pooled).reshape(depth.shape[0], self.layout.num_joints, 3)
        return {"uvd_norm": uvd_norm, "heatmaps": []}
