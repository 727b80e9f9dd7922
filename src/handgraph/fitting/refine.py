"""Refinement against the depth: move a fitted hand so that its round-cone surface explains the depth frame.

Started from the inverse-kinematics fit, with the shape held, the pose minimises three terms (all in mm):

- data: every observed point p_i of the hand (the crop's pixels within the cube, those behind the fitted wrist
  left out: the wrist bends, the model's does not) lies on the surface, r_i = sqrt(w_i) D(p_i) with D the
  closed-form distance to the nearest cone (``surface_model``) and w_i a Huber weight (5 mm) that drops
  points more than 50 mm from the hand: clutter, another hand;
- free space: where the camera sees through the model it must not be. For sphere centres c (radius rho)
  sampled along every cone's axis: where c projects outside the observed silhouette, the distance in mm to
  the silhouette (a distance transform, bilinear); where it projects onto the silhouette but the depth seen
  there lies more than 10 mm behind the sphere's front (c_z - rho), that excess;
- prior: W_JOINT (p_k - q_k) towards the network's joints q_k, and the joint limits (bounds of the solver).

Levenberg-Marquardt (``solver``) with the Jacobian from forward-mode autograd (torch.func), batched over
frames: every frame's points are padded to one count and its silhouette resampled to one grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from handgraph.fitting import hand_model
from handgraph.fitting.hand_model import NUM_PARAMETERS, NUM_POSE
from handgraph.fitting.solver import levenberg_marquardt
from handgraph.fitting.surface_model import fitted_cones
from handgraph.geometry.camera import Intrinsics, cube_side_px
from handgraph.synth.surface import round_cone_distance

# Chosen on 128 frames of the synthetic validation split (bench/fitting.py reports the test split), except
# W_JOINT: 0.5 was best there (13.98 mm against 14.41 with 1.0), but synthetic hands are made of these very
# cones, so the data term is worth more on them than on a real hand. On the real NYU frame 0.5 and 0.75 curled
# the thumb's and little finger's last joints by 55-85 degrees (both fingers sit at their limits there), 1.0 not.
MAX_POINTS = 800
GRID = 64
HUBER_MM, OUTLIER_MM = 5.0, 50.0
SEE_THROUGH_MARGIN_MM = 10.0
W_FREE = 0.5
W_JOINT = 1.0
AXIS_SAMPLES = (0.0, 0.5, 1.0)
ITERATIONS = 10


@dataclass
class DepthView:
    """What the refinement needs of one frame, on fixed-size arrays."""

    points: np.ndarray  # (MAX_POINTS, 3) mm, padded
    point_weight: np.ndarray  # (MAX_POINTS,) 1 for a point, 0 for padding
    grid_depth: np.ndarray  # (GRID, GRID) depth over the crop box, 0 where none in the cube
    grid_distance: np.ndarray  # (GRID, GRID) cells to the nearest silhouette cell
    box: np.ndarray  # (3,) u0, v0 of the grid's corner (frame pixels) and its cell size in pixels
    intrinsics: np.ndarray  # (4,) fx, fy, cx, cy


def depth_view(
    depth_mm: np.ndarray, camera: Intrinsics, centre_xyz: np.ndarray, cube_mm: float, x: torch.Tensor, left: bool
) -> DepthView:
    """One frame's observed hand around ``centre_xyz``, the points behind the fit ``x`` (42,)'s wrist left out."""
    height, width = depth_mm.shape
    side = cube_side_px(camera, cube_mm, centre_xyz[2])
    cu = camera.fx * centre_xyz[0] / centre_xyz[2] + camera.cx
    cv = camera.fy * centre_xyz[1] / centre_xyz[2] + camera.cy
    u0, v0, cell = cu - side / 2, cv - side / 2, side / GRID
    near, far = centre_xyz[2] - cube_mm / 2, centre_xyz[2] + cube_mm / 2
    in_cube = (depth_mm > near) & (depth_mm < far) & (depth_mm > 0)

    centres = (np.arange(GRID) + 0.5) * cell
    gu = np.clip(np.floor(u0 + centres).astype(int), 0, width - 1)
    gv = np.clip(np.floor(v0 + centres).astype(int), 0, height - 1)
    inside_u = (u0 + centres >= 0) & (u0 + centres < width)
    inside_v = (v0 + centres >= 0) & (v0 + centres < height)
    grid_depth = np.where(in_cube[np.ix_(gv, gu)] & inside_v[:, None] & inside_u[None], depth_mm[np.ix_(gv, gu)], 0.0)
    silhouette = grid_depth > 0
    distance = ndimage.distance_transform_edt(~silhouette) if silhouette.any() else np.full((GRID, GRID), GRID)

    rows, columns = np.nonzero(in_cube)
    keep = (columns >= u0) & (columns < u0 + side) & (rows >= v0) & (rows < v0 + side)
    z = depth_mm[rows[keep], columns[keep]]
    points = np.stack([(columns[keep] - camera.cx) * z / camera.fx, (rows[keep] - camera.cy) * z / camera.fy, z], 1)
    points = points[_before_wrist(points, x, left)]
    if len(points) > MAX_POINTS:
        points = points[np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False)]
    padded = np.zeros((MAX_POINTS, 3))
    padded[: len(points)] = points
    weight = np.zeros(MAX_POINTS)
    weight[: len(points)] = 1.0
    return DepthView(
        points=padded,
        point_weight=weight,
        grid_depth=grid_depth,
        grid_distance=distance.astype(np.float64),
        box=np.array([u0, v0, cell]),
        intrinsics=np.array([camera.fx, camera.fy, camera.cx, camera.cy]),
    )


def _before_wrist(points: np.ndarray, x: torch.Tensor, left: bool) -> np.ndarray:
    """Points on the hand's side of the fitted wrist: hand-frame y above -10 mm. (N, 3) -> (N,) bool."""
    placement = hand_model.placement(x[None], torch.tensor([float(left)], dtype=x.dtype))[0].numpy()
    hand = (points - x[3:6].numpy()) @ placement  # (R M)^T (p - t), rows
    return hand[:, 1] > -10.0


def _bilinear(image: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Image (G, G) at continuous cell coordinates (K,), clamped to the grid; differentiable in u and v."""
    size = image.shape[0]
    u, v = u.clamp(0.0, size - 1.0), v.clamp(0.0, size - 1.0)
    u_low, v_low = u.floor().clamp(max=size - 2), v.floor().clamp(max=size - 2)
    fu, fv = u - u_low, v - v_low
    iu, iv = u_low.long(), v_low.long()
    top = image[iv, iu] * (1 - fu) + image[iv, iu + 1] * fu
    bottom = image[iv + 1, iu] * (1 - fu) + image[iv + 1, iu + 1] * fu
    return top * (1 - fv) + bottom * fv


def _nearest_cones(x: torch.Tensor, left: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """The cone nearest to each point, (B, N) indices: the hand's distance is that cone's, and so is its
    derivative, so the Jacobian needs one cone per point instead of all 24."""
    return round_cone_distance(points, *fitted_cones(x, left)).argmin(dim=-1)


def _frame_residuals(
    step, x, left, nearest, points, point_weight, grid_depth, grid_distance, box, intrinsics, net, net_weight
):
    """One frame's residuals at x moved by a pose step (26,). Returns them twice (value and aux for jacfwd)."""
    moved = hand_model.retract(x[None], torch.cat([step, torch.zeros_like(x[NUM_POSE:])])[None])
    start, end, start_radius, end_radius = fitted_cones(moved, left[None])
    cones = (part[0, nearest, None] for part in (start, end, start_radius, end_radius))  # (N, 1, ...) each
    distance = round_cone_distance(points[:, None], *cones)[:, 0, 0]  # (N,)
    size = distance.detach().abs()
    robust = torch.where(size < HUBER_MM, 1.0, HUBER_MM / size.clamp_min(1e-9)) * (size < OUTLIER_MM)
    data = point_weight * robust.sqrt() * distance

    fractions = torch.tensor(AXIS_SAMPLES, dtype=x.dtype)[:, None]  # (S, 1)
    centres = (start[0, None] + fractions[..., None] * (end - start)[0, None]).reshape(-1, 3)  # (S K, 3)
    radii = (start_radius[0, None] + fractions * (end_radius - start_radius)[0, None]).reshape(-1)
    fx, fy, cx, cy = intrinsics.unbind()
    z = centres[:, 2].clamp_min(1.0)
    u = ((fx * centres[:, 0] / z + cx) - box[0]) / box[2] - 0.5
    v = ((fy * centres[:, 1] / z + cy) - box[1]) / box[2] - 0.5
    outside_mm = _bilinear(grid_distance, u, v) * box[2] * z / fx
    size = grid_depth.shape[0]
    iu, iv = u.detach().round().clamp(0, size - 1).long(), v.detach().round().clamp(0, size - 1).long()
    seen = grid_depth[iv, iu]
    through = torch.relu(seen - (z - radii) - SEE_THROUGH_MARGIN_MM)
    free = W_FREE * torch.where(seen > 0, through, outside_mm)

    joints = hand_model.joints_of(moved, left[None])[0]
    prior = W_JOINT * (net_weight.sqrt()[:, None] * (joints - net)).reshape(-1)
    residuals = torch.cat([data, free, prior])
    return residuals, residuals


def refine_against_depth(
    views: list[DepthView],
    x: torch.Tensor,
    left: torch.Tensor,
    net_joints: torch.Tensor,
    net_weights: torch.Tensor,
    iterations: int = ITERATIONS,
) -> torch.Tensor:
    """Refine B fitted hands x (B, 42) against their frames' views; the shape is held. Returns x (B, 42).

    net_joints (B, 21, 3) and net_weights (B, 21): the canonical joints the network predicted, the prior.
    """
    data = [
        torch.as_tensor(np.stack([getattr(view, name) for view in views]), dtype=x.dtype)
        for name in ("points", "point_weight", "grid_depth", "grid_distance", "box", "intrinsics")
    ]
    jacobian_of = torch.func.vmap(torch.func.jacfwd(_frame_residuals, has_aux=True))
    shape_columns = torch.zeros(0)

    def residuals(current: torch.Tensor):
        nonlocal shape_columns
        step = torch.zeros(len(current), NUM_POSE, dtype=current.dtype)
        nearest = _nearest_cones(current, left, data[0])
        jacobian, values = jacobian_of(step, current, left, nearest, *data, net_joints, net_weights)
        if shape_columns.shape[:2] != values.shape:
            shape_columns = torch.zeros(*values.shape, NUM_PARAMETERS - NUM_POSE, dtype=current.dtype)
        return values, torch.cat([jacobian, shape_columns], dim=-1)

    lower, upper = hand_model.parameter_bounds(x.dtype)
    free = torch.zeros(NUM_PARAMETERS, dtype=torch.bool)
    free[:NUM_POSE] = True
    return levenberg_marquardt(residuals, x, hand_model.retract, lower, upper, free, iterations).x
