"""Shared fixtures: the real reference files in ../shared/data, which CI always has beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; missing it fails under CI and skips only on a developer machine without it."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"reference data not found at {SHARED_DATA}; CI must have ../shared beside the checkout")
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
