"""How well a hand is followed through labelled sequences: pure NumPy metrics over frames pooled from them.

For each sequence: the predicted joints (T, J, 3) mm, NaN where no hand was answered; the true joints
(T, J, 3); whether the hand is visible (T,); and the frame rate of the frames given (a camera's, divided by the
stride when only every k-th frame is used). Then, over all frames of all sequences:

- a visible hand is *found* when a hand is answered whose joints' centroid lies within ``FOUND_MM`` of the
  true one (the localiser benchmark's criterion), *lost* otherwise;
- ``lost_percent``: lost frames among visible ones; ``false_hand_percent``: frames without a visible hand that
  got one, among those frames;
- ``mean_mm``: mean joint error over the found frames;
- ``frames_to_find_again``: the mean length (in the frames given) of the runs of consecutive lost frames:
  how long the hand stays lost, once lost or once it comes back into view;
- ``jitter_m_s2``: the mean distance between the predicted and the true joint acceleration, over every three
  consecutive found frames, a = (x[t+1] - 2 x[t] + x[t-1]) fps^2, in m/s^2; ``true_acceleration_m_s2`` is the
  labels' own mean acceleration, for scale.
"""

from __future__ import annotations

import numpy as np

FOUND_MM = 100.0


def found_frames(predicted: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(T,) bool: visible frames whose answered hand's centroid is within ``FOUND_MM`` of the true one."""
    answered = ~np.isnan(predicted).any(axis=(1, 2))
    error = np.linalg.norm(np.nan_to_num(predicted).mean(axis=1) - truth.mean(axis=1), axis=-1)
    return visible & answered & (error <= FOUND_MM)


def lost_runs(lost: np.ndarray) -> list[int]:
    """Lengths of the runs of consecutive True values of ``lost`` (T,)."""
    edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    return (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).tolist()


def acceleration(xyz: np.ndarray, fps: float) -> np.ndarray:
    """(T - 2, J, 3) mm/s^2: second differences of (T, J, 3) positions at ``fps`` frames per second."""
    return (xyz[2:] - 2.0 * xyz[1:-1] + xyz[:-2]) * fps**2


def tracking_metrics(sequences: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]) -> dict[str, float | None]:
    """The metrics of the module's text over ``sequences`` of (predicted, truth, visible, fps)."""
    errors, runs, jitter, true_acceleration = [], [], [], []
    visible_count = lost_count = hidden_count = false_count = 0
    for predicted, truth, visible, fps in sequences:
        found = found_frames(predicted, truth, visible)
        answered = ~np.isnan(predicted).any(axis=(1, 2))
        visible_count += int(visible.sum())
        lost_count += int((visible & ~found).sum())
        hidden_count += int((~visible).sum())
        false_count += int((~visible & answered).sum())
        runs += lost_runs(visible & ~found)
        errors.append(np.linalg.norm(predicted[found] - truth[found], axis=-1).mean(axis=-1))
        steady = found[2:] & found[1:-1] & found[:-2]
        if steady.any():
            difference = acceleration(np.nan_to_num(predicted), fps) - acceleration(truth, fps)
            jitter.append(np.linalg.norm(difference[steady], axis=-1).ravel())
            true_acceleration.append(np.linalg.norm(acceleration(truth, fps)[steady], axis=-1).ravel())
    errors = np.concatenate(errors) if errors else np.zeros(0)
    return {
        "visible_frames": visible_count,
        "mean_mm": float(errors.mean()) if errors.size else None,
        "lost_percent": 100.0 * lost_count / visible_count if visible_count else None,
        "false_hand_percent": 100.0 * false_count / hidden_count if hidden_count else None,
        "lost_runs": len(runs),
        "frames_to_find_again": float(np.mean(runs)) if runs else 0.0,
        "jitter_m_s2": float(np.concatenate(jitter).mean()) / 1000.0 if jitter else None,
        "true_acceleration_m_s2": float(np.concatenate(true_acceleration).mean()) / 1000.0 if jitter else None,
    }
