"""The tests' one assertion for float results that two correct computations may round differently.

``assert_close(actual, expected, bound)`` fails when any element differs by more than ``bound``; each call
derives ``bound`` from the dtype and the magnitude compared (``handgraph.geometry.numerics``) and says why in a comment.
Comparisons that must be bitwise (a run repeated on the same machine) use ``torch.equal`` or
``np.testing.assert_array_equal`` instead, and say so.

With ``HANDGRAPH_TOLERANCE_LOG=FILE`` every call appends a JSON line to FILE (the test, the place and the
largest ratio of a difference to its bound), so that ``tests/tolerance_audit.py`` can show how close each
check came to its bound under other kernels and thread counts.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import numpy as np

from handgraph.geometry.numerics import differences, within


def assert_close(actual: object, expected: object, bound: float | np.ndarray, what: str = "") -> float:
    """Every element of ``actual`` within ``bound`` (a number, or an array that broadcasts) of ``expected``;
    same shapes, and NaN fails. Returns the largest ratio of a difference to its bound."""
    holds, ratio = within(actual, expected, bound)
    _record(ratio)
    if not holds:
        largest = float(np.nanmax(differences(actual, expected)))
        label = f"{what}: " if what else ""
        raise AssertionError(
            f"{label}a difference {ratio:.2f} times its bound (largest difference {largest:.3e}, "
            f"smallest bound {float(np.min(bound)):.3e})"
        )
    return ratio


def _record(ratio: float) -> None:
    log = os.environ.get("HANDGRAPH_TOLERANCE_LOG")
    if not log:
        return
    caller = inspect.currentframe().f_back.f_back  # the test that called assert_close
    place = f"{Path(caller.f_code.co_filename).relative_to(Path(__file__).parent)}:{caller.f_lineno}"
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    with open(log, "a") as file:
        file.write(json.dumps({"test": test, "place": place, "ratio": ratio}) + "\n")
