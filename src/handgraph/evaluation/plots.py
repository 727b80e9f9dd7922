"""The field's two standard figures: success-rate curves of several methods, and per-joint mean errors."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # files only; never open a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from handgraph.evaluation.report import MethodResult  # noqa: E402
from handgraph.io.files import atomic_writer  # noqa: E402


def plot_success_curves(results: list[MethodResult], path: str | os.PathLike, title: str) -> None:
    """Fraction of frames whose largest joint error is within each threshold, one curve per method."""
    figure, axes = plt.subplots(figsize=(6.4, 4.8))
    for result in results:
        thresholds = np.array([float(key) for key in result.success_rate])
        rates = 100 * np.array(list(result.success_rate.values()))
        coverage = "" if result.covers_all else f", first {result.frames} frames"
        label = f"{result.name} ({result.mean_mm:.2f} mm{coverage})"
        axes.plot(thresholds, rates, linewidth=1.8, label=label)
    axes.set_xlabel("Maximum allowed distance to GT (mm)")
    axes.set_ylabel("Fraction of frames within distance (%)")
    axes.set_xlim(0, 80)
    axes.set_ylim(0, 100)
    axes.set_xticks(range(0, 81, 10))
    axes.set_yticks(range(0, 101, 10))
    axes.grid(True, linestyle=":", linewidth=0.8)
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize="small")
    _save(figure, path)


def plot_per_joint_errors(results: list[MethodResult], path: str | os.PathLike, title: str) -> None:
    """Grouped bars: the mean error of each joint for each method, and their overall mean last."""
    labels = [name.replace("_", " ") for name in results[0].joint_names] + ["mean"]
    positions = np.arange(len(labels))
    width = 0.8 / len(results)
    figure, axes = plt.subplots(figsize=(min(14.0, 3.0 + 0.45 * len(labels) * (1 + 0.25 * len(results))), 5.0))
    highest = 0.0
    for number, result in enumerate(results):
        values = result.per_joint_mm + [result.mean_mm]
        offset = (number - (len(results) - 1) / 2) * width
        axes.bar(positions + offset, values, width, label=result.name)
        highest = max(highest, *values)
    axes.set_ylim(0, 1.3 * highest)  # headroom for the legend above the bars
    axes.set_xticks(positions, labels, rotation=45, ha="right")
    axes.set_ylabel("Mean error distance (mm)")
    axes.grid(True, axis="y", linestyle=":", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize="small", ncol=min(3, len(results)))
    _save(figure, path)


def _save(figure: plt.Figure, path: str | os.PathLike) -> None:
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=120)
    plt.close(figure)
