"""``gcn_flat``: the heatmap model followed by plain GCN layers on flattened heatmaps (the baseline of the
SIA-GCN paper): every joint's H x W map becomes one vector, and one (H W) x (H W) weight serves all joints."""

from __future__ import annotations

import torch

from handgraph.geometry.skeleton import graph_edges
from handgraph.layers.gcn import GraphConvolution
from handgraph.models.backbone import Backbone
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.integral import IntegralHead, integral_uvd


class FlatGCNModel(PoseModel):
    """Initial heatmaps refined by residual GCN layers on their flattened logits; depth maps as in ``heatmap``."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        self.head = IntegralHead(config.width, self.layout.num_joints)
        cells = (config.input_size // 4) ** 2
        edges = graph_edges(self.layout, self_loops=False)
        self.layers = torch.nn.ModuleList(
            GraphConvolution(cells, cells, edges, self.layout.num_joints, activation=layer < config.gcn_layers - 1)
            for layer in range(config.gcn_layers)
        )

    def predict(self, depth: torch.Tensor) -> dict:
        initial, depth_maps = self.head(self.backbone(depth))
        flat = initial.flatten(2)  # (B, J, H W)
        refined = flat
        for layer in self.layers:
            refined = layer(refined)
        refined = (flat + refined).reshape(initial.shape)
        uvd_norm, _ = integral_uvd(refined, depth_maps)
        return {"uvd_norm": uvd_norm, "heatmaps": [initial, refined]}
