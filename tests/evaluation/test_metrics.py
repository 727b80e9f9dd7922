import numpy as np
import pytest
from tolerance import assert_close

from handgraph.evaluation import metrics
from handgraph.geometry.numerics import summation_bound


def _reference_success_rate(errors, thresholds, reduce):
    # One frame and one threshold at a time: obviously correct, slow.
    rates = []
    for threshold in thresholds:
        within = 0
        for frame in errors:
            if reduce(list(frame)) <= threshold:
                within += 1
        rates.append(within / len(errors))
    return np.array(rates)


@pytest.fixture
def errors():
    rng = np.random.default_rng(1)
    predicted, truth = rng.normal(0, 40, (200, 14, 3)), rng.normal(0, 40, (200, 14, 3))
    return metrics.joint_errors(predicted, truth)


def test_joint_errors_by_hand():
    predicted = np.zeros((1, 2, 3))
    truth = np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, -2.0]]])
    np.testing.assert_array_equal(metrics.joint_errors(predicted, truth), [[5.0, 2.0]])  # sqrt(25), sqrt(4): exact


def test_joint_errors_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="expected two"):
        metrics.joint_errors(np.zeros((2, 14, 3)), np.zeros((2, 16, 3)))


def test_means_match_loops(errors):
    frames, joints = errors.shape
    total = sum(errors[n, j] for n in range(frames) for j in range(joints))
    # NumPy's pairwise sums against a loop: Higham's bound on two orders of the same positive float64 terms
    count = frames * joints
    assert_close(metrics.mean_joint_error(errors), total / count, summation_bound(count, total, np.float64) / count)
    with pytest.raises(AssertionError):  # the smallest of the 2800 errors left out is caught
        smallest = float(errors.min())
        assert_close(
            metrics.mean_joint_error(errors),
            (total - smallest) / count,
            summation_bound(count, total, np.float64) / count,
        )
    per_joint = np.array([sum(errors[n, j] for n in range(frames)) / frames for j in range(joints)])
    assert_close(metrics.per_joint_mean_error(errors), per_joint, summation_bound(frames, per_joint, np.float64))
    middle = float(np.sort(errors.ravel())[1399:1401].mean())  # the same two values, averaged: bitwise
    assert metrics.median_joint_error(errors) == middle


def test_median_by_hand():
    assert metrics.median_joint_error(np.array([[1.0, 9.0], [3.0, 4.0]])) == 3.5


def test_success_rates_match_loops(errors):
    thresholds = metrics.DEFAULT_THRESHOLDS_MM
    np.testing.assert_array_equal(
        metrics.success_rate(errors, thresholds), _reference_success_rate(errors, thresholds, max)
    )
    np.testing.assert_array_equal(
        metrics.mean_error_success_rate(errors, thresholds),
        _reference_success_rate(errors, thresholds, lambda values: sum(values) / len(values)),
    )


def test_threshold_is_inclusive():
    errors = np.array([[10.0, 2.0], [10.5, 1.0]])
    np.testing.assert_array_equal(metrics.success_rate(errors, np.array([9.0, 10.0, 11.0])), [0.0, 0.5, 1.0])


def test_sequence_means_and_uncovered_sequences():
    errors = np.arange(10, dtype=float)[:, None] * np.ones((1, 3))
    assert metrics.sequence_mean_errors(errors, [(0, 4), (4, 10), (10, 20)]) == [1.5, 6.5, None]
    assert metrics.sequence_mean_errors(errors[:6], [(0, 4), (4, 10)]) == [1.5, 4.5]


def test_area_under_curve():
    thresholds = np.arange(0, 81, dtype=float)
    # trapezoids over 81 thresholds, normalised: Higham's bound on a sum of 80 terms adding up to 1
    assert_close(metrics.area_under_curve(thresholds, np.ones(81)), 1.0, summation_bound(81, 1.0, np.float64))
    assert_close(metrics.area_under_curve(thresholds, thresholds / 80), 0.5, summation_bound(81, 1.0, np.float64))
    with pytest.raises(ValueError):
        metrics.area_under_curve(np.array([5.0]), np.array([1.0]))
