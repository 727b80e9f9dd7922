"""How far apart two correct float computations of the same values may lie, from the dtype and the magnitude.

Two programs that compute one function in floating point (PyTorch and ONNX Runtime, a vectorised kernel and a
loop, one thread and two, AVX-512 and AVX2 kernels) differ by rounding alone. Every operation rounds to the
nearest float, within half a unit in the last place (ulp); the same additions in another order (another
blocking of a matrix product, another split across threads, fused multiply-adds or not) round differently.
A bound on that difference therefore scales with the dtype's epsilon and with the magnitude of what is summed,
never with one processor's luck:

- values of magnitude ``M`` in a dtype with epsilon ``eps`` are apart by ``k * eps * M`` when they differ by
  ``k`` ulps (:func:`ulps`; ``eps * M`` is one ulp at ``M`` to within a factor of 2);
- two sums of the same ``n`` terms in any order differ by at most ``2 * gamma(n - 1) * sum(|x_i|)``, with
  ``gamma(n) = n u / (1 - n u)`` and ``u = eps / 2`` (Higham, *Accuracy and Stability of Numerical
  Algorithms*, 2nd ed., section 4.2): :func:`summation_bound`.

A deep network's output has no useful worst-case bound (the bound grows with every layer's fan-in and weight
norm), so its checks are stated in ulps of the output's own scale, with the count chosen far above what
different kernels give and far below what a wrong weight or a dropped term gives; each such check says so.
"""

from __future__ import annotations

import numpy as np

RUNTIME_AGREEMENT_ULPS = 32
"""How many float32 ulps (of the largest value of each output) two runtimes of one exported float32 network may
differ by: PyTorch and ONNX Runtime use other kernels (other summation orders, fused multiply-adds or not).
Measured for issue 22 on AVX-512, AVX2 and SSE4.1 kernels (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``) at 1
and 2 threads: pose xyz up to 2 ulps of the largest coordinate, the localiser's centre up to 2.2 ulps and its
score up to 4.5 ulps of 1. A wrong weight moves the outputs by far more (see ``tests/test_export.py``)."""


def eps(dtype: object) -> float:
    """The spacing of ``dtype``'s floats at 1 (2^-52 for float64, 2^-23 for float32). Accepts NumPy and torch
    dtypes and arrays or tensors (their dtype)."""
    return float(np.finfo(_numpy_dtype(dtype)).eps)


def ulps(magnitude: float | np.ndarray, dtype: object, count: float) -> float | np.ndarray:
    """``count`` units in the last place of a ``dtype`` float at ``magnitude``: ``count * eps * |magnitude|``
    (elementwise for an array of magnitudes)."""
    bound = float(count) * eps(dtype) * np.abs(as_numpy(magnitude).astype(np.float64))
    return float(bound) if bound.ndim == 0 else bound


def summation_bound(terms: int, absolute_sum: float | np.ndarray, dtype: object) -> float | np.ndarray:
    """The largest difference between two float sums of the same ``terms`` values, in any order, whose
    absolute values add up to ``absolute_sum`` (elementwise for an array of sums): each lies within
    ``gamma(terms - 1) * absolute_sum`` of the exact sum (Higham, equation 4.4)."""
    unit = eps(dtype) / 2
    count = max(int(terms) - 1, 1)
    if count * unit >= 1:
        raise ValueError(f"{terms} terms are too many for a rounding bound in {dtype}")
    bound = 2 * count * unit / (1 - count * unit) * np.abs(as_numpy(absolute_sum).astype(np.float64))
    return float(bound) if bound.ndim == 0 else bound


def differences(actual: object, expected: object) -> np.ndarray:
    """|actual - expected| elementwise in float64 (NumPy arrays or torch tensors; ``expected`` may be a number
    or an array that broadcasts to ``actual``'s shape); NaN on either side gives NaN, so that no bound holds it."""
    actual, expected = as_numpy(actual), as_numpy(expected)
    if np.broadcast_shapes(actual.shape, expected.shape) != actual.shape:
        raise ValueError(f"cannot compare arrays of shapes {actual.shape} and {expected.shape}")
    return np.abs(actual.astype(np.float64) - expected.astype(np.float64))


def within(actual: object, expected: object, bound: float | np.ndarray) -> tuple[bool, float]:
    """Whether every element of ``actual`` lies within ``bound`` (a number, or an array that broadcasts) of
    ``expected``, and the largest ratio of a difference to its bound (NaN when a value is NaN)."""
    difference = differences(actual, expected)
    if difference.size == 0:
        return True, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(difference == 0, 0.0, difference / as_numpy(bound).astype(np.float64))
    largest = float(np.nan) if np.isnan(ratio).any() else float(ratio.max())
    return bool(largest <= 1.0), largest


def as_numpy(values: object) -> np.ndarray:
    """A NumPy array of ``values`` (a torch tensor is detached and brought to the CPU)."""
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def _numpy_dtype(dtype: object) -> np.dtype:
    if not isinstance(dtype, type) and hasattr(dtype, "dtype"):  # an array or a tensor, not a type like np.float32
        dtype = dtype.dtype
    if hasattr(dtype, "is_floating_point"):  # a torch dtype: its name after 'torch.'
        dtype = str(dtype).removeprefix("torch.")
    return np.dtype(dtype)
