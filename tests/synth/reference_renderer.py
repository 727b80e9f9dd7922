"""A slow, obviously correct depth renderer for tests: sphere tracing on the exact signed distance of the
union of round cones, every ray against every primitive, no culling."""

import numpy as np


def round_cone_distance(points, start, end, start_radius, end_radius):
    """Signed distance from points (K, 3) to one round cone: in the (axial, radial) half-plane the surface is
    arc A, the tangent segment, arc B; the point's coordinate along the tangent line picks which is nearest."""
    axis = end - start
    length = np.linalg.norm(axis)
    unit = axis / length
    q = points - start
    axial = q @ unit
    radial = np.sqrt(np.maximum(np.einsum("kc,kc->k", q, q) - axial**2, 0.0))
    sin_alpha = (start_radius - end_radius) / length
    cos_alpha = np.sqrt(1 - sin_alpha**2)
    along_line = axial * cos_alpha - radial * sin_alpha
    to_line = axial * sin_alpha + radial * cos_alpha - start_radius
    to_start = np.linalg.norm(q, axis=-1) - start_radius
    to_end = np.linalg.norm(points - end, axis=-1) - end_radius
    return np.where(along_line < 0, to_start, np.where(along_line > length * cos_alpha, to_end, to_line))


def reference_depth(cones, frame, intrinsics, height, width, iterations=400, tolerance=1e-7):
    """Depth image of one frame by sphere tracing. Returns the depth (0 for a miss) and whether the trace
    converged: a ray that grazes a surface creeps along it and may still be short of it at the end."""
    fx, fy, cx, cy = intrinsics
    v, u = np.mgrid[0:height, 0:width].astype(float)
    directions = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], -1).reshape(-1, 3)
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    mine = np.flatnonzero(cones.frame == frame)
    t = np.zeros(len(directions))
    for _ in range(iterations):
        points = t[:, None] * directions
        distance = np.min(
            [
                round_cone_distance(points, cones.start[k], cones.end[k], cones.start_radius[k], cones.end_radius[k])
                for k in mine
            ],
            axis=0,
        )
        t = np.minimum(np.where(distance > tolerance, t + np.maximum(distance, 0), t), 1e5)
    hit = distance <= 1e-4
    converged = (distance <= 1e-6) | (t >= 1e5)
    return np.where(hit, t * directions[:, 2], 0.0).reshape(height, width), converged.reshape(height, width)
