"""``hgt_interleaved``, the hand graph transformer as the seed wrote it: graph-convolution layers embedded in the
transformer. Each block runs SIA-GCN on the joint maps and hop-biased attention on the joint tokens, and writes
each side into the other (``layers.interleaved.InterleavedBlock``, where the block's formula is), so spatial
evidence and global context are refined together, block after block; every block decodes all joints at once.
The default model: in the accuracy ablation's recipe it reached 25.44 mm over 3 seeds (sd 0.03) where ``hgt``
reached 26.25 (sd 0.26), for 11 % more parameters and 2 % more FLOPs (``docs/benchmarks.md``).

Why this design, from the literature the seed points to:

- SIA-GCN (Kong et al., BMVC 2020) keeps a joint's node feature a 2D map and gives each bone its own kernel;
  its refinement is local, one bone's reach per layer. In ``hgt`` it runs once before the transformer and
  adds 0.46 mm (``bench/refinement.py``): the maps it refines are read only by the first estimate.
- Dwivedi & Bresson (2020) make a transformer a graph network by a sparse graph operation inside each block
  and structural (Laplacian) encodings; here the graph operation is SIA-GCN on the maps, and the attention
  over all joints keeps a bias per hop distance, so the tokens reach every joint while the maps follow bones.
- Hand-Transformer (Huang et al., ECCV 2020) decodes all joints at once (non-autoregressively) and
  supervises the decoding at every layer. Here every block's tokens are decoded by one shared head and every
  block's joints are supervised, so decoding can stop at any block.

Per block l, with the body's initial logits L_0 and vote field (``dense_vote``):

    X, T   <- InterleavedBlock_l(X, T)
    L_l     = L_0 + upsample(R_l X)                        R_l: a 1x1 readout per joint
    e_l     = sum_p softmax_p(L_l)(p) vote(p)               the dense vote under block l's maps
    uvd_l   = e_l + W_c LN(T + W_e e_l)                     the block's joints: the head sees what it corrects

Tokens start as ``hgt``'s: W_f (features pooled under softmax(L_0)) + W_e e_0 + the structural encodings
(Laplacian eigenvectors, finger and chain position). The output is the last block's; ``block_uvd_norm`` holds
every block's joints and ``block_estimates`` every block's vote before the tokens' correction. The loss
supervises L_0 and the last block's logits as heatmaps, the vote's dense maps and first estimate, and the
earlier blocks' joints (``BLOCK_WEIGHT`` times their mean L1), as ``hgt``'s loss does its own parts.
"""

from __future__ import annotations

import torch
from torch import nn

from handgraph.errors import HandgraphError
from handgraph.layers.encodings import hop_distances
from handgraph.layers.graph_transformer import StructuralEncoding
from handgraph.layers.interleaved import InterleavedBlock
from handgraph.models.backbone import Backbone, conv_bn_relu
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.dense_vote import VoteField, vote_field
from handgraph.models.integral import IntegralHead
from handgraph.models.sia_gcn import joint_maps, read_out, sia_gcn_layer

BLOCK_WEIGHT = 0.5
"""Weight of the earlier blocks' joint error in the loss (the last block's has the full pose loss)."""


class InterleavedHandGraphTransformer(PoseModel):
    """See the module docstring."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        config = self.config
        if config.first_estimate != "vote":
            raise HandgraphError("model config: hgt_interleaved decodes every block by the dense vote; "
                                 f"first_estimate must be 'vote', got {config.first_estimate!r}")  # fmt: skip
        joints, channels, dim = self.layout.num_joints, config.node_channels, config.transformer_dim
        self.channels, self.pool = channels, config.graph_pool
        self.backbone = Backbone(config.in_channels, config.width, config.blocks)
        self.head = IntegralHead(config.width, joints, depths=False)
        self.nodes = nn.Conv2d(config.width, joints * (channels - 1), 1) if channels > 1 else None
        # Per cell and joint: a closeness and a 3D direction to the joint (the vote's offsets).
        self.vote = nn.Sequential(conv_bn_relu(config.width, config.width), nn.Conv2d(config.width, 4 * joints, 1))
        self.register_buffer("hops", torch.tensor(hop_distances(self.layout)), persistent=False)
        side = config.input_size // 4 // config.graph_pool
        blocks = range(config.interleaved_blocks)
        self.blocks = nn.ModuleList(
            InterleavedBlock(
                sia_gcn_layer(config, self.layout), (side, side), dim, config.transformer_heads, int(self.hops.max())
            )  # fmt: skip
            for _ in blocks
        )
        self.readouts = nn.ModuleList(nn.Conv2d(joints * channels, joints, 1, groups=joints) for _ in blocks)
        self.pool_features = nn.Linear(config.width, dim)
        self.embed_estimate = nn.Linear(3, dim)
        self.structure = StructuralEncoding(self.layout, dim, config.laplacian_dims)
        self.norm = nn.LayerNorm(dim)
        self.correction = nn.Linear(dim, 3)
        # Nearly zero: every block starts at its vote, yet gradients reach the tokens at once.
        nn.init.normal_(self.correction.weight, std=1e-3)
        nn.init.zeros_(self.correction.bias)

    def start(self, depth: torch.Tensor) -> tuple[torch.Tensor, VoteField, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The body: initial logits (B, J, H, W), the vote field, the first estimate e_0 (B, J, 3), the first
        tokens (B, J, D) and node maps (B, J, c, H / pool, W / pool)."""
        features = self.backbone(depth)  # (B, C, H, W)
        initial, _ = self.head(features)
        batch, joints, height, width = initial.shape
        field = vote_field(self.vote(features).reshape(batch, joints, 4, height * width), depth, height, width)
        estimate, weights = field.vote(initial)  # (B, J, 3), (B, J, H W)
        pooled = weights @ features.flatten(2).transpose(1, 2)  # (B, J, C)
        tokens = self.pool_features(pooled) + self.embed_estimate(estimate) + self.structure()
        return initial, field, estimate, tokens, joint_maps(initial, self.nodes, features, self.channels, self.pool)

    def decode(self, tokens: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
        """A block's joints: its vote (B, J, 3) corrected from its tokens (B, J, D), which see the vote."""
        return estimate + self.correction(self.norm(tokens + self.embed_estimate(estimate)))

    def predict(self, depth: torch.Tensor) -> dict:
        initial, field, estimate, tokens, maps = self.start(depth)
        block_logits, block_tokens = [], []
        for block, readout in zip(self.blocks, self.readouts, strict=True):
            maps, tokens = block(maps, tokens, self.hops)
            block_logits.append(read_out(initial, readout, maps))  # (B, J, H, W)
            block_tokens.append(tokens)
        # A block's vote feeds only its own decoding, so all blocks vote at once.
        block_estimates = field.vote_each(block_logits)
        block_uvd = [self.decode(t, e) for t, e in zip(block_tokens, block_estimates, strict=True)]
        dense = field.loss(weight=1.0)

        def auxiliary(target_uvd_norm: torch.Tensor) -> dict[str, torch.Tensor]:
            own = {**dense(target_uvd_norm), "estimate": (estimate - target_uvd_norm).abs().mean()}
            if len(block_uvd) == 1:
                return own
            earlier = torch.stack([(uvd - target_uvd_norm).abs().mean() for uvd in block_uvd[:-1]])
            return {**own, "blocks": BLOCK_WEIGHT * earlier.mean()}

        return {
            "uvd_norm": block_uvd[-1],
            "block_uvd_norm": block_uvd,
            "block_estimates": block_estimates,
            "heatmaps": [initial, block_logits[-1]],
            "estimate": estimate,
            "auxiliary": auxiliary,
        }
