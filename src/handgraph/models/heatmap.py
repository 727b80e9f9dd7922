"""``heatmap``: residual CNN of stride 4, per-joint heatmaps and depth maps, soft-argmax decoding."""

from __future__ import annotations

import torch

from handgraph.models.backbone import Backbone
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.integral import IntegralHead, integral_uvd


class HeatmapModel(PoseModel):
    """Backbone -> 1x1 heads -> integral regression."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        self.head = IntegralHead(config.width, self.layout.num_joints)

    def predict(self, depth: torch.Tensor) -> dict:
        logits, depth_maps = self.head(self.backbone(depth))
        uvd_norm, _ = integral_uvd(logits, depth_maps)
        return {"uvd_norm": uvd_norm, "heatmaps": [logits]}
