"""Scoring result files against a ground-truth file: what ``handgraph evaluate`` does, as plain functions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from handgraph.datasets.protocol import DatasetProtocol, get_protocol
from handgraph.errors import HandgraphError
from handgraph.evaluation.report import MethodResult, score_method
from handgraph.geometry.camera import uvd_to_xyz
from handgraph.io.files import atomic_write_text
from handgraph.io.result_files import read_joints

FORMATS = ("uvd", "xyz")


def load_xyz(path: str | os.PathLike, protocol: DatasetProtocol, file_format: str, mat_key: str | None) -> np.ndarray:
    """Joints of a result or ground-truth file in mm, (N, J, 3). Text follows ``file_format``; .mat is xyz."""
    if file_format not in FORMATS:
        raise HandgraphError(f"unknown format {file_format!r}; expected one of: {', '.join(FORMATS)}")
    joints = read_joints(path, protocol.layout.num_joints, mat_key)
    if file_format == "uvd" and Path(path).suffix.lower() != ".mat":
        with np.errstate(over="ignore", invalid="ignore"):
            joints = uvd_to_xyz(joints, protocol.camera)
        if not np.isfinite(joints).all():
            line = int(np.argwhere(~np.isfinite(joints))[0, 0]) + 1
            raise HandgraphError(f"{path}:{line}: (u, v, d) too large to give a finite (x, y, z) in mm")
    return joints


def evaluate_files(
    dataset: str,
    ground_truth: str | os.PathLike,
    predictions: list[str | os.PathLike],
    names: list[str] | None = None,
    prediction_format: str = "uvd",
    ground_truth_format: str = "uvd",
    mat_key: str | None = None,
) -> list[MethodResult]:
    """Score each prediction file against the ground truth under the dataset's protocol."""
    protocol = get_protocol(dataset)
    if not predictions:
        raise HandgraphError("no prediction file given")
    if names is not None and len(names) != len(predictions):
        raise HandgraphError(f"{len(names)} names for {len(predictions)} prediction files; give one name per file")
    names = names or [Path(path).stem for path in predictions]
    ground_truth_xyz = load_xyz(ground_truth, protocol, ground_truth_format, mat_key)
    results = []
    for path, name in zip(predictions, names, strict=True):
        predicted_xyz = load_xyz(path, protocol, prediction_format, mat_key)
        if len(predicted_xyz) > len(ground_truth_xyz):
            raise HandgraphError(
                f"{path}: {len(predicted_xyz)} frames, but the ground truth {ground_truth} has "
                f"{len(ground_truth_xyz)}; a result file may cover the first frames of the ground truth, not more"
            )
        results.append(score_method(name, str(path), predicted_xyz, ground_truth_xyz, protocol))
    return results


def write_json(results: list[MethodResult], path: str | os.PathLike, data: dict | None = None) -> None:
    """All figures of every method as a JSON list, one object per method; ``data`` (the data source and its
    version, the centres and crop of a model's predictions) goes into each."""
    entries = [result.to_dict() | ({"data": data} if data else {}) for result in results]
    atomic_write_text(path, json.dumps(entries, indent=2) + "\n")


def write_plots(results: list[MethodResult], protocol: DatasetProtocol, folder: str | os.PathLike) -> list[Path]:
    """The success-curve and per-joint figures as PNGs in ``folder``; returns their paths."""
    from handgraph.evaluation.plots import plot_per_joint_errors, plot_success_curves

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise HandgraphError(f"{folder}: exists and is not a folder; --plots needs a folder")
    curves, bars = folder / "success_curves.png", folder / "per_joint_errors.png"
    title = f"{protocol.title} ({protocol.layout.num_joints} joints, {results[0].ground_truth_frames} frames)"
    plot_success_curves(results, curves, title)
    plot_per_joint_errors(results, bars, title)
    return [curves, bars]
