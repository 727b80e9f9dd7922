"""How well fitted hands explain the depth they were fitted to, with no labels: the measures by which
``handgraph adapt`` decides which frames may teach the network.

The fitted hand's round cones are rendered (``synth.raycast``, exact) onto the grid of its frame's
``refine.DepthView``, the crop box seen at 64 x 64 cells, and compared with the observed depth there (0 where
nothing lies within the cube), cell by cell where the model is, with d = observed - model:

    confirmed     |d| <= CONFIRMED_MM                    the camera sees the model's surface
    hidden        d < -CONFIRMED_MM                      something nearer hides it (an object, the other hand)
    contradicted  d > CONFIRMED_MM or nothing observed   the camera sees through where the model stands

    residual_mm = median of min(|d|, 50) over the cells not hidden that hold an observation
    explained   = confirmed cells / model cells

This is the comparison of a rendered hand model with the depth that self-supervised hand pose methods learn
from (Wan et al., "Self-supervised 3D hand pose estimation through training by fitting", CVPR 2019). A hand
on the hand's depth has a residual of a few mm and most of it confirmed; one standing in front of or beside the
seen hand, or fitted to an object, shows cells the camera sees through; one hidden behind an object shows
little and is confirmed little.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from handgraph.fitting.refine import DepthView
from handgraph.fitting.surface_model import fitted_cones
from handgraph.synth.raycast import render_depth
from handgraph.synth.surface import RoundCones

CONFIRMED_MM = 10.0
"""A cell whose observed depth lies this near the model's surface confirms it: about a finger's radius, above
the noise of a depth camera at arm's length (a few mm) and the 64-cell grid's sampling of a curved surface."""
CLAMP_MM = 50.0


@dataclass
class DepthAgreement:
    """Per hand: the label-free measures of its fit against its frame's depth."""

    residual_mm: np.ndarray
    """(N,) median of min(|observed - model|, 50 mm) over the model's cells not hidden; NaN where none."""
    explained: np.ndarray
    """(N,) share of the model's cells that the observed depth confirms."""
    cells: np.ndarray
    """(N,) cells of the grid the model covers."""

    def record(self, index: int) -> dict:
        """Hand ``index``'s measures as predictions.json's fit entry holds them."""
        residual = self.residual_mm[index]
        return {
            "depth_residual_mm": None if np.isnan(residual) else round(float(residual), 2),
            "depth_explained": round(float(self.explained[index]), 4),
        }

    @staticmethod
    def joined(parts: list[DepthAgreement]) -> DepthAgreement:
        """The measures of several batches of hands, in order."""
        return DepthAgreement(*(np.concatenate([getattr(part, name) for part in parts])
                                for name in ("residual_mm", "explained", "cells")))  # fmt: skip


def rendered_on_grid(views: list[DepthView], x: torch.Tensor, left: torch.Tensor) -> np.ndarray:
    """(N, G, G) mm: the fitted hands' depth on their views' grids (0 where the model is not)."""
    grid = views[0].grid_depth.shape[0]
    cones = RoundCones.from_batched(*(part.detach().numpy() for part in fitted_cones(x, left)))
    # Grid cell i sees frame pixel u0 + (i + 0.5) cell: a camera with the frame's focal length in cells.
    intrinsics = np.array([[fx / box[2], fy / box[2], (cx - box[0]) / box[2] - 0.5, (cy - box[1]) / box[2] - 0.5]
                           for box, (fx, fy, cx, cy) in ((view.box, view.intrinsics) for view in views)])  # fmt: skip
    return render_depth(cones, intrinsics, grid, grid)


def depth_agreement(views: list[DepthView], x: torch.Tensor, left: torch.Tensor) -> DepthAgreement:
    """The measures of hands x (N, 42) (mirrored where ``left``, (N,)) against their frames' ``views``."""
    if len(views) != len(x):
        raise ValueError(f"{len(views)} views for {len(x)} hands")
    model = rendered_on_grid(views, x, left)  # (N, G, G)
    observed = np.stack([view.grid_depth for view in views])
    on = model > 0
    difference = observed - model
    seen = on & (observed > 0)
    hidden = seen & (difference < -CONFIRMED_MM)
    confirmed = seen & (np.abs(difference) <= CONFIRMED_MM)
    counted = seen & ~hidden
    cells = on.sum(axis=(1, 2))
    residual = np.array([float(np.median(np.minimum(np.abs(d[c]), CLAMP_MM))) if c.any() else np.nan
                         for d, c in zip(difference, counted, strict=True)])  # fmt: skip
    explained = confirmed.sum(axis=(1, 2)) / np.maximum(cells, 1)
    return DepthAgreement(residual, explained, cells)
