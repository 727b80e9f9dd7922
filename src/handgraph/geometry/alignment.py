"""The similarity transform that best aligns two point sets (Umeyama 1991), for NumPy arrays and torch tensors.

With weights w (summing to 1), means mu_x, mu_y, centred points x', y', covariance C = sum_k w_k y'_k x'_k^T
and its SVD C = U S V^T, the least-squares fit of y ~ s R x + t is

    R = U D V^T,   D = diag(1, 1, sign(det U det V)),   s = tr(S D) / sum_k w_k |x'_k|^2,   t = mu_y - s R mu_x

(D keeps R a rotation, never a reflection). Pose benchmarks call the error after this alignment the
Procrustes-aligned error (PA-MPJPE): what is left of a skeleton's error once its place, turn and size are
forgiven, i.e. whether it follows the pose.
"""

from __future__ import annotations

from handgraph.geometry.arrays import array_module


def similarity_transform(source, target, weights=None):
    """Rotation, scale and translation with target ~ s R source + t, weighted least squares.
    (B, K, 3), (B, K, 3), (B, K) or None (all 1) -> (B, 3, 3), (B,), (B, 3)."""
    xp = array_module(source)
    if weights is None:
        weights = xp.ones_like(source[..., 0])
    w = weights / xp.clip(weights.sum(axis=1, keepdims=True), 1e-12, None)
    source_mean, target_mean = (w[..., None] * source).sum(axis=1), (w[..., None] * target).sum(axis=1)
    source_c, target_c = source - source_mean[:, None], target - target_mean[:, None]
    covariance = xp.swapaxes(w[..., None] * target_c, -1, -2) @ source_c  # (B, 3, 3)
    u, singular, vh = xp.linalg.svd(covariance)
    flip = xp.sign(xp.linalg.det(u) * xp.linalg.det(vh))
    signs = xp.concatenate([xp.ones_like(singular[:, :2]), flip[:, None]], axis=1)
    rotation = (u * signs[:, None, :]) @ vh
    spread = xp.clip((w * (source_c * source_c).sum(axis=-1)).sum(axis=1), 1e-12, None)
    scale = (singular * signs).sum(axis=1) / spread
    return rotation, scale, target_mean - scale[:, None] * (source_mean[:, None] @ xp.swapaxes(rotation, -1, -2))[:, 0]


def procrustes_aligned(predicted, truth):
    """``predicted`` (B, K, 3) moved, turned and scaled onto ``truth`` (B, K, 3) by ``similarity_transform``."""
    xp = array_module(predicted)
    rotation, scale, translation = similarity_transform(predicted, truth)
    return scale[:, None, None] * (predicted @ xp.swapaxes(rotation, -1, -2)) + translation[:, None]
