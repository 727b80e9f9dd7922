"""``a2j``: anchor-to-joint regression (Xiong et al., "A2J: Anchor-to-Joint Regression Network for 3D
Articulated Pose Estimation from a Single Depth Image", ICCV 2019), sized like handgraph's other models.

Anchors a stand every 4 input pixels (one per cell of the stride-4 map, at its centre S(a), normalised). Three
branches on the backbone's features predict, per anchor and joint, an in-plane offset O_j(a), a depth D_j(a) and
a response P_j(a). The responses become weights by a softmax over the anchors, and every joint is their vote:

    w_j(a) = exp P_j(a) / sum_a' exp P_j(a')
    (u, v)_j = sum_a w_j(a) (S(a) + O_j(a)),   d_j = sum_a w_j(a) D_j(a)

The paper's second loss, the informative-anchor surrounding term, asks the weighted anchors themselves to
surround the joint, sum_a w_j(a) S(a) ~ (u, v)_j*, so that the anchors that vote lie around the joint and see it
from several sides; its weight against the joint loss is the paper's 1/3 (lambda = 3 on the joint loss).
"""

from __future__ import annotations

import torch
from torch import nn

from handgraph.geometry.heatmaps import cell_centres
from handgraph.models.backbone import Backbone, conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig

SURROUND_WEIGHT = 1.0 / 3.0


def _branch(width: int, outputs: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU layers and a 1x1 output, per branch (the paper has four of 256 channels)."""
    return nn.Sequential(conv_bn_relu(width, width), conv_bn_relu(width, width), nn.Conv2d(width, outputs, 1))


class A2JModel(PoseModel):
    """Backbone -> offset, depth and response branches over stride-4 anchors -> weighted vote."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        joints = self.layout.num_joints
        self.offsets = _branch(config.width, 2 * joints)
        self.depths = _branch(config.width, joints)
        self.responses = _branch(config.width, joints)

    def predict(self, depth: torch.Tensor) -> dict:
        features = self.backbone(depth)  # (B, C, H, W)
        batch, _, height, width = features.shape
        joints = self.layout.num_joints
        offsets = self.offsets(features).reshape(batch, joints, 2, height * width)
        depths = self.depths(features).reshape(batch, joints, height * width)
        weights = torch.softmax(self.responses(features).reshape(batch, joints, height * width), dim=-1)
        v, u = torch.meshgrid(cell_centres(height, features), cell_centres(width, features), indexing="ij")
        anchors = torch.stack([u.reshape(-1), v.reshape(-1)])  # (2, A)
        surround = torch.einsum("bja,ca->bjc", weights, anchors)  # (B, J, 2)
        uv = surround + torch.einsum("bja,bjca->bjc", weights, offsets)
        d = (weights * depths).sum(dim=-1, keepdim=True)
        uvd_norm = torch.cat([uv, d], dim=-1)

        def surrounding_loss(target_uvd_norm: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"surround": SURROUND_WEIGHT * (surround - target_uvd_norm[..., :2]).abs().mean()}

        return {"uvd_norm": uvd_norm, "heatmaps": [], "auxiliary": surrounding_loss}
