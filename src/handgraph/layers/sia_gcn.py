"""The SIA-GCN layer: graph convolution whose node features are 2D maps and whose edges are 2D kernels."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SCORES = ("linear", "leaky_relu")


def score_activation(scores: torch.Tensor, kind: str) -> torch.Tensor:
    """The attention's edge scores a^T [p_src, p_dst] as they enter the softmax: unchanged, or GAT's LeakyReLU."""
    return F.leaky_relu(scores, 0.2) if kind == "leaky_relu" else scores


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
      average and maximum of its two endpoint maps; a = 0 at initialisation gives the plain mean. The linear
      score's target half is the same for all of a node's incoming edges and cancels in the softmax: the
      weights depend on the source maps only (the shipped checkpoint was trained so). GAT's score,
      :math:`s_e = \mathrm{LeakyReLU}_{0.2}(a^\top [\ldots])`, does not cancel: the weights then depend on
      both ends.

    Args:
        channels: c, channels of each node's map (the paper's maps are single heatmaps, c = 1).
        edges: (2, E) source and target node of each directed edge (bones both ways and self-loops).
        num_nodes: N.
        kernel_size: k, odd.
        dilation: spacing of the kernel's taps; the kernel reaches dilation * (k - 1) / 2 cells.
        attention: learn the edge weights.
        score: the attention's edge score, "linear" or "leaky_relu" (GAT).
        activation: apply ReLU as sigma (off for a layer that outputs logits).

    The layer works on channels-last maps, (B, H, W, c, N) in memory: the depthwise convolution runs
    several times faster in that layout on CPU, and the aggregation becomes one (H W c x E) @ (E x N)
    product per sample.

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
        score: str = "linear",
    ):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"SIAGCNLayer: score must be one of {SCORES}, got {score!r}")
        edges = torch.as_tensor(np.asarray(edges), dtype=torch.long)
        self.num_edges, self.channels, self.kernel_size, self.dilation = edges.shape[1], channels, kernel_size, dilation
        self.num_nodes, self.activation, self.score_kind = num_nodes, activation, score
        self.register_buffer("source", edges[0].clone(), persistent=False)
        self.register_buffer("target", edges[1].clone(), persistent=False)
        incoming = torch.zeros(num_nodes, self.num_edges)
        incoming[edges[1], torch.arange(self.num_edges)] = 1.0
        self.register_buffer("incoming", incoming, persistent=False)  # B: (N, E)
        # 0 where edge e enters node i, -inf elsewhere: added to the scores, a softmax over each row is B^.
        self.register_buffer("incoming_mask", torch.log(incoming), persistent=False)  # (N, E)
        # C as a gather on channel-major node maps: edge map (ch, e) is node map (ch, source[e]).
        gather = (torch.arange(channels)[:, None] * num_nodes + edges[0][None, :]).reshape(-1)  # (c E,)
        self.register_buffer("gather", gather, persistent=False)
        self.weight = nn.Parameter(torch.empty(self.num_edges * channels, 1, kernel_size, kernel_size))  # F
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.bias = nn.Parameter(torch.zeros(num_nodes, channels))
        # No bias: a constant added to every score cancels in the softmax and could never learn.
        self.score = nn.Linear(4 * channels, 1, bias=False) if attention else None
        if self.score is not None:
            nn.init.zeros_(self.score.weight)

    def message(self, pixels: torch.Tensor, height: int) -> torch.Tensor:
        """(C X) * F on channel-major, channels-last maps: each edge's source map through the edge's kernel.

        (B, H W, c N) -> (B, H W c, E); map (ch, n) at index ch N + n, edge map (ch, e) at ch E + e."""
        batch, pixel_count, _ = pixels.shape
        width, edge_maps = pixel_count // height, self.channels * self.num_edges
        # A gather along the last axis of a 2D view runs several times faster than along the last of three.
        on_edges = pixels.reshape(-1, pixels.shape[-1]).index_select(1, self.gather)  # (B H W, c E)
        on_edges = on_edges.reshape(batch, height, width, edge_maps).permute(0, 3, 1, 2)  # (B, c E, H, W)
        size = self.kernel_size
        kernels = self.weight.reshape(self.num_edges, self.channels, size, size).transpose(0, 1)  # (c, E, k, k)
        out = F.conv2d(
            on_edges,
            kernels.reshape(edge_maps, 1, size, size),
            padding=self.dilation * (size // 2),
            dilation=self.dilation,
            groups=edge_maps,
        )  # (B, c E, H, W), channels-last like its input
        return out.permute(0, 2, 3, 1).reshape(batch, pixel_count * self.channels, self.num_edges)

    def edge_weights(self, pixels: torch.Tensor) -> torch.Tensor:
        """B^: per sample, each node's weights over its incoming edges, summing to 1, zero off them.

        (B, H W, c N) -> (B, N, E)."""
        batch = pixels.shape[0]
        if self.score is None:
            scores = pixels.new_zeros(batch, self.num_edges)
        else:
            mean = pixels.sum(dim=1) * (1.0 / pixels.shape[1])  # sum and scale: cheaper than mean() over this axis
            pooled = torch.cat([mean, pixels.amax(dim=1)], dim=-1)  # (B, 2 c N): mean, max
            pooled = pooled.reshape(batch, 2 * self.channels, self.num_nodes).transpose(1, 2)  # (B, N, 2c)
            # a^T [p_src, p_dst] = a_src^T p_src + a_dst^T p_dst: score each node once, then gather per edge.
            per_node = pooled @ self.score.weight.reshape(2, -1).T  # (B, N, 2): source half, target half
            scores = per_node[..., 0].index_select(1, self.source) + per_node[..., 1].index_select(1, self.target)
            scores = score_activation(scores, self.score_kind)
        return torch.softmax(scores[:, None, :] + self.incoming_mask, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, c, H, W) -> (B, N, c, H, W), in memory as (B, H, W, c, N): another layer given this output
        reads it without a copy."""
        batch, nodes, channels, height, width = x.shape
        pixels = x.permute(0, 3, 4, 2, 1).reshape(batch, height * width, channels * nodes)  # (B, H W, c N)
        messages = self.message(pixels, height)  # (B, H W c, E)
        # b enters the product as its starting value and ReLU runs in place: two fewer passes over the output.
        bias = self.bias.T.expand(height * width, channels, nodes).reshape(1, -1, nodes)  # (1, H W c, N)
        out = torch.baddbmm(bias, messages, self.edge_weights(pixels).transpose(1, 2))  # (B, H W c, N)
        if self.activation:
            out = out.relu_()
        return out.reshape(batch, height, width, channels, nodes).permute(0, 4, 3, 1, 2)
