"""Pictures of predictions: the depth frame with the crop the model saw, and the skeleton drawn on a zoom."""

from __future__ import annotations

import os
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches as patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # noqa: E402

from handgraph.geometry.skeleton import FINGERS, JointLayout  # noqa: E402
from handgraph.io.files import atomic_writer  # noqa: E402

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


SKIN = np.array([0.93, 0.72, 0.60])


@dataclass
class FitDrawing:
    """A kinematic fit to draw: its joints (layout order) in the frame and in mm, its mesh, its angles."""

    uvd: np.ndarray  # (J, 3) frame pixels and mm
    xyz: np.ndarray  # (J, 3) mm, camera frame
    vertices: np.ndarray  # (V, 3) mm, camera frame
    faces: np.ndarray  # (F, 3)
    fx: float
    fy: float
    cx: float
    cy: float
    angles_deg: dict  # finger -> {angle name: degrees}, as predictions.json's "fit"


def _shaded_faces(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces far to near (painter's order) and their colours, lit from the camera. -> (F,) order, (F, 3)."""
    corners = vertices[faces]  # (F, 3, 3)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    light = np.clip(-normals[:, 2], 0.0, 1.0)  # the camera looks along +z
    order = np.argsort(-corners[:, :, 2].mean(axis=1))
    return order, SKIN * (0.35 + 0.65 * light[order, None])


def draw_mesh_on_frame(axes: plt.Axes, fit: FitDrawing) -> None:
    """The mesh projected into the frame, shaded, half transparent."""
    vertices = fit.vertices
    uv = np.stack(
        [fit.fx * vertices[:, 0] / vertices[:, 2] + fit.cx, fit.fy * vertices[:, 1] / vertices[:, 2] + fit.cy], 1
    )
    order, colours = _shaded_faces(vertices, fit.faces)
    axes.add_collection(PolyCollection(uv[fit.faces[order]], facecolors=colours, edgecolors="none", alpha=0.55))


def draw_fit_3d(axes, fit: FitDrawing, layout: JointLayout) -> None:
    """The mesh and the fitted skeleton in 3D, seen from near the camera; up is up in the image (the camera's
    -y, or +y for a camera with a negative fy such as NYU's)."""
    up = -1.0 if fit.fy > 0 else 1.0

    def shown(points: np.ndarray) -> np.ndarray:  # camera (x, y, z) -> plot (x, depth, up)
        return np.stack([points[..., 0], points[..., 2], up * points[..., 1]], axis=-1)

    order, colours = _shaded_faces(fit.vertices, fit.faces)
    axes.add_collection3d(Poly3DCollection(shown(fit.vertices[fit.faces[order]]), facecolors=colours, alpha=0.35))
    joints = shown(fit.xyz)
    for parent, child in layout.bones:
        axes.plot(*joints[[parent, child]].T, color=bone_colour(layout, child), linewidth=2.0)
    axes.scatter(*joints.T, s=8, c="black", depthshade=False)
    centre, reach = shown(fit.vertices).mean(0), np.ptp(shown(fit.vertices), axis=0).max() / 2
    for set_limits, middle in zip((axes.set_xlim, axes.set_ylim, axes.set_zlim), centre, strict=True):
        set_limits(middle - reach, middle + reach)
    axes.set_box_aspect((1, 1, 1))
    axes.view_init(elev=20, azim=-80)
    axes.set_xlabel("x (mm)", fontsize=7)
    axes.set_ylabel("depth (mm)", fontsize=7)
    axes.set_zlabel("up (mm)", fontsize=7)
    axes.tick_params(labelsize=6)


def angle_lines(angles_deg: dict) -> str:
    """The fitted angles as one line per finger, e.g. 'index  MCP 35/-4  PIP 42  DIP 20'."""
    lines = []
    for finger, angles in angles_deg.items():
        values = list(angles.values())
        first = "CMC" if finger == "thumb" else "MCP"
        second, third = ("MCP", "IP") if finger == "thumb" else ("PIP", "DIP")
        lines.append(
            f"{finger:<7}{first} {values[0]:5.0f}/{values[1]:4.0f}  {second} {values[2]:4.0f}  {third} {values[3]:4.0f}"
        )
    return "\n".join(lines)


def write_overlay(
    path: str | os.PathLike, depth_mm: np.ndarray, uvd: np.ndarray, centre_uvd: np.ndarray, box_px: float,
    layout: JointLayout, title: str, fit: FitDrawing | None = None,
) -> None:  # fmt: skip
    """Two panels: the whole frame with the crop box, and the crop region with the skeleton. With ``fit``, the
    crop shows the fitted mesh and skeleton instead, and a third panel the fit in 3D with its angles."""
    shown = depth_display(depth_mm, centre_uvd[2] - 150.0, centre_uvd[2] + 250.0)
    figure = plt.figure(figsize=(19.5 if fit else 11, 5))
    grid = figure.add_gridspec(1, 4 if fit else 2, width_ratios=[1, 1, 1, 0.5] if fit else [1, 1])
    whole, zoom = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    for axes in (whole, zoom):
        axes.imshow(shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes.set_facecolor("black")
        axes.set_xticks([])
        axes.set_yticks([])
    left, top = centre_uvd[0] - box_px / 2, centre_uvd[1] - box_px / 2
    whole.add_patch(patches.Rectangle((left, top), box_px, box_px, fill=False, edgecolor="#00e5ff", linewidth=1.5))
    draw_skeleton(whole, uvd[:, :2], layout, linewidth=1.0)
    if fit is None:
        draw_skeleton(zoom, uvd[:, :2], layout)
        zoom.set_title("crop seen by the model, predicted skeleton", fontsize=9)
    else:
        draw_mesh_on_frame(zoom, fit)
        draw_skeleton(zoom, fit.uvd[:, :2], layout)
        zoom.set_title("fitted hand: its mesh and joints", fontsize=9)
        view = figure.add_subplot(grid[2], projection="3d")
        draw_fit_3d(view, fit, layout)
        view.set_title("fitted hand in 3D", fontsize=9)
        table = figure.add_subplot(grid[3])
        table.axis("off")
        table.text(0.0, 0.5, "joint angles (deg)\nflexion/abduction\n\n" + angle_lines(fit.angles_deg),
                   family="monospace", fontsize=8, va="center")  # fmt: skip
    zoom.set_xlim(left, left + box_px)
    zoom.set_ylim(top + box_px, top)
    whole.set_title(title, fontsize=9)
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)


def write_fit_view(path: str | os.PathLike, fit: FitDrawing, layout: JointLayout, title: str) -> None:
    """A fit without its frame: the hand in 3D beside its joint angles."""
    figure = plt.figure(figsize=(9, 5))
    grid = figure.add_gridspec(1, 2, width_ratios=[1, 0.6])
    view = figure.add_subplot(grid[0], projection="3d")
    draw_fit_3d(view, fit, layout)
    view.set_title(title, fontsize=9)
    table = figure.add_subplot(grid[1])
    table.axis("off")
    table.text(0.0, 0.5, "joint angles (deg)\nflexion/abduction\n\n" + angle_lines(fit.angles_deg),
               family="monospace", fontsize=8, va="center")  # fmt: skip
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
