"""The field's 3D hand pose metrics as pure NumPy functions.

Every metric starts from the per-joint Euclidean errors of N frames and J joints, in millimetres:

    e[n, j] = || xyz_pred[n, j] - xyz_gt[n, j] ||_2

- mean joint error: mean of e over frames and joints;
- success rate at t: fraction of frames whose *largest* joint error is <= t (Taylor et al. 2012; the curve
  every depth-based paper plots), and its variant on the frame's *mean* joint error;
- area under a success curve: its integral over the threshold range divided by the range, in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_THRESHOLDS_MM = np.arange(0, 81, dtype=np.float64)
"""Thresholds of the success curves, 0 to 80 mm in 1 mm steps, as in the community kit's figures."""


def joint_errors(predicted_xyz: np.ndarray, ground_truth_xyz: np.ndarray) -> np.ndarray:
    """Euclidean error of every joint of every frame. Shapes: (N, J, 3), (N, J, 3) -> (N, J)."""
    if predicted_xyz.shape != ground_truth_xyz.shape or predicted_xyz.shape[-1] != 3:
        raise ValueError(f"expected two (N, J, 3) arrays, got {predicted_xyz.shape} and {ground_truth_xyz.shape}")
    return np.linalg.norm(predicted_xyz - ground_truth_xyz, axis=-1)


def mean_joint_error(errors: np.ndarray) -> float:
    """Mean over frames and joints. errors: (N, J)."""
    return float(errors.mean())


def median_joint_error(errors: np.ndarray) -> float:
    """Median over all N x J joint errors. errors: (N, J)."""
    return float(np.median(errors))


def per_joint_mean_error(errors: np.ndarray) -> np.ndarray:
    """Mean error of each joint over frames. (N, J) -> (J,)."""
    return errors.mean(axis=0)


def sequence_mean_errors(
    errors: np.ndarray, frame_ranges: Sequence[tuple[int, int]], frames: np.ndarray | None = None
) -> list[float | None]:
    """Mean joint error over the frames in each [start, stop) range; None where the range holds none of them.
    ``frames`` (N,) is each row's frame number in the test set (default 0..N-1: the rows are its first frames)."""
    frames = np.arange(len(errors)) if frames is None else np.asarray(frames)
    means: list[float | None] = []
    for start, stop in frame_ranges:
        part = errors[(frames >= start) & (frames < stop)]
        means.append(float(part.mean()) if len(part) else None)
    return means


def success_rate(errors: np.ndarray, thresholds_mm: np.ndarray = DEFAULT_THRESHOLDS_MM) -> np.ndarray:
    """Fraction of frames whose largest joint error is within each threshold. (N, J), (T,) -> (T,)."""
    return _fraction_within(errors.max(axis=1), thresholds_mm)


def mean_error_success_rate(errors: np.ndarray, thresholds_mm: np.ndarray = DEFAULT_THRESHOLDS_MM) -> np.ndarray:
    """Fraction of frames whose mean joint error is within each threshold. (N, J), (T,) -> (T,)."""
    return _fraction_within(errors.mean(axis=1), thresholds_mm)


def _fraction_within(frame_errors: np.ndarray, thresholds_mm: np.ndarray) -> np.ndarray:
    return (frame_errors[:, None] <= thresholds_mm[None, :]).mean(axis=0)  # (N, T) -> (T,)


def area_under_curve(thresholds_mm: np.ndarray, rates: np.ndarray) -> float:
    """Trapezoidal area under a success curve, normalised by the threshold range: 1.0 is perfect."""
    span = float(thresholds_mm[-1] - thresholds_mm[0])
    if span <= 0:
        raise ValueError("thresholds must span a positive range")
    return float(np.trapezoid(rates, thresholds_mm) / span)
