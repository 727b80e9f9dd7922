import math
from dataclasses import dataclass

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.geometry.numerics import ulps
from handgraph.inference.tracking import HandTracker, OneEuroFilter


def _one_euro_reference(samples, times, min_cutoff, beta, derivative_cutoff):
    """The filter of Casiez et al. for one scalar signal, written out step by step."""

    def alpha(cutoff, period):
        return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff) / period)

    value, derivative, out = samples[0], 0.0, [samples[0]]
    for k in range(1, len(samples)):
        period = times[k] - times[k - 1]
        derivative = derivative + alpha(derivative_cutoff, period) * ((samples[k] - value) / period - derivative)
        value = value + alpha(min_cutoff + beta * abs(derivative), period) * (samples[k] - value)
        out.append(value)
    return np.array(out)


def test_one_euro_filter_equals_the_reference():
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.05, 40))
    signal = 100 * np.sin(times * 3) + rng.normal(0, 2, 40)  # one joint moving along x
    joints = np.zeros((40, 1, 3))
    joints[:, 0, 0] = signal
    smoother = OneEuroFilter(min_cutoff_hz=1.5, beta=0.02, derivative_cutoff_hz=1.0)
    got = np.array([smoother(joints[k], times[k])[0, 0] for k in range(40)])
    # the same float64 recursion written twice: a few roundings per step on values below 110, over 40 steps
    expected = _one_euro_reference(signal, times, 1.5, 0.02, 1.0)
    assert_close(got, expected, ulps(np.abs(signal).max(), np.float64, 16 * 40))
    with pytest.raises(AssertionError):  # a speed coefficient 0.1 % off is caught
        assert_close(
            got, _one_euro_reference(signal, times, 1.5, 0.02002, 1.0), ulps(np.abs(signal).max(), np.float64, 640)
        )
    assert np.abs(np.diff(got)).sum() < np.abs(np.diff(signal)).sum()  # it smooths


def test_one_euro_filter_resets_and_checks_time():
    smoother = OneEuroFilter()
    smoother(np.zeros((21, 3)), 0.0)
    with pytest.raises(HandgraphError, match="time must increase"):
        smoother(np.ones((21, 3)), 0.0)
    smoother.reset()
    np.testing.assert_array_equal(smoother(np.ones((21, 3)), 0.0), np.ones((21, 3)))
    with pytest.raises(HandgraphError, match="must be positive"):
        OneEuroFilter(min_cutoff_hz=0)


@dataclass
class _Prediction:
    xyz: np.ndarray
    support: float
    centre_xyz: np.ndarray
    uvd: np.ndarray = None


class _FakePredictor:
    """Records how it was called; the hand is supported by the frame while ``supported`` says so."""

    def __init__(self):
        self.calls, self.supported = [], True

    def __call__(self, depth, camera, centre_xyz=None, left=False, refine=None):
        self.calls.append("localizer" if centre_xyz is None else "centre")
        xyz = np.full((21, 3), 500.0)
        return _Prediction(xyz, 1.0 if self.supported else 0.1, xyz.mean(0), xyz)


def test_tracker_follows_the_hand_and_relocalises_when_lost():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    sources = [tracker(frame, camera, k / 30).source for k in range(3)]
    assert sources == ["localizer", "tracked", "tracked"] and predictor.calls == ["localizer", "centre", "centre"]
    predictor.supported = False  # the hand leaves: the tracked crop holds no hand, the localiser is asked
    assert tracker(frame, camera, 0.2).source == "localizer" and predictor.calls[-2:] == ["centre", "localizer"]
    predictor.supported = True
    assert tracker(frame, camera, 0.3).source == "localizer"  # lost last frame: found afresh
    assert tracker(frame, camera, 0.4).source == "tracked"
