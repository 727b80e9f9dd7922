"""Graph-transformer blocks over joint tokens (after Dwivedi & Bresson, "A Generalization of Transformer
Networks to Graphs", 2020): attention whose logits carry a learned bias per head and per hop distance on the
hand graph, so that attention follows the skeleton and still reaches every joint; and the structural encoding
that tells the joint tokens apart."""

from __future__ import annotations

import torch
from torch import nn

from handgraph.layers.encodings import branch_ids, chain_positions, laplacian_eigenvectors


class HopBiasedAttention(nn.Module):
    r"""Multi-head attention with a structural bias,

    .. math::
        \mathrm{softmax}\left(\frac{(Q W_q)(K W_k)^\top}{\sqrt{d}} + b_h[\mathrm{hop}(i, j)]\right) V W_v

    where :math:`b_h` is a learned scalar per head and hop distance (0 = the same joint).

    Shapes: queries (B, Nq, D), keys (B, Nk, D), hops (Nq, Nk) long -> (B, Nq, D).
    """

    def __init__(self, dim: int, heads: int, max_hops: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.query, self.key, self.value, self.out = (nn.Linear(dim, dim) for _ in range(4))
        self.hop_bias = nn.Embedding(max_hops + 1, heads)
        nn.init.zeros_(self.hop_bias.weight)

    def _split(self, tokens: torch.Tensor) -> torch.Tensor:
        batch, count, _ = tokens.shape
        return tokens.reshape(batch, count, self.heads, self.head_dim).transpose(1, 2)  # (B, h, N, d)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, hops: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(queries)), self._split(self.key(keys)), self._split(self.value(keys))
        logits = q @ k.transpose(-2, -1) / self.head_dim**0.5  # (B, h, Nq, Nk)
        logits = logits + self.hop_bias(hops).permute(2, 0, 1)[None]
        mixed = torch.softmax(logits, dim=-1) @ v  # (B, h, Nq, d)
        return self.out(mixed.transpose(1, 2).reshape(queries.shape))


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, expansion: int = 2):
        super().__init__(nn.Linear(dim, expansion * dim), nn.GELU(), nn.Linear(expansion * dim, dim))


class GraphEncoderLayer(nn.Module):
    """Pre-norm block: hop-biased self-attention over the joint tokens, then a feed-forward network."""

    def __init__(self, dim: int, heads: int, max_hops: int):
        super().__init__()
        self.norm_attention, self.norm_feed = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = HopBiasedAttention(dim, heads, max_hops)
        self.feed = FeedForward(dim)

    def forward(self, tokens: torch.Tensor, hops: torch.Tensor) -> torch.Tensor:
        normed = self.norm_attention(tokens)
        tokens = tokens + self.attention(normed, normed, hops)
        return tokens + self.feed(self.norm_feed(tokens))


class GraphDecoderLayer(nn.Module):
    """Non-autoregressive decoding: joint queries attend to each other and to the encoded joint tokens, all
    joints at once; both attentions carry the hop bias of the pair of joints."""

    def __init__(self, dim: int, heads: int, max_hops: int):
        super().__init__()
        self.norm_self, self.norm_cross, self.norm_memory, self.norm_feed = (nn.LayerNorm(dim) for _ in range(4))
        self.self_attention = HopBiasedAttention(dim, heads, max_hops)
        self.cross_attention = HopBiasedAttention(dim, heads, max_hops)
        self.feed = FeedForward(dim)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor, hops: torch.Tensor) -> torch.Tensor:
        normed = self.norm_self(queries)
        queries = queries + self.self_attention(normed, normed, hops)
        queries = queries + self.cross_attention(self.norm_cross(queries), self.norm_memory(memory), hops)
        return queries + self.feed(self.norm_feed(queries))


class StructuralEncoding(nn.Module):
    """Laplacian eigenvectors + finger embedding + chain-position embedding, one vector per joint. -> (J, D)"""

    def __init__(self, layout, dim: int, laplacian_dims: int):
        super().__init__()
        joints = layout.num_joints
        self.register_buffer(
            "laplacian", torch.tensor(laplacian_eigenvectors(layout, laplacian_dims), dtype=torch.float32)
        )
        self.register_buffer("branch", torch.tensor(branch_ids(layout)), persistent=False)
        self.register_buffer("position", torch.tensor(chain_positions(layout)), persistent=False)
        self.project_laplacian = nn.Linear(laplacian_dims, dim)
        self.branch_embedding = nn.Embedding(joints, dim)
        self.position_embedding = nn.Embedding(joints, dim)

    def forward(self) -> torch.Tensor:
        laplacian = self.laplacian
        if self.training:  # eigenvectors are defined up to sign: learn to ignore it
            laplacian = laplacian * (torch.randint(0, 2, (1, laplacian.shape[1]), device=laplacian.device) * 2 - 1)
        return (
            self.project_laplacian(laplacian)
            + self.branch_embedding(self.branch)
            + self.position_embedding(self.position)
        )
