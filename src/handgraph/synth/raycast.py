"""An exact ray-cast depth renderer for unions of round cones and planes, seen by pinhole cameras.

Rays leave the camera centre (the origin) through pixel centres, d = normalise(((u - cx)/fx, (v - cy)/fy, 1)),
and a pixel's depth is the z of the nearest hit (0 where nothing is hit). A round cone is the convex hull
of two balls, so a ray enters it where it first enters ball A, ball B, or the lateral cone surface between
the two tangent circles. With w the unit axis, L the axis length and sin(alpha) = (ra - rb) / L, the lateral
surface is the set of points q = p - a with axial coordinate s = q.w in [ra sin(alpha), L + rb sin(alpha)] and

    (|q|^2 - s^2) cos^2(alpha) = (ra - s sin(alpha))^2,

a quadratic in the ray parameter t once p = t d. Every root is exact; nothing is sampled.

Boxes and cylinders (``synth.objects.Solids``) are cut in their own frame: a box is the intersection of three
slabs |o_i + t d_i| <= h_i, a cylinder that of the infinite cylinder (o_x + t d_x)^2 + (o_y + t d_y)^2 <= r^2 (a
quadratic in t) and one slab, so each gives the interval [t_in, t_out] of the ray inside it. A hollowed part
is the difference of two such intervals; its first point is t_in unless t_in lies in the hollow's interval
[s_in, s_out], and then s_out if s_out < t_out (the ray enters through the hollow's opening and meets its wall).

Speed comes from culling: each cone only meets the rays of the pixels inside the projection of its bounding
box that also lie near its projected axis (``_axis_reach``). The loops are compiled with numba; each pixel
keeps the nearest hit, so the result does not depend on the order of the cones.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from handgraph.synth.objects import CYLINDER, HandObject, Solids, merge_objects
from handgraph.synth.surface import RoundCones


def render_depth(cones: RoundCones, intrinsics: np.ndarray, height: int, width: int) -> np.ndarray:
    """Depth images (mm, 0 where no cone is hit) of F frames, each with its own camera.

    Shapes: cones (N, ...) with ``cones.frame`` in [0, F), intrinsics (F, 4) as (fx, fy, cx, cy)
    -> (F, height, width) float64.
    """
    depth = np.full((len(intrinsics), height, width), np.inf)
    _cast_round_cones(
        np.ascontiguousarray(cones.start, dtype=np.float64),
        np.ascontiguousarray(cones.end, dtype=np.float64),
        np.ascontiguousarray(cones.start_radius, dtype=np.float64),
        np.ascontiguousarray(cones.end_radius, dtype=np.float64),
        np.ascontiguousarray(cones.frame, dtype=np.int64),
        np.ascontiguousarray(intrinsics, dtype=np.float64),
        depth,
    )
    depth[np.isinf(depth)] = 0.0
    return depth


def render_solids(solids: Solids, intrinsics: np.ndarray, height: int, width: int) -> np.ndarray:
    """Depth images (mm, 0 where nothing is hit) of the boxes and cylinders of F frames, each with its camera.

    Shapes: solids (N, ...) with ``solids.frame`` in [0, F), intrinsics (F, 4) -> (F, height, width) float64.
    """
    depth = np.full((len(intrinsics), height, width), np.inf)
    _cast_solids(
        np.ascontiguousarray(solids.kind, dtype=np.int64),
        np.ascontiguousarray(solids.centre, dtype=np.float64),
        np.ascontiguousarray(solids.axes, dtype=np.float64),
        np.ascontiguousarray(solids.half, dtype=np.float64),
        np.ascontiguousarray(solids.cut_half, dtype=np.float64),
        np.ascontiguousarray(solids.cut_shift, dtype=np.float64),
        np.ascontiguousarray(solids.frame, dtype=np.int64),
        np.ascontiguousarray(intrinsics, dtype=np.float64),
        depth,
    )
    depth[np.isinf(depth)] = 0.0
    return depth


def render_objects(objects: list[HandObject], intrinsics: np.ndarray, height: int, width: int) -> np.ndarray:
    """Depth (B, H, W) of hand-held or loose objects, each already in its image's frame (``HandObject.in_frame``):
    their round cones and solids together, the nearest surface per pixel, 0 where none."""
    cones, solids = merge_objects(objects)
    return nearest_depth(
        render_depth(cones, intrinsics, height, width), render_solids(solids, intrinsics, height, width)
    )


def nearest_depth(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per pixel the nearer of two depth images, where 0 means nothing: two renders composed into one scene."""
    return np.where((first > 0) & ((second == 0) | (first <= second)), first, second)


def render_planes(
    normals: np.ndarray, offsets: np.ndarray, intrinsics: np.ndarray, height: int, width: int
) -> np.ndarray:
    """Depth images of one plane per frame, {x : n.x = offset}, 0 where the ray misses it (or runs parallel).

    Shapes: normals (F, 3), offsets (F,), intrinsics (F, 4) -> (F, height, width).
    """
    depth = np.zeros((len(normals), height, width))
    _cast_planes(
        np.ascontiguousarray(normals, dtype=np.float64),
        np.ascontiguousarray(offsets, dtype=np.float64),
        np.ascontiguousarray(intrinsics, dtype=np.float64),
        depth,
    )
    return depth


@numba.njit(cache=True)
def _cast_planes(normals, offsets, intrinsics, depth):  # pragma: no cover
    for f in range(len(normals)):
        fx, fy, cx, cy = intrinsics[f]
        for v in range(depth.shape[1]):
            for u in range(depth.shape[2]):
                # The ray (x, y, 1) has the depth itself as its parameter.
                facing = normals[f, 0] * (u - cx) / fx + normals[f, 1] * (v - cy) / fy + normals[f, 2]
                if facing != 0.0 and offsets[f] / facing > 0.0:
                    depth[f, v, u] = offsets[f] / facing


@numba.njit(cache=True)
def _cast_round_cones(start, end, start_radius, end_radius, frame, intrinsics, depth):  # pragma: no cover
    height, width = depth.shape[1], depth.shape[2]
    for k in range(len(start_radius)):
        ax, ay, az, bx, by, bz = start[k, 0], start[k, 1], start[k, 2], end[k, 0], end[k, 1], end[k, 2]
        ra, rb, f = start_radius[k], end_radius[k], frame[k]
        fx, fy, cx, cy = intrinsics[f, 0], intrinsics[f, 1], intrinsics[f, 2], intrinsics[f, 3]
        u_low, u_high, v_low, v_high = _pixel_bounds(ax, ay, az, bx, by, bz, ra, rb, fx, fy, cx, cy, width, height)
        reach = _axis_reach(ax, ay, az, bx, by, bz, ra, rb, fx, fy)
        au, av = fx * ax / az + cx, fy * ay / az + cy
        eu, ev = fx * bx / bz + cx - au, fy * by / bz + cy - av
        inverse_length = 1.0 / max(eu * eu + ev * ev, 1e-12)
        cone = _cone_constants(ax, ay, az, bx, by, bz, ra, rb)
        for v in range(v_low, v_high + 1):
            for u in range(u_low, u_high + 1):
                # Skip pixel centres that no ball of the cone can project onto.
                along = min(max(((u - au) * eu + (v - av) * ev) * inverse_length, 0.0), 1.0)
                off_u, off_v = u - au - along * eu, v - av - along * ev
                if off_u * off_u + off_v * off_v > reach * reach:
                    continue
                dx, dy = (u - cx) / fx, (v - cy) / fy
                norm = math.sqrt(dx * dx + dy * dy + 1.0)
                z = _first_hit(dx / norm, dy / norm, 1.0 / norm, cone) / norm
                if z < depth[f, v, u]:
                    depth[f, v, u] = z


@numba.njit(cache=True, inline="always")
def _pixel_bounds(ax, ay, az, bx, by, bz, ra, rb, fx, fy, cx, cy, width, height):  # pragma: no cover
    """Pixel rectangle (inclusive) inside the projection of the cone's bounding box; the whole image when the
    box reaches behind the camera, an empty range when it lies outside."""
    low_x, low_y, low_z = min(ax - ra, bx - rb), min(ay - ra, by - rb), min(az - ra, bz - rb)
    high_x, high_y, high_z = max(ax + ra, bx + rb), max(ay + ra, by + rb), max(az + ra, bz + rb)
    if low_z <= 1.0:
        return 0, width - 1, 0, height - 1
    u_min, u_max, v_min, v_max = np.inf, -np.inf, np.inf, -np.inf
    for corner in range(8):  # a box seen from in front projects into the hull of its corners
        x = high_x if corner & 1 else low_x
        y = high_y if corner & 2 else low_y
        z = high_z if corner & 4 else low_z
        u, v = fx * x / z + cx, fy * y / z + cy
        u_min, u_max, v_min, v_max = min(u_min, u), max(u_max, u), min(v_min, v), max(v_max, v)
    return (
        max(int(math.ceil(u_min)), 0),
        min(int(math.floor(u_max)), width - 1),
        max(int(math.ceil(v_min)), 0),
        min(int(math.floor(v_max)), height - 1),
    )


@numba.njit(cache=True, inline="always")
def _axis_reach(ax, ay, az, bx, by, bz, ra, rb, fx, fy):  # pragma: no cover
    """How far (pixels) from the projected axis the cone's projection can reach.

    The cone is the union of balls centred on its axis, and a ball (c, r) with c_z > r projects within
    r |c| / (c_z (c_z - r)) focal lengths of the projection of c: the image offset of c + e is
    (c_z e_xy - c_xy e_z) / (c_z (c_z + e_z)), whose numerator is part of c x e. The largest radius, the
    largest |c| and the smallest c_z over the two ends bound every ball; infinite when the cone nears the
    camera plane.
    """
    radius = max(ra, rb)
    nearest = min(az, bz)
    if nearest <= radius + 1.0:
        return np.inf
    farthest = math.sqrt(max(ax * ax + ay * ay + az * az, bx * bx + by * by + bz * bz))
    return radius * farthest / (nearest * (nearest - radius)) * max(abs(fx), abs(fy)) + 1e-6


@numba.njit(cache=True, inline="always")
def _cone_constants(ax, ay, az, bx, by, bz, ra, rb):  # pragma: no cover
    """What the intersection needs of a cone that does not depend on the ray, as one tuple."""
    length = math.sqrt((bx - ax) ** 2 + (by - ay) ** 2 + (bz - az) ** 2)
    sin_alpha = (ra - rb) / max(length, 1e-12)
    has_side = abs(sin_alpha) < 1.0  # otherwise one ball holds the other: there is no lateral surface
    wx, wy, wz = (bx - ax) / max(length, 1e-12), (by - ay) / max(length, 1e-12), (bz - az) / max(length, 1e-12)
    start_axis = ax * wx + ay * wy + az * wz  # a.w
    start_squared = ax * ax + ay * ay + az * az
    return (
        ax, ay, az, start_squared - ra * ra,  # ball A: centre, |a|^2 - ra^2
        bx, by, bz, bx * bx + by * by + bz * bz - rb * rb,  # ball B
        has_side, wx, wy, wz, start_axis,
        start_squared - start_axis * start_axis,  # squared distance of the origin from the axis line
        sin_alpha, 1.0 - sin_alpha * sin_alpha,
        ra + start_axis * sin_alpha,  # m
        ra * sin_alpha, length + rb * sin_alpha,  # the lateral surface's range of s
    )  # fmt: skip


@numba.njit(cache=True, inline="always")
def _first_hit(dx, dy, dz, cone):  # pragma: no cover
    """Ray parameter of the first hit of the ray t (dx, dy, dz) (unit direction, from the origin) with a cone
    given by ``_cone_constants``; inf for a miss."""
    ax, ay, az, start_power, bx, by, bz, end_power, has_side, wx, wy, wz = cone[:12]
    start_axis, radial_squared, sin_alpha, cos_squared, m, low, high = cone[12:]
    along_start = dx * ax + dy * ay + dz * az  # d.a
    hit = min(_sphere_entry(along_start, start_power), _sphere_entry(dx * bx + dy * by + dz * bz, end_power))
    if not has_side:
        return hit
    along_axis = dx * wx + dy * wy + dz * wz  # d.w
    qa = cos_squared - along_axis * along_axis
    qb = 2.0 * (cos_squared * (along_axis * start_axis - along_start) + m * along_axis * sin_alpha)
    qc = cos_squared * radial_squared - m * m
    if abs(qa) > 1e-12:
        discriminant = qb * qb - 4.0 * qa * qc
        if discriminant < 0.0:
            return hit
        root = math.sqrt(discriminant)
        hit = _keep_lateral(hit, (-qb - root) / (2.0 * qa), along_axis, start_axis, low, high)
        return _keep_lateral(hit, (-qb + root) / (2.0 * qa), along_axis, start_axis, low, high)
    if qb != 0.0:  # the ray runs parallel to a generator: qb t + qc = 0
        return _keep_lateral(hit, -qc / qb, along_axis, start_axis, low, high)
    return hit


@numba.njit(cache=True, inline="always")
def _keep_lateral(hit, t, along_axis, start_axis, low, high):  # pragma: no cover
    axial = t * along_axis - start_axis
    if t > 0.0 and low <= axial <= high and t < hit:
        return t
    return hit


@numba.njit(cache=True, inline="always")
def _sphere_entry(along, power):  # pragma: no cover
    # t^2 - 2 t along + power = 0 with along = d.c and power = |c|^2 - r^2; the entry is the smaller root,
    # in front of the camera.
    half_chord_squared = along * along - power
    if half_chord_squared < 0.0:
        return np.inf
    entry = along - math.sqrt(half_chord_squared)
    return entry if entry > 0.0 else np.inf


@numba.njit(cache=True)
def _cast_solids(kind, centre, axes, half, cut_half, cut_shift, frame, intrinsics, depth):  # pragma: no cover
    height, width = depth.shape[1], depth.shape[2]
    for k in range(len(kind)):
        cx_, cy_, cz_ = centre[k, 0], centre[k, 1], centre[k, 2]
        bound = math.sqrt(half[k, 0] ** 2 + half[k, 1] ** 2 + half[k, 2] ** 2)  # a ball that holds the part
        f = frame[k]
        fx, fy, cx, cy = intrinsics[f, 0], intrinsics[f, 1], intrinsics[f, 2], intrinsics[f, 3]
        u_low, u_high, v_low, v_high = _pixel_bounds(
            cx_, cy_, cz_, cx_, cy_, cz_, bound, bound, fx, fy, cx, cy, width, height
        )
        # The camera centre and the ray (x, y, 1) in the part's frame: o = A^T (0 - c), d = A^T (x, y, 1).
        ox = -(axes[k, 0, 0] * cx_ + axes[k, 1, 0] * cy_ + axes[k, 2, 0] * cz_)
        oy = -(axes[k, 0, 1] * cx_ + axes[k, 1, 1] * cy_ + axes[k, 2, 1] * cz_)
        oz = -(axes[k, 0, 2] * cx_ + axes[k, 1, 2] * cy_ + axes[k, 2, 2] * cz_)
        hollow = cut_half[k, 0] > 0.0
        for v in range(v_low, v_high + 1):
            for u in range(u_low, u_high + 1):
                x, y = (u - cx) / fx, (v - cy) / fy
                dx = axes[k, 0, 0] * x + axes[k, 1, 0] * y + axes[k, 2, 0]
                dy = axes[k, 0, 1] * x + axes[k, 1, 1] * y + axes[k, 2, 1]
                dz = axes[k, 0, 2] * x + axes[k, 1, 2] * y + axes[k, 2, 2]
                t_in, t_out = _solid_interval(kind[k], ox, oy, oz, dx, dy, dz, half[k, 0], half[k, 1], half[k, 2])
                if not t_in < t_out:
                    continue
                if hollow:
                    s_in, s_out = _solid_interval(
                        kind[k], ox, oy, oz - cut_shift[k], dx, dy, dz, cut_half[k, 0], cut_half[k, 1], cut_half[k, 2]
                    )
                    if s_in < s_out and s_in <= t_in <= s_out:
                        if s_out >= t_out:
                            continue
                        t_in = s_out
                if 0.0 < t_in < depth[f, v, u]:  # t is the depth: the ray's z step is 1
                    depth[f, v, u] = t_in


@numba.njit(cache=True, inline="always")
def _solid_interval(kind, ox, oy, oz, dx, dy, dz, hx, hy, hz):  # pragma: no cover
    """[t_in, t_out] of the ray o + t d inside a box (half sides h) or a cylinder (radius hx, half height hz)
    in its own frame; an empty interval (t_in >= t_out) for a miss."""
    low, high = -np.inf, np.inf
    if kind == CYLINDER:
        a = dx * dx + dy * dy
        c = ox * ox + oy * oy - hx * hx
        if a < 1e-12:  # the ray runs along the axis
            if c > 0.0:
                return np.inf, -np.inf
        else:
            b = ox * dx + oy * dy  # half the linear coefficient
            discriminant = b * b - a * c
            if discriminant < 0.0:
                return np.inf, -np.inf
            root = math.sqrt(discriminant)
            low, high = (-b - root) / a, (-b + root) / a
        low, high = _slab(low, high, oz, dz, hz)
    else:
        low, high = _slab(low, high, ox, dx, hx)
        low, high = _slab(low, high, oy, dy, hy)
        low, high = _slab(low, high, oz, dz, hz)
    return low, high


@numba.njit(cache=True, inline="always")
def _slab(low, high, origin, direction, half):  # pragma: no cover
    """The interval [low, high] narrowed to the ray's part with |origin + t direction| <= half."""
    if abs(direction) < 1e-12:
        if abs(origin) > half:
            return np.inf, -np.inf
        return low, high
    first, second = (-half - origin) / direction, (half - origin) / direction
    return max(low, min(first, second)), min(high, max(first, second))
