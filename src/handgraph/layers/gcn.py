"""The plain graph convolution on flattened node features: the baseline SIA-GCN argues against."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def normalized_adjacency(edges: np.ndarray, num_nodes: int) -> torch.Tensor:
    """D^-1/2 (A + I) D^-1/2 for the undirected graph of ``edges`` (2, E), self-loops added once. (N, N)."""
    adjacency = torch.eye(num_nodes)
    adjacency[torch.as_tensor(edges[0]), torch.as_tensor(edges[1])] = 1.0
    adjacency = torch.maximum(adjacency, adjacency.T)
    scale = adjacency.sum(dim=1).rsqrt()
    return scale[:, None] * adjacency * scale[None, :]


class GraphConvolution(nn.Module):
    r"""Kipf & Welling's graph convolution, :math:`H' = \sigma(\hat{D}^{-1/2} \tilde{A} \hat{D}^{-1/2} H W)`,
    with one weight matrix W shared by every node.

    Shapes: (B, N, F_in) -> (B, N, F_out). On a joint's flattened H x W heatmap, F_in = F_out = H W, so W
    has (H W)^2 entries and the map's 2D structure is lost: the design SIA-GCN replaces.
    """

    def __init__(self, in_features: int, out_features: int, edges: np.ndarray, num_nodes: int, activation: bool = True):
        super().__init__()
        self.register_buffer("adjacency", normalized_adjacency(edges, num_nodes), persistent=False)
        self.linear = nn.Linear(in_features, out_features)
        self.activation = activation

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out = self.adjacency @ self.linear(h)
        return torch.relu(out) if self.activation else out
