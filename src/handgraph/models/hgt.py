"""``hgt``, the hand graph transformer: SIA-GCN heatmaps, one token per joint, graph-transformer layers with
structural encodings, and non-autoregressive decoding of all joints at once. The shipped checkpoint's model;
the factory's default is now ``hgt_interleaved``, which runs the same parts interleaved, block by block.

1. ``SIAGCNBody`` gives refined heatmaps and features; each joint's first estimate (u, v, d) is either
   (``first_estimate``) integral regression (soft-argmax of the refined heatmap, the depth expected from a
   depth map) or a dense vote (``dense_vote``): every hand cell votes for the joint with a 3D offset, weighted
   by the softmax of the refined heatmap over the hand's cells, so the SIA-GCN layers refine the vote's
   weights. The vote's own maps and the estimate itself are supervised as well (``auxiliary``).
2. Token j = W_f (features pooled under joint j's weights over the cells: the softmax of its refined heatmap,
   over the hand's cells for the vote) + W_e (joint j's estimate).
3. Structural encodings, added to tokens and queries: Laplacian eigenvectors of the hand graph (Dwivedi &
   Bresson 2020; their signs flipped at random in training), an embedding of the joint's finger and of its
   position along the chain (the kinematic structure), and in every attention a learned bias per head and
   hop distance between the two joints.
4. Encoder layers mix the tokens; decoder layers turn J learned joint queries into all joints at once by
   attending to each other and to the tokens (Hand-Transformer style, non-autoregressive).
5. A linear head, nearly zero at initialisation, gives each joint a correction to its first estimate.
"""

from __future__ import annotations

import torch
from torch import nn

from handgraph.layers.encodings import hop_distances
from handgraph.layers.graph_transformer import GraphDecoderLayer, GraphEncoderLayer, StructuralEncoding
from handgraph.models.backbone import conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.dense_vote import vote_field
from handgraph.models.integral import integral_uvd
from handgraph.models.sia_gcn import SIAGCNBody


class HandGraphTransformer(PoseModel):
    """See the module docstring."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        joints, dim = self.layout.num_joints, config.transformer_dim
        voting = config.first_estimate == "vote"
        self.body = SIAGCNBody(self.config, self.layout, depth_maps=not voting)
        # Per cell and joint: a closeness and a 3D direction to the joint (the vote's offsets).
        self.vote = (
            nn.Sequential(conv_bn_relu(config.width, config.width), nn.Conv2d(config.width, 4 * joints, 1))
            if voting
            else None
        )
        self.register_buffer("hops", torch.tensor(hop_distances(self.layout)), persistent=False)
        max_hops = int(self.hops.max())
        self.pool_features = nn.Linear(config.width, dim)
        self.embed_estimate = nn.Linear(3, dim)
        self.structure = StructuralEncoding(self.layout, dim, config.laplacian_dims)
        self.encoder = nn.ModuleList(
            GraphEncoderLayer(dim, config.transformer_heads, max_hops) for _ in range(config.encoder_layers)
        )
        self.queries = nn.Parameter(torch.randn(joints, dim) * 0.02)
        self.decoder = nn.ModuleList(
            GraphDecoderLayer(dim, config.transformer_heads, max_hops) for _ in range(config.decoder_layers)
        )
        self.norm = nn.LayerNorm(dim)
        self.correction = nn.Linear(dim, 3)
        # Nearly zero: the model starts at the heatmap estimate, yet gradients reach the transformer at once.
        nn.init.normal_(self.correction.weight, std=1e-3)
        nn.init.zeros_(self.correction.bias)

    def first_estimate(
        self, depth: torch.Tensor, body: dict, logits: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, object]:
        """(B, J, 3) estimate, (B, J, H, W) weights of the cells, and the loss of its own parts (or None). The
        weights come from ``logits`` (B, J, H, W), by default the body's refined heatmaps."""
        logits = body["refined"] if logits is None else logits
        if self.vote is None:
            return *integral_uvd(logits, body["depth_maps"]), None
        batch, joints, height, width = logits.shape
        maps = self.vote(body["features"]).reshape(batch, joints, 4, height * width)
        field = vote_field(maps, depth, height, width)
        estimate, weights = field.vote(logits)
        dense = field.loss(weight=1.0)

        def auxiliary(target_uvd_norm: torch.Tensor) -> dict[str, torch.Tensor]:
            return {**dense(target_uvd_norm), "estimate": (estimate - target_uvd_norm).abs().mean()}

        return estimate, weights.reshape(batch, joints, height, width), auxiliary

    def predict(self, depth: torch.Tensor) -> dict:
        body = self.body(depth)
        estimate, probability, auxiliary = self.first_estimate(depth, body)  # (B, J, 3), (B, J, H, W)
        features = body["features"].flatten(2)  # (B, C, H W)
        pooled = probability.flatten(2) @ features.transpose(1, 2)  # (B, J, C)
        structure = self.structure()  # (J, D)
        tokens = self.pool_features(pooled) + self.embed_estimate(estimate) + structure
        for layer in self.encoder:
            tokens = layer(tokens, self.hops)
        queries = (self.queries + structure).expand(depth.shape[0], -1, -1)
        for layer in self.decoder:
            queries = layer(queries, tokens, self.hops)
        uvd_norm = estimate + self.correction(self.norm(queries))
        output = {"uvd_norm": uvd_norm, "heatmaps": [body["initial"], body["refined"]], "estimate": estimate}
        return output if auxiliary is None else {**output, "auxiliary": auxiliary}
