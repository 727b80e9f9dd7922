"""The CNN every model starts from: residual blocks at output stride 4, with one stride-8 context branch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """x + BN(conv(ReLU(BN(conv(x))))), then ReLU (He et al. 2016). Shapes: (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(channels, channels),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class Backbone(nn.Module):
    """(B, in_channels, S, S) -> (B, width, S/4, S/4).

    Two strided convolutions reach stride 4 (a 32 x 32 map for S = 128, fine enough for heatmaps), residual
    blocks refine it, and a branch at stride 8 with twice the channels widens the receptive field to the
    whole hand before it is upsampled and added back.
    """

    def __init__(self, in_channels: int, width: int, blocks: int):
        super().__init__()
        self.stem = nn.Sequential(
            conv_bn_relu(in_channels, width // 2, stride=2), conv_bn_relu(width // 2, width, stride=2)
        )
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.context = nn.Sequential(conv_bn_relu(width, 2 * width, stride=2), ResidualBlock(2 * width))
        self.merge = nn.Conv2d(2 * width, width, 1)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.blocks(self.stem(x))
        context = F.interpolate(self.context(features), size=features.shape[-2:], mode="bilinear", align_corners=False)
        return F.relu(features + self.merge(context))
