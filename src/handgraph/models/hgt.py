"""``hgt``, the hand graph transformer: SIA-GCN heatmaps, one token per joint, graph-transformer layers with
structural encodings, and non-autoregressive decoding of all joints at once. The default model.

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

from handgraph.layers.encodings import branch_ids, chain_positions, hop_distances, laplacian_eigenvectors
from handgraph.layers.graph_transformer import GraphDecoderLayer, GraphEncoderLayer
from handgraph.models.backbone import conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.dense_vote import cell_points, dense_loss, dense_vote, hand_cells, unit_vectors
from handgraph.models.integral import integral_uvd
from handgraph.models.sia_gcn import SIAGCNBody


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
        closeness, direction = maps[:, :, 0], unit_vectors(maps[:, :, 1:])
        points = cell_points(depth[:, :1], height, width)  # (B, 3, N)
        hand = hand_cells(points)  # (B, N)
        estimate, weights = dense_vote(logits.flatten(2), closeness, direction, points, hand)
        dense = dense_loss(closeness, direction, points, hand, weight=1.0)

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
