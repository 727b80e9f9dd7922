"""Two other ways to compute ``SIAGCNLayer``, for tests and benchmarks: the formula edge by edge (slow and
obviously right) and a dense formulation over all N x N node pairs (what the batched layer avoids)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from handgraph.layers.sia_gcn import SIAGCNLayer, score_activation


def _edges(layer: SIAGCNLayer) -> np.ndarray:
    return torch.stack([layer.source, layer.target]).cpu().numpy()


def _pooled(x: torch.Tensor, node: int) -> torch.Tensor:
    return torch.cat([x[:, node].mean(dim=(-2, -1)), x[:, node].amax(dim=(-2, -1))], -1)  # (B, 2c)


def loop_forward(layer: SIAGCNLayer, x: torch.Tensor) -> torch.Tensor:
    """The layer with a Python loop over edges and nodes: one small convolution per edge. (B, N, c, H, W)."""
    edges = _edges(layer)
    batch, nodes, channels, _, _ = x.shape
    kernels = layer.weight.reshape(edges.shape[1], channels, 1, layer.kernel_size, layer.kernel_size)
    padding = layer.dilation * (layer.kernel_size // 2)
    messages, scores = [], []
    for edge in range(edges.shape[1]):
        source, target = int(edges[0, edge]), int(edges[1, edge])
        messages.append(
            F.conv2d(x[:, source], kernels[edge], padding=padding, dilation=layer.dilation, groups=channels)
        )
        if layer.score is None:
            scores.append(torch.zeros(batch, dtype=x.dtype, device=x.device))
        else:
            score = layer.score(torch.cat([_pooled(x, source), _pooled(x, target)], -1)).squeeze(-1)  # (B,)
            scores.append(score_activation(score, layer.score_kind))
    outputs = []
    for node in range(nodes):
        incoming = [edge for edge in range(edges.shape[1]) if edges[1, edge] == node]
        weights = torch.softmax(torch.stack([scores[edge] for edge in incoming], -1), dim=-1)  # (B, in-degree)
        total = sum(weights[:, k, None, None, None] * messages[edge] for k, edge in enumerate(incoming))
        outputs.append(total + layer.bias[node][None, :, None, None])
    out = torch.stack(outputs, dim=1)
    return torch.relu(out) if layer.activation else out


class DenseSIAGCN:
    """The layer over the dense N x N adjacency: a kernel for every ordered node pair (zero where there is no
    edge) and a masked N x N softmax, one grouped convolution with N^2 c groups and one batched product.
    It computes the same as the layer with N^2 / E times the convolution work (441 / 61 on the hand graph)."""

    def __init__(self, layer: SIAGCNLayer):
        self.layer = layer
        nodes = layer.incoming.shape[0]
        self.nodes = nodes
        self.pair = (layer.target * nodes + layer.source).long()  # edge -> flat (target, source) pair
        mask = torch.zeros(nodes * nodes, dtype=torch.bool, device=layer.weight.device)
        mask[self.pair] = True
        self.mask = mask.reshape(nodes, nodes)  # (N target, N source)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        layer, nodes = self.layer, self.nodes
        batch, _, channels, height, width = x.shape
        size = layer.kernel_size
        kernels = x.new_zeros(nodes * nodes, channels, size, size)
        kernels = kernels.index_copy(0, self.pair, layer.weight.reshape(-1, channels, size, size))
        pairs = x[:, None].expand(batch, nodes, nodes, channels, height, width)  # [b, i, j] = x_j
        messages = F.conv2d(
            pairs.reshape(batch, nodes * nodes * channels, height, width),
            kernels.reshape(nodes * nodes * channels, 1, size, size),
            padding=layer.dilation * (size // 2),
            dilation=layer.dilation,
            groups=nodes * nodes * channels,
        ).reshape(batch, nodes, nodes, channels, height, width)
        if layer.score is None:
            scores = x.new_zeros(batch, nodes, nodes)
        else:
            pooled = torch.cat([x.mean(dim=(-2, -1)), x.amax(dim=(-2, -1))], dim=-1)  # (B, N, 2c)
            source = pooled[:, None].expand(batch, nodes, nodes, -1)
            target = pooled[:, :, None].expand(batch, nodes, nodes, -1)
            scores = layer.score(torch.cat([source, target], dim=-1)).squeeze(-1)  # (B, N target, N source)
            scores = score_activation(scores, layer.score_kind)
        weights = torch.softmax(scores.masked_fill(~self.mask, -torch.inf), dim=-1)
        out = torch.einsum("bij,bijchw->bichw", weights, messages) + layer.bias[None, :, :, None, None]
        return torch.relu(out) if layer.activation else out
