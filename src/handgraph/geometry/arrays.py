"""Writing a numeric function once for NumPy arrays and torch tensors alike.

torch accepts NumPy's spellings for the functions used here (``stack(..., axis=)``, ``sin``, ``matmul``), so
a function asks :func:`array_module` for the module of its input and calls that.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np


def array_module(array: object) -> ModuleType:
    """``numpy`` for NumPy arrays and scalars, ``torch`` for tensors."""
    if isinstance(array, np.ndarray | np.generic | float | int):
        return np
    import torch  # only reached with tensors, so torch is already loaded

    return torch


def as_like(values: object, reference: object) -> object:
    """``values`` as an array of the same module, dtype and device as ``reference``."""
    if array_module(reference) is np:
        return np.asarray(values, dtype=reference.dtype)
    import torch

    return torch.as_tensor(values, dtype=reference.dtype, device=reference.device)
