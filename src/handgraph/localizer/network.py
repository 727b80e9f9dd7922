"""The hand localiser: a small CNN on the whole canvas that answers where the hand is, or that there is none.

It is a centre-point detector (Zhou, Wang & Kraehenbuehl, "Objects as Points", 2019) on a depth canvas: at
output stride 4 every cell k gives a hand-centre logit s_k, a sub-cell offset (du, dv)_k and the centre's
depth d_k. The answer is the nearest of the strong peaks: of the cells that are local maxima of s (3 x 3)
and score at least ``NEARER_HAND_SHARE`` of the best score, the one with the smallest depth,

    k* = argmin { d_k : s_k = max of s over k's 3 x 3 cells, sigmoid(s_k) >= 0.8 max_j sigmoid(s_j) }
    u = 4 (col(k*) + du) + 1.5,   v = 4 (row(k*) + dv) + 1.5,   d = 1000 (d_k* + 1.5) mm,
    score = sigmoid(s_k*),        "a hand" iff score >= threshold

so "no hand" is an answer (every cell's score low), and with two hands in view, both clearly hands, the
nearer one is taken: the one reaching towards the camera, or of two touching hands the one in front.
Training targets are Gaussian bumps at the hands' centres (the centroid of their 21 joints), with the focal
loss of CornerNet/CenterNet; offsets and depth are supervised at the centres' cells.

Shapes: canvas (B, 1, H', W') depth in mm (0 = nothing) -> maps (B, 1 or 2, H'/4, W'/4) -> (B, 4).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from handgraph.errors import HandgraphError, about
from handgraph.models.backbone import ResidualBlock, conv_bn_relu
from handgraph.models.checkpoint import read_checkpoint_meta, read_weights
from handgraph.preprocess.canvas import Canvas

STRIDE = 4
DEPTH_OFFSET_M = 1.5
"""Depth enters and leaves the network as metres minus this, so typical values lie within [-1.5, 3]."""


@dataclass(frozen=True)
class LocalizerConfig:
    """The localiser network and the input it expects."""

    name: str = "localizer"
    """Marks a localiser checkpoint (pose models carry their own names)."""
    canvas: Canvas = field(default_factory=Canvas)
    """The canvas frames are resampled to before the network sees them."""
    width: int = 16
    """Channels at stride 2; 2x at stride 4, 4x at strides 8 and 16."""
    threshold: float = 0.3
    """Score at or above which the best cell counts as a hand; set on the validation scenes after training."""

    def __post_init__(self) -> None:
        if self.name != "localizer" or not 1 <= self.width <= 512 or not 0.0 <= self.threshold <= 1.0:
            raise HandgraphError(
                f"localizer config: name must be 'localizer', width within [1, 512] and threshold within [0, 1]; "
                f"got {self.name!r}, {self.width}, {self.threshold}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> LocalizerConfig:
        from handgraph.io.configs import override

        return override(cls(), values)


class HandLocalizer(nn.Module):
    """Encoder to stride 16 for context (is this blob a hand on an arm, or a head?), decoder back to stride 4.

    Shapes: depth (B, 1, H', W') mm -> {"heat": (B, 1, H'/4, W'/4) logits, "offset": (B, 2, ...) cells,
    "depth": (B, 1, ...) metres - 1.5}.
    """

    def __init__(self, config: LocalizerConfig):
        super().__init__()
        self.config = config
        width = config.width
        self.stem = nn.Sequential(conv_bn_relu(2, width, stride=2), conv_bn_relu(width, 2 * width, stride=2))
        self.stage4 = ResidualBlock(2 * width)
        self.stage8 = nn.Sequential(conv_bn_relu(2 * width, 4 * width, stride=2), ResidualBlock(4 * width))
        self.stage16 = nn.Sequential(conv_bn_relu(4 * width, 4 * width, stride=2), ResidualBlock(4 * width))
        self.lateral8 = nn.Conv2d(4 * width, 4 * width, 1)
        self.lateral4 = nn.Conv2d(4 * width, 2 * width, 1)
        self.head = nn.Sequential(conv_bn_relu(2 * width, 2 * width), nn.Conv2d(2 * width, 4, 1))
        nn.init.constant_(self.head[-1].bias[:1], -4.0)  # start with "no hand" everywhere (focal-loss prior)

    def forward(self, depth_mm: torch.Tensor) -> dict[str, torch.Tensor]:
        valid = (depth_mm > 0).to(depth_mm.dtype)
        x = torch.cat([valid, valid * (depth_mm / 1000.0 - DEPTH_OFFSET_M)], dim=1)  # (B, 2, H', W')
        x4 = self.stage4(self.stem(x))  # (B, 2w, H'/4, W'/4)
        x8 = self.stage8(x4)
        x16 = self.stage16(x8)
        x8 = F.relu(x8 + self.lateral8(F.interpolate(x16, size=x8.shape[-2:], mode="nearest")))
        x4 = F.relu(x4 + self.lateral4(F.interpolate(x8, size=x4.shape[-2:], mode="nearest")))
        maps = self.head(x4)
        return {"heat": maps[:, :1], "offset": maps[:, 1:3], "depth": maps[:, 3:]}


NEARER_HAND_SHARE = 0.8
"""A peak scoring at least this share of the best score is a hand as clearly as the best; the nearest of them is
the answer."""


def decode(maps: dict[str, torch.Tensor]) -> torch.Tensor:
    """The nearest strong peak's hand centre in canvas pixels and mm, and its score. -> (B, 4): u, v, d, score."""
    heat = maps["heat"].flatten(1)  # (B, h w)
    count, width = heat.shape[0], maps["heat"].shape[-1]
    peaks = (maps["heat"] == F.max_pool2d(maps["heat"], 3, stride=1, padding=1)).flatten(1)
    score = torch.sigmoid(heat)
    strong = peaks & (score >= NEARER_HAND_SHARE * score.max(dim=1, keepdim=True).values)  # the best is one
    depth_m = maps["depth"].flatten(1)
    best = torch.where(strong, -depth_m, torch.full_like(depth_m, -1e9)).argmax(dim=1, keepdim=True)  # (B, 1)
    offset = maps["offset"].flatten(2).gather(2, best[:, None, :].expand(count, 2, 1))[..., 0]  # (B, 2)
    row, column = best[:, 0] // width, best[:, 0] % width
    u = STRIDE * (column.to(heat.dtype) + offset[:, 0]) + (STRIDE - 1) / 2
    v = STRIDE * (row.to(heat.dtype) + offset[:, 1]) + (STRIDE - 1) / 2
    depth = 1000.0 * (depth_m.gather(1, best)[:, 0] + DEPTH_OFFSET_M)
    return torch.stack([u, v, depth, score.gather(1, best)[:, 0]], dim=1)


class DecodedLocalizer(nn.Module):
    """The network with its decoder: canvas (B, 1, H', W') mm -> (B, 4) u, v, d, score. What ONNX exports."""

    def __init__(self, network: HandLocalizer):
        super().__init__()
        self.network = network

    def forward(self, depth_mm: torch.Tensor) -> torch.Tensor:
        return decode(self.network(depth_mm))


HAND_RADIUS_MM = 90.0


def targets(hand_uvd: torch.Tensor, present: torch.Tensor, focal_px: float, height: int, width: int) -> dict:
    """Training targets on the (height, width) cell grid for hands at canvas ``hand_uvd`` (B, K, 3) where
    ``present`` (B, K): ``heat`` (B, 1, h, w) Gaussian bumps peaking at 1 on each hand's cell, ``cell`` (B, K)
    flat cell index, ``offset`` (B, K, 2) from that cell in cells, ``depth`` (B, K) in the network's units.

    A bump's deviation is a third of the hand's radius (90 mm seen by a camera of ``focal_px``) on the cell
    grid, at least 0.8 cells: a near hand is a larger target than a far one.
    """
    position = (hand_uvd[..., :2] - (STRIDE - 1) / 2) / STRIDE  # (B, K, 2) in cells
    limit = torch.tensor([width - 1, height - 1], dtype=position.dtype, device=position.device)
    cell_xy = torch.minimum(position.round().clamp(min=0), limit)
    radius_cells = HAND_RADIUS_MM * focal_px / hand_uvd[..., 2].clamp(min=1.0) / STRIDE
    sigma = (radius_cells / 3).clamp(min=0.8)[..., None, None]  # (B, K, 1, 1)
    rows = torch.arange(height, dtype=position.dtype, device=position.device)[None, None, :, None]
    columns = torch.arange(width, dtype=position.dtype, device=position.device)[None, None, None, :]
    squared = (columns - cell_xy[..., 0, None, None]) ** 2 + (rows - cell_xy[..., 1, None, None]) ** 2
    bumps = torch.exp(-squared / (2 * sigma**2)) * present[..., None, None]  # (B, K, h, w)
    return {
        "heat": bumps.amax(dim=1, keepdim=True),
        "cell": (cell_xy[..., 1] * width + cell_xy[..., 0]).long(),
        "offset": position - cell_xy,
        "depth": hand_uvd[..., 2] / 1000.0 - DEPTH_OFFSET_M,
        "present": present,
    }


def localizer_loss(maps: dict[str, torch.Tensor], target: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Focal loss on the heat map (alpha 2, beta 4, normalised by the number of hands), plus L1 of offsets
    (cells) and depth (metres, x 10: 1 cm weighs as 0.1 cell) at the hands' cells."""
    probability = torch.sigmoid(maps["heat"]).clamp(1e-4, 1 - 1e-4)
    wanted = target["heat"]
    peak = wanted >= 1.0 - 1e-6  # the hands' own cells
    positive = -((1 - probability) ** 2) * torch.log(probability) * peak
    negative = -((1 - wanted) ** 4) * probability**2 * torch.log(1 - probability) * ~peak
    hands = target["present"].sum().clamp(min=1)
    heat = (positive.sum() + negative.sum()) / hands
    present = target["present"].to(probability.dtype)  # (B, K)
    count = maps["heat"].shape[0]
    cell = target["cell"][:, None, :]  # (B, 1, K)
    offset = maps["offset"].flatten(2).gather(2, cell.expand(count, 2, -1)).transpose(1, 2)  # (B, K, 2)
    depth = maps["depth"].flatten(2).gather(2, cell)[:, 0]  # (B, K)
    offset_l1 = ((offset - target["offset"]).abs().sum(-1) * present).sum() / hands
    depth_l1 = ((depth - target["depth"]).abs() * present).sum() / hands
    loss = heat + offset_l1 + 10.0 * depth_l1
    return loss, {"heat": heat.item(), "offset": offset_l1.item(), "depth_mm": 1000.0 * depth_l1.item()}


def load_localizer_network(folder: str | os.PathLike) -> tuple[HandLocalizer, dict]:
    """The localiser of a checkpoint folder (eval mode) and the checkpoint's metadata."""
    meta = read_checkpoint_meta(folder)
    name = meta["model"].get("name") if isinstance(meta["model"], dict) else None
    if name != "localizer":
        raise HandgraphError(f"{folder}/checkpoint.json: model is {name!r}, not a hand localizer ('localizer')")
    with about(f"{Path(folder) / 'checkpoint.json'}: model"):
        network = HandLocalizer(LocalizerConfig.from_dict(meta["model"]))
    network.load_state_dict(read_weights(Path(folder) / "model.safetensors", network.state_dict()))
    return network.eval(), meta
