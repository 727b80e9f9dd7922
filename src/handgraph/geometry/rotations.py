"""Rotation matrices for NumPy arrays and torch tensors alike (batched, differentiable under torch).

Angles in radians. Every function maps (...,) angles or (..., 3) vectors to (..., 3, 3) matrices.
"""

from __future__ import annotations

from handgraph.geometry.arrays import array_module


def _matrix(rows: list[list]) -> object:
    xp = array_module(rows[0][0])
    return xp.stack([xp.stack(row, axis=-1) for row in rows], axis=-2)


def rotation_x(angle):
    """Rotation about x by ``angle``: turns +y towards +z. (...,) -> (..., 3, 3)."""
    xp = array_module(angle)
    c, s, zero, one = xp.cos(angle), xp.sin(angle), xp.zeros_like(angle), xp.ones_like(angle)
    return _matrix([[one, zero, zero], [zero, c, -s], [zero, s, c]])


def rotation_y(angle):
    """Rotation about y by ``angle``: turns +z towards +x. (...,) -> (..., 3, 3)."""
    xp = array_module(angle)
    c, s, zero, one = xp.cos(angle), xp.sin(angle), xp.zeros_like(angle), xp.ones_like(angle)
    return _matrix([[c, zero, s], [zero, one, zero], [-s, zero, c]])


def rotation_z(angle):
    """Rotation about z by ``angle``: turns +x towards +y. (...,) -> (..., 3, 3)."""
    xp = array_module(angle)
    c, s, zero, one = xp.cos(angle), xp.sin(angle), xp.zeros_like(angle), xp.ones_like(angle)
    return _matrix([[c, -s, zero], [s, c, zero], [zero, zero, one]])


def axis_angle_to_matrix(rotation_vector):
    """Rodrigues' formula: a rotation vector (axis times angle) to a matrix. (..., 3) -> (..., 3, 3).

    R = I + sin(t) K + (1 - cos(t)) K^2 with K the cross-product matrix of the unit axis; the small-angle
    branch uses the series of sin(t)/t and (1 - cos(t))/t^2 so that gradients stay finite at zero.
    """
    xp = array_module(rotation_vector)
    x, y, z = rotation_vector[..., 0], rotation_vector[..., 1], rotation_vector[..., 2]
    angle_squared = x * x + y * y + z * z
    small = angle_squared < 1e-8
    safe = xp.where(small, xp.ones_like(angle_squared), angle_squared)
    angle = xp.sqrt(safe)
    sin_term = xp.where(small, 1 - angle_squared / 6, xp.sin(angle) / angle)
    cos_term = xp.where(small, 0.5 - angle_squared / 24, (1 - xp.cos(angle)) / safe)
    zero, one = xp.zeros_like(x), xp.ones_like(x)
    cross = _matrix([[zero, -z, y], [z, zero, -x], [-y, x, zero]])  # K * angle
    identity = _matrix([[one, zero, zero], [zero, one, zero], [zero, zero, one]])
    return identity + sin_term[..., None, None] * cross + cos_term[..., None, None] * (cross @ cross)
