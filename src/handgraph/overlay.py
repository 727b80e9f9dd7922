"""Pictures of predictions: the depth frame with the crop the model saw, and the skeleton drawn on a zoom."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches as patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from handgraph.files import atomic_writer  # noqa: E402
from handgraph.skeleton import FINGERS, JointLayout  # noqa: E402

FINGER_COLOURS = {"thumb": "#e6194b", "index": "#f58231", "middle": "#ffe119", "ring": "#3cb44b", "little": "#4363d8"}


def bone_colour(layout: JointLayout, child: int) -> str:
    canonical = layout.canonical[child]
    for finger, joints in FINGERS.items():
        if canonical in joints:
            return FINGER_COLOURS[finger]
    return "#ffffff"


def draw_skeleton(
    axes: plt.Axes, uv: np.ndarray, layout: JointLayout, linewidth: float = 2.0, visible: np.ndarray | None = None
) -> None:
    """Bones coloured by finger, joints as white dots; with ``visible`` (J,), hidden joints as hollow dots.
    uv (J, 2) in the axes' pixel coordinates."""
    for parent, child in layout.bones:
        axes.plot(uv[[parent, child], 0], uv[[parent, child], 1], color=bone_colour(layout, child), linewidth=linewidth)
    shown = np.ones(len(uv), dtype=bool) if visible is None else visible
    axes.scatter(uv[shown, 0], uv[shown, 1], s=14, c="white", edgecolors="black", linewidths=0.6, zorder=3)
    axes.scatter(uv[~shown, 0], uv[~shown, 1], s=14, facecolors="none", edgecolors="black", linewidths=0.6, zorder=3)


def depth_display(depth_mm: np.ndarray, near_mm: float, far_mm: float) -> np.ndarray:
    """Near is bright, far and missing are dark: (H, W) in [0, 1] with NaN for no measurement."""
    return np.where(depth_mm > 0, np.clip((far_mm - depth_mm) / (far_mm - near_mm), 0.0, 1.0), np.nan)


def write_overlay(
    path: str | os.PathLike, depth_mm: np.ndarray, uvd: np.ndarray, centre_uvd: np.ndarray, box_px: float,
    layout: JointLayout, title: str,
) -> None:  # fmt: skip
    """Two panels: the whole frame with the crop box, and the crop region with the skeleton."""
    shown = depth_display(depth_mm, centre_uvd[2] - 150.0, centre_uvd[2] + 250.0)
    figure, (whole, zoom) = plt.subplots(1, 2, figsize=(11, 5))
    for axes in (whole, zoom):
        axes.imshow(shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes.set_facecolor("black")
        axes.set_xticks([])
        axes.set_yticks([])
    left, top = centre_uvd[0] - box_px / 2, centre_uvd[1] - box_px / 2
    whole.add_patch(patches.Rectangle((left, top), box_px, box_px, fill=False, edgecolor="#00e5ff", linewidth=1.5))
    draw_skeleton(whole, uvd[:, :2], layout, linewidth=1.0)
    draw_skeleton(zoom, uvd[:, :2], layout)
    zoom.set_xlim(left, left + box_px)
    zoom.set_ylim(top + box_px, top)
    whole.set_title(title, fontsize=9)
    zoom.set_title("crop seen by the model, predicted skeleton", fontsize=9)
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
