"""The one configuration type every model is built from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from handgraph.errors import HandgraphError

NODE_CHANNELS = {"sia_gcn": 4}
"""Models whose joint maps default to more than one channel (``ModelConfig.node_channels`` None)."""
LIMITS = {"in_channels": (1, 16), "width": (1, 1024), "blocks": (1, 64), "node_channels": (1, 256),
          "gcn_layers": (0, 64), "kernel_size": (1, 31), "transformer_dim": (1, 4096), "transformer_heads": (1, 64),
          "encoder_layers": (0, 64), "decoder_layers": (0, 64), "interleaved_blocks": (1, 64)}  # fmt: skip
"""Bounds of the sizes, far beyond any useful model: a config above them (a damaged checkpoint's) would ask for
more memory than a machine has, and is refused before anything is allocated."""
FIRST_ESTIMATES = ("integral", "vote")
STORED_BEFORE = {"first_estimate": "integral"}
"""What a stored config (a checkpoint's, an export's) without one of these fields meant: the value every model
had before the field was added, so that old checkpoints keep their meaning."""


@dataclass
class ModelConfig:
    """Sizes of a hand pose model, small enough for 2 CPU cores. The sizes are the shipped model's (an ``hgt``);
    the architecture defaults to the factory's ``models.DEFAULT_MODEL``, which a test keeps equal to ``name``."""

    name: str = "hgt_interleaved"
    """Architecture: regress, heatmap, a2j, awr, gcn_flat, sia_gcn, hgt or hgt_interleaved."""
    layout: str = "canonical"
    """Joints predicted, a layout of ``handgraph.geometry.layouts``: canonical (21), nyu14, icvl16, msra21, ..."""
    in_channels: int = 1
    """Input channels: 1 for depth; 3 lets the same models run on RGB."""
    input_size: int = 128
    """Side S of the square input crop; maps are S / 4."""
    width: int = 32
    """Backbone channels at stride 4 (twice that at stride 8)."""
    blocks: int = 3
    """Residual blocks at stride 4."""
    node_channels: int | None = None
    """Channels of each joint's 2D map in the graph layers; 1 is the paper's (a joint's map is its heatmap).
    None takes the model's own (``NODE_CHANNELS``): 4 for sia_gcn, which needs them to beat the flattened
    GCN; 1 for hgt, where 4 gave the same accuracy within the seed spread at 1.8x the latency at batch 1
    (bench/findings.md)."""
    gcn_layers: int = 2
    """Graph layers on the joint maps (gcn_flat, sia_gcn, hgt)."""
    kernel_size: int = 5
    """Side of each edge's 2D kernel in SIA-GCN."""
    kernel_dilation: int = 1
    """Spacing of the kernel's taps (reach dilation * (k - 1) / 2 cells; on CPU dilation costs twice)."""
    graph_pool: int = 2
    """SIA-GCN runs on joint maps average-pooled by this factor (16 x 16 for S = 128): a 5 x 5 kernel then
    reaches 16 input pixels, about 30 mm of a 250 mm crop, at a thirteenth of the cost of a dilated kernel
    at full resolution. Its output is upsampled and added to the full-resolution logits."""
    edge_attention: bool = True
    """Weigh each edge's message by a score from its two endpoint maps (softmax over a node's in-edges)."""
    edge_score: str = "linear"
    """The attention's edge score: linear (its target half cancels in the softmax, so the weights depend on
    the source maps only; the shipped model's) or leaky_relu (GAT's LeakyReLU: weights depend on both ends)."""
    transformer_dim: int = 64
    """Width of the hand graph transformer's joint tokens."""
    transformer_heads: int = 4
    """Attention heads."""
    encoder_layers: int = 2
    """Graph-transformer layers over the joint tokens."""
    decoder_layers: int = 2
    """Layers decoding the learned joint queries, all joints at once."""
    interleaved_blocks: int = 4
    """Blocks of hgt_interleaved, each a SIA-GCN layer on the joint maps and a graph-transformer layer on the
    joint tokens (its counterpart of hgt's gcn_layers, encoder_layers and decoder_layers)."""
    laplacian_dims: int = 8
    """Laplacian eigenvectors in the positional encoding (Dwivedi & Bresson)."""
    first_estimate: str = "vote"
    """hgt's first estimate of each joint, which the transformer corrects: vote (the refined maps weigh a dense
    vote of the hand's cells, AWR's 3D offsets, supervised themselves) or integral (soft-argmax of the refined
    heatmaps, the depth from depth maps; hgt's before benchmark 2, and the shipped checkpoint's)."""

    def __post_init__(self) -> None:
        if self.input_size % 8 != 0 or not 32 <= self.input_size <= 1024:
            raise HandgraphError(
                f"model config: input_size must be a multiple of 8 from 32 to 1024; got {self.input_size}"
            )
        from handgraph.geometry.layouts import get_layout

        get_layout(self.layout)
        for name, (least, most) in LIMITS.items():
            value = getattr(self, name)
            if value is not None and not least <= value <= most:
                raise HandgraphError(f"model config: {name} must be within [{least}, {most}], got {value}")
        if self.graph_pool < 1 or (self.input_size // 4) % self.graph_pool:
            raise HandgraphError(f"model config: graph_pool must divide input_size / 4, got {self.graph_pool}")
        if self.kernel_size % 2 == 0:
            raise HandgraphError(f"model config: kernel_size must be odd, got {self.kernel_size}")
        from handgraph.layers.sia_gcn import SCORES

        if self.edge_score not in SCORES:
            raise HandgraphError(f"model config: edge_score must be one of {SCORES}, got {self.edge_score!r}")
        if self.first_estimate not in FIRST_ESTIMATES:
            raise HandgraphError(
                f"model config: first_estimate must be one of {FIRST_ESTIMATES}, got {self.first_estimate!r}"
            )
        if self.transformer_dim % self.transformer_heads:
            raise HandgraphError("model config: transformer_dim must be a multiple of transformer_heads")

    def resolved(self) -> ModelConfig:
        """This config with the model's own defaults (fields left None) made explicit, as models hold it and
        checkpoints store it: a checkpoint keeps its meaning when a default changes."""
        if self.node_channels is not None:
            return self
        return replace(self, node_channels=NODE_CHANNELS.get(self.name, 1))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """From plain data (JSON, YAML), with the types and errors of ``configs.override``."""
        from handgraph.io.configs import override

        return override(cls(), values)

    @classmethod
    def from_stored(cls, values: dict) -> ModelConfig:
        """From a checkpoint's or an export's stored config: fields it lacks take ``STORED_BEFORE``'s values."""
        return cls.from_dict({**STORED_BEFORE, **values} if isinstance(values, dict) else values)
