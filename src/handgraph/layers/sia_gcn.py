"""The SIA-GCN layer: graph convolution whose node features are 2D maps and whose edges are 2D kernels."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class SIAGCNLayer(nn.Module):
    r"""Spatial-information-aware graph convolution (Kong, Ma & Xie, "A Spatial Information Aware Graph
    Neural Network with 2D Convolutions for Hand Pose Estimation", BMVC 2020), with learned edge weights.

    .. math::
        X^{(l+1)} = \sigma\left(\hat{B}\left((C X^{(l)}) \ast F^{(l)}\right) + b\right)

    - :math:`C \in \{0,1\}^{E \times N}`: C[e, j] = 1 when edge e leaves node j, so (C X)_e is the map of
      edge e's source; here a gather of the source maps.
    - :math:`F \in \mathbb{R}^{E \times c \times k \times k}`: one 2D kernel per directed edge (and per
      channel when maps have c > 1 channels); :math:`\ast` convolves each edge's map with its own kernel: one
      depthwise grouped convolution, optionally dilated so that a small kernel reaches along a bone.
    - :math:`\hat{B} \in \mathbb{R}^{N \times E}`: incoming edge -> node. Without attention
      :math:`\hat{B} = D^{-1} B` (B[i, e] = 1 when e enters i, D the in-degree), the mean of the messages a
      node receives. With attention :math:`\hat{B}[i, e] = \mathrm{softmax}_{e \to i}(s_e)`, where
      :math:`s_e = a^\top [\mathrm{pool}(x_{src(e)}), \mathrm{pool}(x_{dst(e)})]` scores the edge from the
      average and maximum of its two endpoint maps; a = 0 at initialisation gives the plain mean.

    Args:
        channels: c, channels of each node's map (the paper's maps are single heatmaps, c = 1).
        edges: (2, E) source and target node of each directed edge (bones both ways and self-loops).
        num_nodes: N.
        kernel_size: k, odd.
        dilation: spacing of the kernel's taps; the kernel reaches dilation * (k - 1) / 2 cells.
        attention: learn the edge weights.
        activation: apply ReLU as sigma (off for a layer that outputs logits).

    Shapes:
        x (B, N, c, H, W) -> (B, N, c, H, W).
    """

    def __init__(
        self,
        channels: int,
        edges: np.ndarray | torch.Tensor,
        num_nodes: int,
        kernel_size: int = 5,
        dilation: int = 1,
        attention: bool = True,
        activation: bool = True,
    ):
        super().__init__()
        edges = torch.as_tensor(np.asarray(edges), dtype=torch.long)
        self.num_edges, self.channels, self.kernel_size, self.dilation = edges.shape[1], channels, kernel_size, dilation
        self.activation = activation
        self.register_buffer("source", edges[0].clone(), persistent=False)
        self.register_buffer("target", edges[1].clone(), persistent=False)
        incoming = torch.zeros(num_nodes, self.num_edges)
        incoming[edges[1], torch.arange(self.num_edges)] = 1.0
        self.register_buffer("incoming", incoming, persistent=False)  # B: (N, E)
        self.weight = nn.Parameter(torch.empty(self.num_edges * channels, 1, kernel_size, kernel_size))  # F
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.bias = nn.Parameter(torch.zeros(num_nodes, channels))
        # No bias: a constant added to every score cancels in the softmax and could never learn.
        self.score = nn.Linear(4 * channels, 1, bias=False) if attention else None
        if self.score is not None:
            nn.init.zeros_(self.score.weight)

    def message(self, x: torch.Tensor) -> torch.Tensor:
        """(C X) * F: each edge's source map through the edge's kernel. (B, N, c, H, W) -> (B, E, c, H, W)."""
        batch, _, channels, height, width = x.shape
        on_edges = x.index_select(1, self.source)  # (B, E, c, H, W)
        out = F.conv2d(
            on_edges.reshape(batch, self.num_edges * channels, height, width),
            self.weight,
            padding=self.dilation * (self.kernel_size // 2),
            dilation=self.dilation,
            groups=self.num_edges * channels,
        )
        return out.reshape(batch, self.num_edges, channels, height, width)

    def edge_weights(self, x: torch.Tensor) -> torch.Tensor:
        """B^ as per-edge weights that sum to 1 over each node's incoming edges. (B, N, c, H, W) -> (B, E)."""
        batch = x.shape[0]
        if self.score is None:
            scores = x.new_zeros(batch, self.num_edges)
        else:
            # a^T [p_src, p_dst] = a_src^T p_src + a_dst^T p_dst: score each node once, then gather per edge.
            pooled = torch.cat([x.mean(dim=(-2, -1)), x.amax(dim=(-2, -1))], dim=-1)  # (B, N, 2c)
            halves = self.score.weight.reshape(2, -1)  # (2, 2c): source half, target half
            per_node = pooled @ halves.T  # (B, N, 2)
            scores = per_node[..., 0].index_select(1, self.source) + per_node[..., 1].index_select(1, self.target)
        # Softmax over each node's incoming edges, shifted by that node's largest score for stability.
        masked = torch.where(self.incoming.bool(), scores[:, None, :], torch.full_like(scores[:, None, :], -torch.inf))
        node_max = masked.amax(dim=-1)  # (B, N)
        weights = torch.exp(scores - node_max.index_select(1, self.target))
        totals = weights @ self.incoming.T  # (B, N)
        return weights / totals.index_select(1, self.target)

    def aggregate(self, messages: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """B^ (messages): one batched product with the weighted incidence matrix. (B, E, c, H, W), (B, E) ->
        (B, N, c, H, W)."""
        batch, edges, channels, height, width = messages.shape
        weighted_incidence = self.incoming[None] * weights[:, None, :]  # (B, N, E)
        out = torch.bmm(weighted_incidence, messages.reshape(batch, edges, channels * height * width))
        return out.reshape(batch, -1, channels, height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.aggregate(self.message(x), self.edge_weights(x)) + self.bias[None, :, :, None, None]
        return F.relu(out) if self.activation else out
