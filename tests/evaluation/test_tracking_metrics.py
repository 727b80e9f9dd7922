"""Tracking metrics (evaluation.tracking) against hand-made sequences whose figures are known."""

from __future__ import annotations

import numpy as np
import pytest

from handgraph.evaluation.tracking import FOUND_MM, acceleration, lost_runs, tracking_metrics


def _walk(frames: int, fps: float) -> np.ndarray:
    """(T, 21, 3): a hand moving at constant acceleration 2 m/s^2 along x, its joints 10 mm apart."""
    time_s = np.arange(frames) / fps
    base = np.zeros((21, 3)) + np.arange(21)[:, None] * [0.0, 10.0, 0.0] + [0.0, 0.0, 500.0]
    return base + (0.5 * 2000.0 * time_s**2)[:, None, None] * [1.0, 0.0, 0.0]


def test_a_perfect_tracker_has_no_error_loss_or_jitter():
    truth = _walk(30, 30.0)
    figures = tracking_metrics([(truth.copy(), truth, np.ones(30, bool), 30.0)])
    assert figures["mean_mm"] == 0.0 and figures["lost_percent"] == 0.0 and figures["lost_runs"] == 0
    assert figures["jitter_m_s2"] == pytest.approx(0.0, abs=1e-9)  # float64 second differences of exact squares
    assert figures["true_acceleration_m_s2"] == pytest.approx(2.0, rel=1e-9)


def test_lost_frames_runs_false_hands_and_jitter_are_counted():
    fps, truth = 30.0, _walk(12, 30.0)
    visible = np.ones(12, bool)
    visible[10:] = False  # the hand leaves for the last two frames
    predicted = truth + [3.0, 4.0, 0.0]  # 5 mm off everywhere
    predicted[2:4] = np.nan  # no answer: lost for two frames
    predicted[6] += [FOUND_MM + 1.0, 0.0, 0.0]  # answered far off: lost for one frame
    predicted[10] = np.nan  # no hand where none is visible, and one in the last frame:
    predicted[11] = truth[9]
    figures = tracking_metrics([(predicted, truth, visible, fps)])
    assert figures["lost_percent"] == pytest.approx(100.0 * 3 / 10)
    assert figures["lost_runs"] == 2 and figures["frames_to_find_again"] == pytest.approx(1.5)
    assert figures["false_hand_percent"] == pytest.approx(50.0)
    assert figures["mean_mm"] == pytest.approx(5.0)
    # a constant offset has the truth's acceleration: no jitter over the triples of found frames (0-1-... none
    # span a lost frame)
    assert figures["jitter_m_s2"] == pytest.approx(0.0, abs=1e-9)


def test_jitter_is_the_acceleration_that_noise_adds():
    fps, truth = 30.0, _walk(3, 30.0)
    predicted = truth.copy()
    predicted[1] += [1.0, 0.0, 0.0]  # 1 mm off in the middle frame: (0 - 2 + 0) mm * 900 /s^2 = 1.8 m/s^2
    figures = tracking_metrics([(predicted, truth, np.ones(3, bool), fps)])
    assert figures["jitter_m_s2"] == pytest.approx(1.8)


def test_helpers():
    assert lost_runs(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], bool)) == [2, 1, 3]
    assert lost_runs(np.zeros(4, bool)) == []
    np.testing.assert_allclose(acceleration(_walk(5, 10.0), 10.0)[..., 0], 2000.0)
