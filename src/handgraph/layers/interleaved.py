"""One block of the interleaved hand graph transformer: SIA-GCN on the joint maps and hop-biased attention on
the joint tokens, each side written into the other."""

from __future__ import annotations

import torch
from torch import nn

from handgraph.geometry.heatmaps import gaussian_heatmaps
from handgraph.layers.graph_transformer import GraphEncoderLayer
from handgraph.layers.sia_gcn import SIAGCNLayer

BUMP_SIGMA = 1.0
"""Deviation, in cells of the joint maps, of the Gaussian a token writes into its map."""


class InterleavedBlock(nn.Module):
    r"""A graph-transformer block whose graph operation is SIA-GCN itself.

    Every joint j carries a c-channel map :math:`X_j \in \mathbb{R}^{c \times h \times w}` and a token
    :math:`t_j \in \mathbb{R}^D`. One block:

    .. math::
        X &\leftarrow X + \sigma\left(\hat{B}\left((C X) \ast F\right) + b\right)
            && \text{maps pass along the bones, one 2D kernel per edge (SIA-GCN)} \\
        t_j &\leftarrow t_j + W_{in} \mathrm{LN}(\operatorname{vec} X_j) + b_{in}
            && \text{map j informs token j} \\
        T &\leftarrow T + \mathrm{MHA}_{hop}(\mathrm{LN}(T)), \quad T \leftarrow T + \mathrm{FFN}(\mathrm{LN}(T))
            && \text{tokens attend to each other, biased by hop distance} \\
        X_j &\leftarrow (1 + \gamma_j) \odot X_j + a_j \, G(\mu_j),
            \quad [\gamma_j, a_j, \mu'_j] = W_{out} \mathrm{LN}(t_j) + b_{out}, \; \mu_j = \tanh \mu'_j
            && \text{token j modulates map j}

    - The read is the whole map, layer-normalised (heatmap logits have no fixed level: the softmax ignores
      it), so it keeps where the evidence lies and stays on the tokens' scale.
    - The write scales each channel of the map (:math:`\gamma_j \in \mathbb{R}^c`, FiLM) and adds a
      Gaussian bump :math:`G(\mu_j)` of ``BUMP_SIGMA`` cells, of height :math:`a_j \in \mathbb{R}^c` per
      channel, where token j places its joint (:math:`\mu_j` in the map's normalised coordinates): global
      context adds evidence where a joint's own map has none (an occluded finger), at any map size.
    - :math:`W_{in}, W_{out}` are shared by all joints: each joint's identity lives in its token's structural
      encoding and in SIA-GCN's per-edge kernels. :math:`W_{out}` starts nearly at zero, so at initialisation
      the maps are SIA-GCN's alone.

    Shapes: maps (B, J, c, h, w), tokens (B, J, D), hops (J, J) long -> maps, tokens of the same shapes.
    """

    def __init__(self, graph: SIAGCNLayer, map_size: tuple[int, int], dim: int, heads: int, max_hops: int):
        super().__init__()
        self.graph, self.channels = graph, graph.channels
        cells = graph.channels * map_size[0] * map_size[1]
        self.norm_in = nn.LayerNorm(cells)
        self.map_to_token = nn.Linear(cells, dim)
        self.attention = GraphEncoderLayer(dim, heads, max_hops)
        self.norm_out = nn.LayerNorm(dim)
        self.token_to_map = nn.Linear(dim, 2 * graph.channels + 2)  # gamma (c), a (c), mu' (2)
        with torch.no_grad():  # nearly zero: the maps start as SIA-GCN's, yet gradients reach the tokens at once
            self.token_to_map.weight[: 2 * graph.channels].normal_(std=1e-3)
            self.token_to_map.bias.zero_()

    def forward(
        self, maps: torch.Tensor, tokens: torch.Tensor, hops: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, J, c, h, w), (B, J, D), (J, J) -> refined maps and tokens; see the class docstring."""
        maps = maps + self.graph(maps)
        tokens = tokens + self.map_to_token(self.norm_in(maps.flatten(2)))  # (B, J, D)
        tokens = self.attention(tokens, hops)
        return self.written(maps, tokens), tokens

    def written(self, maps: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Each token's write into its joint's map: (B, J, c, h, w), (B, J, D) -> (B, J, c, h, w)."""
        c = self.channels
        out = self.token_to_map(self.norm_out(tokens))  # (B, J, 2c + 2)
        gamma, height, centre = out[..., :c], out[..., c : 2 * c], torch.tanh(out[..., 2 * c :])
        bump = gaussian_heatmaps(centre, maps.shape[-2], maps.shape[-1], BUMP_SIGMA)  # (B, J, h, w)
        return (1 + gamma)[..., None, None] * maps + height[..., None, None] * bump[:, :, None]
