"""How well a localiser finds hands: pure NumPy, on centres in mm.

A frame with a hand counts as *found* when the answer is "a hand" and its centre lies within ``found_mm``
of one of the hands in view; its *centre error* is the 3D distance to the nearest of them. A frame without a
hand that gets "a hand" is a *false hand*.
"""

from __future__ import annotations

import numpy as np

FOUND_MM = 100.0
"""Further than this from every hand, a detection has found something else (the pose crop is 250 mm)."""


def centre_errors(predicted_xyz: np.ndarray, hands_xyz: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Distance (mm) from each predicted centre (B, 3) to the nearest present hand of (B, K, 3), (B, K);
    inf where a frame has no hand."""
    distance = np.linalg.norm(predicted_xyz[:, None, :] - hands_xyz, axis=-1)  # (B, K)
    return np.where(present, distance, np.inf).min(axis=1)


def localizer_metrics(
    predicted_xyz: np.ndarray, is_hand: np.ndarray, hands_xyz: np.ndarray, present: np.ndarray, found_mm=FOUND_MM
) -> dict[str, float]:
    """Found rate, false-hand rate and centre error of B answers: ``predicted_xyz`` (B, 3), ``is_hand`` (B,)
    against hands (B, K, 3) with ``present`` (B, K). Rates in %, errors in mm (NaN when nothing counts)."""
    with_hand = present.any(axis=1)
    errors = centre_errors(predicted_xyz, hands_xyz, present)
    found = with_hand & is_hand & (errors <= found_mm)
    answered = errors[with_hand & is_hand]
    finite = answered[np.isfinite(answered)]
    return {
        "frames_with_hand": int(with_hand.sum()),
        "frames_without_hand": int((~with_hand).sum()),
        "found_percent": 100.0 * found.sum() / max(1, with_hand.sum()),
        "false_hand_percent": 100.0 * (is_hand & ~with_hand).sum() / max(1, (~with_hand).sum()),
        "median_error_mm": float(np.median(finite)) if len(finite) else float("nan"),
        "p95_error_mm": float(np.percentile(finite, 95)) if len(finite) else float("nan"),
        "mean_found_error_mm": float(errors[found].mean()) if found.any() else float("nan"),
    }
