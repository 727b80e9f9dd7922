"""One block of the interleaved hand graph transformer: SIA-GCN on the joint maps and hop-biased attention on
the joint tokens, each side written into the other."""

from __future__ import annotations

import torch
from torch import nn

from handgraph.layers.graph_transformer import GraphEncoderLayer
from handgraph.layers.sia_gcn import SIAGCNLayer


class InterleavedBlock(nn.Module):
    r"""A graph-transformer block whose graph operation is SIA-GCN itself.

    Every joint j carries a c-channel map :math:`X_j \in \mathbb{R}^{c \times h \times w}` and a token
    :math:`t_j \in \mathbb{R}^D`. One block:

    .. math::
        X &\leftarrow X + \sigma\left(\hat{B}\left((C X) \ast F\right) + b\right)
            && \text{maps pass along the bones, one 2D kernel per edge (SIA-GCN)} \\
        t_j &\leftarrow t_j + W_{in} \operatorname{vec}(X_j)
            && \text{map j informs token j} \\
        T &\leftarrow T + \mathrm{MHA}_{hop}(\mathrm{LN}(T)), \quad T \leftarrow T + \mathrm{FFN}(\mathrm{LN}(T))
            && \text{tokens attend to each other, biased by hop distance} \\
        X_j &\leftarrow X_j + \operatorname{unvec}(W_{out} \mathrm{LN}(t_j))
            && \text{token j writes into map j}

    :math:`W_{in} \in \mathbb{R}^{D \times c h w}` and :math:`W_{out} \in \mathbb{R}^{c h w \times D}` are
    shared by all joints (each joint's identity is in its token's structural encoding and in the per-edge
    kernels); :math:`W_{out}` starts nearly at zero, so at initialisation the maps are SIA-GCN's alone. Reading the
    whole map (not a pooled summary) keeps where the evidence lies; writing a whole map lets the global context
    add evidence where a joint's own map has none (an occluded finger).

    Shapes: maps (B, J, c, h, w), tokens (B, J, D), hops (J, J) long -> maps, tokens of the same shapes.
    """

    def __init__(self, graph: SIAGCNLayer, map_size: tuple[int, int], dim: int, heads: int, max_hops: int):
        super().__init__()
        self.graph = graph
        cells = graph.channels * map_size[0] * map_size[1]
        self.map_to_token = nn.Linear(cells, dim)
        self.attention = GraphEncoderLayer(dim, heads, max_hops)
        self.norm_out = nn.LayerNorm(dim)
        self.token_to_map = nn.Linear(dim, cells)
        # Nearly zero: the maps start as SIA-GCN's alone, yet gradients reach the token side at once.
        nn.init.normal_(self.token_to_map.weight, std=1e-3)
        nn.init.zeros_(self.token_to_map.bias)

    def forward(
        self, maps: torch.Tensor, tokens: torch.Tensor, hops: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        maps = maps + self.graph(maps)  # (B, J, c, h, w)
        tokens = tokens + self.map_to_token(maps.flatten(2))  # (B, J, D)
        tokens = self.attention(tokens, hops)
        maps = maps + self.token_to_map(self.norm_out(tokens)).reshape(maps.shape)
        return maps, tokens
