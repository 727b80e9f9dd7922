"""A PNG grid of synthetic depth frames with their skeletons, to look at what the generator makes."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from handgraph.geometry.skeleton import HAND  # noqa: E402
from handgraph.io.files import atomic_writer  # noqa: E402
from handgraph.io.overlay import depth_display, draw_skeleton  # noqa: E402
from handgraph.synth.generator import GESTURE_NAMES  # noqa: E402
from handgraph.synth.objects import OBJECT_KINDS  # noqa: E402


def write_preview(
    frames: list[dict[str, np.ndarray]], depth_unit_mm: float, path: str | os.PathLike, columns: int = 4
) -> None:
    """A grid of depth images (near is bright, no measurement is black) with each frame's skeleton."""
    rows = -(-len(frames) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.75 * rows), squeeze=False)
    for axes, frame in zip(grid.ravel(), frames, strict=False):
        depth = frame["depth"].astype(np.float64) * depth_unit_mm
        centre = float(frame["centre_xyz"][2])
        axes.imshow(
            depth_display(depth, centre - 120.0, centre + 180.0),
            cmap="gray",
            vmin=0.0,
            vmax=1.0,
            interpolation="nearest",
        )
        axes.set_facecolor("black")
        draw_skeleton(axes, frame["uvd"][:, :2], HAND, linewidth=1.6, visible=frame["visible"].astype(bool))
        name = _what(frame)
        axes.set_title(f"#{int(frame['index'])} {'left' if frame['left'] else 'right'} {name}", fontsize=8)
        axes.set_xlim(-0.5, depth.shape[1] - 0.5)
        axes.set_ylim(depth.shape[0] - 0.5, -0.5)
    for axes in grid.ravel():
        axes.set_xticks([])
        axes.set_yticks([])
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=110)
    plt.close(figure)


def _what(frame: dict[str, np.ndarray]) -> str:
    """The frame's family in a few words: the object held, a table, or the gesture drawn."""
    held = int(frame.get("held", -1))
    if held >= 0:
        return f"holds {OBJECT_KINDS[held].replace('_', ' ')}"
    if bool(frame.get("surface", False)):
        return "on a table"
    gesture = int(frame["gesture"])
    return GESTURE_NAMES[gesture] if gesture >= 0 else "uniform"
