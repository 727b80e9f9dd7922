"""``sia_gcn``: the heatmap model whose joint maps pass along the hand's bones through SIA-GCN layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handgraph.geometry.skeleton import graph_edges
from handgraph.layers.sia_gcn import SIAGCNLayer
from handgraph.models.backbone import Backbone
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.integral import IntegralHead, integral_uvd


def joint_maps(
    initial: torch.Tensor, nodes: nn.Module | None, features: torch.Tensor, channels: int, pool: int
) -> torch.Tensor:
    """Each joint's c-channel node map: its initial heatmap logits and c - 1 channels that ``nodes`` (a 1x1
    convolution, None for c = 1) projects from the backbone's features, average-pooled by ``pool``.

    (B, J, H, W), features (B, C, H, W) -> (B, J, c, H / pool, W / pool)."""
    batch, joints, height, width = initial.shape
    maps = initial[:, :, None]  # (B, J, 1, H, W)
    if nodes is not None:
        maps = torch.cat([maps, nodes(features).reshape(batch, joints, channels - 1, height, width)], dim=2)
    if pool > 1:
        maps = F.avg_pool2d(maps.flatten(1, 2), pool).unflatten(1, (joints, channels))
    return maps


def read_out(initial: torch.Tensor, readout: nn.Module, maps: torch.Tensor) -> torch.Tensor:
    """The initial logits (B, J, H, W) corrected by ``readout`` (a 1x1 convolution per joint) of the node maps
    (B, J, c, H / pool, W / pool), upsampled to H x W."""
    correction = readout(maps.flatten(1, 2))  # (B, J, H / pool, W / pool)
    if correction.shape[-2:] != initial.shape[-2:]:
        correction = F.interpolate(correction, size=initial.shape[-2:], mode="bilinear", align_corners=False)
    return initial + correction


def sia_gcn_layer(config: ModelConfig, layout) -> SIAGCNLayer:
    """A SIA-GCN layer on the layout's bones (both ways and self-loops) as the config sizes it."""
    edges = graph_edges(layout, self_loops=True)
    return SIAGCNLayer(config.node_channels, edges, layout.num_joints, config.kernel_size, config.kernel_dilation,
                       config.edge_attention, score=config.edge_score)  # fmt: skip


class SIAGCNBody(nn.Module):
    """Backbone, initial heatmaps, and per-joint maps refined by residual SIA-GCN layers.

    Each joint's node feature is a c-channel map: its initial heatmap logits plus c - 1 channels projected
    from the backbone, average-pooled by ``graph_pool``. Every layer passes maps along bones in both
    directions and self-loops, each edge with its own 2D kernel, and adds the result to its input; a 1x1
    convolution per joint reads a correction out of each node's channels, which is upsampled and added to
    the initial logits.

    Shapes: depth (B, C_in, S, S) -> features (B, C, S/4, S/4), initial and refined logits and depth maps
    (B, J, S/4, S/4; None without ``depth_maps``).
    """

    def __init__(self, config: ModelConfig, layout, depth_maps: bool = True):
        super().__init__()
        joints, channels = layout.num_joints, config.node_channels
        self.channels = channels
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        self.head = IntegralHead(config.width, joints, depth_maps)
        self.nodes = nn.Conv2d(config.width, joints * (channels - 1), 1) if channels > 1 else None
        self.layers = nn.ModuleList(sia_gcn_layer(config, layout) for _ in range(config.gcn_layers))
        self.readout = nn.Conv2d(joints * channels, joints, 1, groups=joints)
        self.pool = config.graph_pool

    def forward(self, depth: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(depth)
        initial, depth_maps = self.head(features)
        maps = joint_maps(initial, self.nodes, features, self.channels, self.pool)
        for layer in self.layers:
            maps = maps + layer(maps)
        refined = read_out(initial, self.readout, maps)
        return {"features": features, "initial": initial, "refined": refined, "depth_maps": depth_maps}


class SIAGCNModel(PoseModel):
    """SIA-GCN body, decoded by integral regression from the refined heatmaps."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.body = SIAGCNBody(self.config, self.layout)

    def predict(self, depth: torch.Tensor) -> dict:
        body = self.body(depth)
        uvd_norm, _ = integral_uvd(body["refined"], body["depth_maps"])
        return {"uvd_norm": uvd_norm, "heatmaps": [body["initial"], body["refined"]]}
