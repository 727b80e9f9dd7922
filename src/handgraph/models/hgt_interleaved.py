"""``hgt_interleaved``, the hand graph transformer as the seed wrote it: graph-convolution layers embedded in the
transformer. Each block runs SIA-GCN on the joint maps and hop-biased attention on the joint tokens, and writes
each side into the other (``layers.interleaved.InterleavedBlock``), so spatial evidence and global context are
refined together, block after block; every block decodes all joints at once.

Why this design, from the literature the seed points to:

- SIA-GCN (Kong et al., BMVC 2020) keeps a joint's node feature a 2D map and gives each bone its own kernel;
  its refinement is local, one bone's reach per layer. In ``hgt`` it runs once before the transformer and
  adds 0.46 mm (``bench/refinement.py``): the maps it refines are read only by the first estimate.
- Dwivedi & Bresson (2020) make a transformer a graph network by a sparse graph operation inside each block
  and structural (Laplacian) encodings; here the graph operation is SIA-GCN on the maps and the attention
  over all joints keeps a bias per hop distance, so the tokens reach every joint while the maps follow bones.
- Hand-Transformer (Huang et al., ECCV 2020) decodes all joints at once (non-autoregressively) and
  supervises the decoding at every layer. Here each block's tokens are decoded by one shared head, and every
  block's joints are supervised, so decoding can stop at any block (``block_uvd_norm``; the vote under each
  block's maps alone, before the tokens' correction, is ``block_estimates``).

Per block l (maps X at the SIA-GCN resolution, tokens T, the body's initial logits L_0 and vote maps):

    X, T   <- InterleavedBlock_l(X, T)
    L_l     = L_0 + upsample(R_l X)                         R_l: a 1x1 readout per joint
    e_l     = sum_p softmax_p(L_l)(p) vote(p)                the dense vote (``dense_vote``) under block l's maps
    uvd_l   = e_l + W_c LN(T)                                the block's joints

Tokens start as in ``hgt``: features pooled under softmax(L_0), the first vote's estimate, and the structural
encodings (Laplacian eigenvectors, finger and chain position). The loss supervises every L_l as a heatmap,
every block's uvd_l, and the vote's dense maps; the model's output is the last block's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handgraph.geometry.skeleton import graph_edges
from handgraph.layers.encodings import hop_distances
from handgraph.layers.interleaved import InterleavedBlock
from handgraph.layers.sia_gcn import SIAGCNLayer
from handgraph.models.backbone import Backbone, conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.dense_vote import cell_points, dense_loss, dense_vote, hand_cells, unit_vectors
from handgraph.models.hgt import StructuralEncoding
from handgraph.models.integral import IntegralHead
from handgraph.models.sia_gcn import joint_maps


class InterleavedHandGraphTransformer(PoseModel):
    """See the module docstring."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        config = self.config
        joints, channels, dim = self.layout.num_joints, config.node_channels, config.transformer_dim
        self.channels, self.pool = channels, config.graph_pool
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        self.head = IntegralHead(config.width, joints, depths=False)
        self.nodes = nn.Conv2d(config.width, joints * (channels - 1), 1) if channels > 1 else None
        # Per cell and joint: a closeness and a 3D direction to the joint (the vote's offsets).
        self.vote = nn.Sequential(conv_bn_relu(config.width, config.width), nn.Conv2d(config.width, 4 * joints, 1))
        self.register_buffer("hops", torch.tensor(hop_distances(self.layout)), persistent=False)
        side = config.input_size // 4 // config.graph_pool
        edges = graph_edges(self.layout, self_loops=True)
        self.blocks = nn.ModuleList(
            InterleavedBlock(
                SIAGCNLayer(
                    channels,
                    edges,
                    joints,
                    config.kernel_size,
                    config.kernel_dilation,
                    config.edge_attention,
                    score=config.edge_score,
                ),
                (side, side),
                dim,
                config.transformer_heads,
                int(self.hops.max()),
            )
            for _ in range(config.interleaved_blocks)
        )
        self.readouts = nn.ModuleList(
            nn.Conv2d(joints * channels, joints, 1, groups=joints) for _ in range(config.interleaved_blocks)
        )
        self.pool_features = nn.Linear(config.width, dim)
        self.embed_estimate = nn.Linear(3, dim)
        self.structure = StructuralEncoding(self.layout, dim, config.laplacian_dims)
        self.norm = nn.LayerNorm(dim)
        self.correction = nn.Linear(dim, 3)
        # Nearly zero: every block starts at its vote, yet gradients reach the tokens at once.
        nn.init.normal_(self.correction.weight, std=1e-3)
        nn.init.zeros_(self.correction.bias)

    def predict(self, depth: torch.Tensor) -> dict:
        features = self.backbone(depth)  # (B, C, H, W)
        initial, _ = self.head(features)  # (B, J, H, W)
        batch, joints, height, width = initial.shape
        vote_maps = self.vote(features).reshape(batch, joints, 4, height * width)
        closeness, direction = vote_maps[:, :, 0], unit_vectors(vote_maps[:, :, 1:])
        points = cell_points(depth[:, :1], height, width)  # (B, 3, H W)
        hand = hand_cells(points)  # (B, H W)

        def vote(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return dense_vote(logits.flatten(2), closeness, direction, points, hand)  # (B, J, 3), (B, J, H W)

        estimate, weights = vote(initial)
        pooled = weights @ features.flatten(2).transpose(1, 2)  # (B, J, C)
        tokens = self.pool_features(pooled) + self.embed_estimate(estimate) + self.structure()  # (B, J, D)
        maps = joint_maps(initial, self.nodes, features, self.channels, self.pool)  # (B, J, c, h, w)
        heatmaps, block_estimates, block_uvd = [initial], [], []
        for block, readout in zip(self.blocks, self.readouts, strict=True):
            maps, tokens = block(maps, tokens, self.hops)
            correction = readout(maps.flatten(1, 2))  # (B, J, H / pool, W / pool)
            if self.pool > 1:
                correction = F.interpolate(correction, size=(height, width), mode="bilinear", align_corners=False)
            logits = initial + correction
            block_estimate, _ = vote(logits)
            heatmaps.append(logits)
            block_estimates.append(block_estimate)
            block_uvd.append(block_estimate + self.correction(self.norm(tokens)))
        dense = dense_loss(closeness, direction, points, hand, weight=1.0)

        def auxiliary(target_uvd_norm: torch.Tensor) -> dict[str, torch.Tensor]:
            earlier = [(uvd - target_uvd_norm).abs().mean() for uvd in block_uvd[:-1]]
            own = {**dense(target_uvd_norm), "estimate": (estimate - target_uvd_norm).abs().mean()}
            return {**own, "blocks": sum(earlier) / len(earlier)} if earlier else own

        return {
            "uvd_norm": block_uvd[-1],
            "block_uvd_norm": block_uvd,
            "block_estimates": block_estimates,
            "heatmaps": heatmaps,
            "estimate": estimate,
            "auxiliary": auxiliary,
        }
