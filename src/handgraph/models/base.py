"""What every model shares: inputs, outputs, and the decoding of normalised coordinates to millimetres."""

from __future__ import annotations

import torch
from torch import nn

from handgraph.geometry.layouts import get_layout
from handgraph.models.config import ModelConfig
from handgraph.preprocess.crop import crop_uvd_to_xyz, normalized_to_uvd


class PoseModel(nn.Module):
    """A hand pose model: a normalised depth crop and its crop parameters in, joints out.

    ``forward(depth, crop)`` takes depth (B, C, S, S) in [-1, 1] (``preprocess.crop.normalize_depth``) and
    crop (B, 6) = (fx, fy, cx, cy, centre_z, cube), and returns a dict with ``uvd_norm`` (B, J, 3) normalised,
    ``uvd`` (B, J, 3) crop pixels and mm, ``xyz`` (B, J, 3) mm in the camera frame, and ``heatmaps``: the
    list of (B, J, H, W) heatmap logits the model supervises (empty for direct regression). A model with losses
    of its own (a2j's anchor surrounding, awr's dense maps) adds ``auxiliary``: a function of the true uvd_norm
    (B, J, 3) that returns them, named and weighted, for ``losses.pose_loss`` to add.
    Subclasses implement ``predict(depth) -> dict`` with ``uvd_norm`` and ``heatmaps``.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.resolved()  # node_channels None -> the model's own
        self.layout = get_layout(config.layout)

    def predict(self, depth: torch.Tensor) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        raise NotImplementedError

    def forward(self, depth: torch.Tensor, crop: torch.Tensor) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        output = self.predict(depth)
        output["uvd"] = normalized_to_uvd(output["uvd_norm"], crop, self.config.input_size)
        output["xyz"] = crop_uvd_to_xyz(output["uvd"], crop)
        return output
