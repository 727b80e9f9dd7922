"""Scoring one method's predictions against the ground truth, and the table and JSON that report it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from handgraph.datasets.protocol import DatasetProtocol
from handgraph.evaluation import metrics

TABLE_THRESHOLDS_MM = (10, 20, 30, 40)
"""Success-rate columns of the printed table."""


@dataclass
class MethodResult:
    """Every figure of one method on one test set. Errors in mm, rates as fractions in [0, 1]."""

    name: str
    source: str
    dataset: str
    frames: int
    """Frames scored: the first ``frames`` lines of the ground truth, or the ``rows`` it was scored on."""
    ground_truth_frames: int
    mean_mm: float
    median_mm: float
    sequence_names: list[str]
    sequence_mean_mm: list[float | None]
    """Mean error per test sequence; None for a sequence the predictions do not reach."""
    joint_names: list[str]
    per_joint_mm: list[float]
    success_rate: dict[str, float]
    """Threshold in mm (as a string) -> fraction of frames whose largest joint error is within it."""
    mean_error_success_rate: dict[str, float]
    """Threshold in mm (as a string) -> fraction of frames whose mean joint error is within it."""
    success_auc: float
    """Area under the success-rate curve over its thresholds, normalised to [0, 1]."""

    @property
    def covers_all(self) -> bool:
        return self.frames == self.ground_truth_frames

    def to_dict(self) -> dict:
        return asdict(self)


def threshold_key(threshold_mm: float) -> str:
    """The JSON key of a threshold: ``10.0 -> "10"``, ``2.5 -> "2.5"``."""
    return f"{threshold_mm:g}"


def score_method(
    name: str,
    source: str,
    predicted_xyz: np.ndarray,
    ground_truth_xyz: np.ndarray,
    protocol: DatasetProtocol,
    thresholds_mm: np.ndarray = metrics.DEFAULT_THRESHOLDS_MM,
    rows: np.ndarray | None = None,
    frame_numbers: np.ndarray | None = None,
) -> MethodResult:
    """Score (N, J, 3) predictions in mm against (M, J, 3) ground truth: its first N frames (N <= M), or its
    ``rows`` (N,). ``frame_numbers`` (N,) place the scored frames in the test set's sequences (default: the
    rows), for a copy that holds part of the test set."""
    frames = len(predicted_xyz)
    rows = np.arange(frames) if rows is None else np.asarray(rows)
    errors = metrics.joint_errors(predicted_xyz, ground_truth_xyz[rows])  # (N, J)
    rates = metrics.success_rate(errors, thresholds_mm)
    mean_rates = metrics.mean_error_success_rate(errors, thresholds_mm)
    return MethodResult(
        name=name,
        source=source,
        dataset=protocol.name,
        frames=frames,
        ground_truth_frames=len(ground_truth_xyz),
        mean_mm=metrics.mean_joint_error(errors),
        median_mm=metrics.median_joint_error(errors),
        sequence_names=[sequence.name for sequence in protocol.sequences],
        sequence_mean_mm=metrics.sequence_mean_errors(
            errors, protocol.frame_ranges, rows if frame_numbers is None else frame_numbers
        ),
        joint_names=list(protocol.layout.joint_names),
        per_joint_mm=metrics.per_joint_mean_error(errors).tolist(),
        success_rate={threshold_key(t): float(r) for t, r in zip(thresholds_mm, rates, strict=True)},
        mean_error_success_rate={threshold_key(t): float(r) for t, r in zip(thresholds_mm, mean_rates, strict=True)},
        success_auc=metrics.area_under_curve(thresholds_mm, rates),
    )


def format_table(results: list[MethodResult], protocol: DatasetProtocol) -> str:
    """A plain-text table: method, frames, mean and per-sequence mean (mm), success at 10/20/30/40 mm (%)."""
    name_width = max([len("method")] + [len(result.name) for result in results])
    columns = ["frames", "mean"] + [s.name for s in protocol.sequences] + [f"<={t}mm" for t in TABLE_THRESHOLDS_MM]
    header = "method".ljust(name_width) + "".join(column.rjust(9) for column in columns)
    rows = [header, "-" * len(header)]
    for result in results:
        cells = [f"{result.frames}{'' if result.covers_all else '*'}", f"{result.mean_mm:.3f}"]
        cells += ["-" if value is None else f"{value:.3f}" for value in result.sequence_mean_mm]
        cells += [f"{100 * result.success_rate[threshold_key(t)]:.1f}%" for t in TABLE_THRESHOLDS_MM]
        rows.append(result.name.ljust(name_width) + "".join(cell.rjust(9) for cell in cells))
    return "\n".join([_title(results, protocol)] + rows + _notes(results, protocol))


def _title(results: list[MethodResult], protocol: DatasetProtocol) -> str:
    ground_truth_frames = results[0].ground_truth_frames if results else 0
    return (
        f"{protocol.title} test set: {protocol.layout.num_joints} joints, {ground_truth_frames} ground-truth frames; "
        "mean 3D joint error (mm) and share of frames whose largest joint error is within a threshold"
    )


def _notes(results: list[MethodResult], protocol: DatasetProtocol) -> list[str]:
    notes = [
        f"* {result.name}: covers the first {result.frames} of {result.ground_truth_frames} ground-truth "
        "frames and is scored on those alone"
        for result in results
        if not result.covers_all
    ]
    notes += [f"  {sequence.name}: {sequence.description}" for sequence in protocol.sequences]
    if results and protocol.test_frames is not None and results[0].ground_truth_frames != protocol.test_frames:
        notes.append(
            f"  note: the standard {protocol.title} test set has {protocol.test_frames} frames, this ground "
            f"truth {results[0].ground_truth_frames}; the figures are not comparable with published ones"
        )
    return notes
