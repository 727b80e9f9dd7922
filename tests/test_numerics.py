"""The rounding bounds every numeric check uses: right against brute force, and tight enough to matter."""

import numpy as np
import pytest
import torch
from tolerance import assert_close

from handgraph.geometry.numerics import eps, summation_bound, ulps, within


def test_eps_and_ulps_of_numpy_and_torch_dtypes():
    assert eps(np.float32) == eps(torch.float32) == eps(np.zeros(2, np.float32)) == 2.0**-23
    assert eps(torch.zeros(2, dtype=torch.float64)) == 2.0**-52
    assert ulps(512.0, np.float32, 1) == np.spacing(np.float32(512.0))  # eps * M is an ulp at a power of two
    assert ulps(700.0, np.float32, 1) >= np.spacing(np.float32(700.0))  # and at most twice an ulp elsewhere
    np.testing.assert_array_equal(ulps(np.array([1.0, -2.0]), np.float64, 4), [4 * 2.0**-52, 8 * 2.0**-52])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_summation_bound_holds_for_every_order_and_is_not_loose_by_orders_of_magnitude(dtype):
    rng = np.random.default_rng(0)
    terms = rng.normal(0, 100, 1000)
    exact = float(np.sum(terms.astype(np.longdouble)))
    sums = [float(np.cumsum(rng.permutation(terms).astype(dtype))[-1]) for _ in range(200)]  # left to right
    sums += [float(np.sum(terms.astype(dtype)))]  # NumPy's pairwise order
    bound = summation_bound(len(terms), np.abs(terms).sum(), dtype)
    spread = max(sums) - min(sums)
    assert spread <= bound and max(abs(value - exact) for value in sums) <= bound / 2
    assert spread > bound / 1e4  # the bound is a worst case, but not a vacuous one


def test_within_fails_on_nan_and_broadcasts_the_expected_value_and_the_bound():
    assert within(np.array([1.0, 2.0]), 1.5, 0.5) == (True, 1.0)
    assert not within(np.array([1.0, np.nan]), np.array([1.0, 1.0]), 1.0)[0]
    holds, ratio = within(np.array([[1.0, 10.0]]), np.array([[1.0, 10.5]]), np.array([1e-9, 1.0]))
    assert holds and ratio == 0.5
    with pytest.raises(ValueError):
        within(np.zeros(3), np.zeros(4), 1.0)


def test_assert_close_names_the_ratio():
    assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), 0.0)
    with pytest.raises(AssertionError, match=r"joints: a difference 2.00 times its bound"):
        assert_close(np.array([1.0, 3.0]), np.array([1.0, 2.0]), 0.5, "joints")
