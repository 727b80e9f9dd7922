import numpy as np
import pytest

from handgraph.evaluation import metrics


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
    np.testing.assert_allclose(metrics.joint_errors(predicted, truth), [[5.0, 2.0]])


def test_joint_errors_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="expected two"):
        metrics.joint_errors(np.zeros((2, 14, 3)), np.zeros((2, 16, 3)))


def test_means_match_loops(errors):
    frames, joints = errors.shape
    total = sum(errors[n, j] for n in range(frames) for j in range(joints))
    assert metrics.mean_joint_error(errors) == pytest.approx(total / (frames * joints), rel=1e-12)
    per_joint = [sum(errors[n, j] for n in range(frames)) / frames for j in range(joints)]
    np.testing.assert_allclose(metrics.per_joint_mean_error(errors), per_joint, rtol=1e-12)
    assert metrics.median_joint_error(errors) == pytest.approx(float(np.sort(errors.ravel())[1399:1401].mean()))


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
    assert metrics.area_under_curve(thresholds, np.ones(81)) == pytest.approx(1.0)
    assert metrics.area_under_curve(thresholds, thresholds / 80) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        metrics.area_under_curve(np.array([5.0]), np.array([1.0]))
