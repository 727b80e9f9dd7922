"""Scoring a trained model on the synthetic benchmark: predictions of the test split, ready for the same
metrics, tables and plots as result files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import torch

from handgraph.errors import HandgraphError
from handgraph.models import PoseModel
from handgraph.synth.datasets import frames_to_tensors, model_inputs
from handgraph.synth.generator import generate_frames
from handgraph.synth.splits import SPLITS, benchmark_split

DATA_PREFIX = "synthetic:"


def parse_data(spec: str) -> str:
    """``synthetic:test`` -> ``test``; the only data a checkpoint is evaluated on here."""
    if not spec.startswith(DATA_PREFIX) or spec[len(DATA_PREFIX) :] not in SPLITS:
        names = ", ".join(DATA_PREFIX + name for name in SPLITS)
        raise HandgraphError(f"--data {spec!r}: expected one of {names}")
    return spec[len(DATA_PREFIX) :]


def split_batches(
    split_name: str,
    size: int,
    cube_mm: float | None = None,
    count: int | None = None,
    batch_size: int = 64,
    device: str = "cpu",
) -> Iterator[tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]]:
    """The first ``count`` frames of a synthetic benchmark split as a model sees them, batch by batch:
    (the frames' arrays, the model's inputs and targets from ``model_inputs``). Cropped at ``size`` and
    ``cube_mm`` (the split's 250 mm when None): the same hands whatever the crop. Training validation,
    ``evaluate --checkpoint`` and the benchmarks all take their synthetic frames from here."""
    split = benchmark_split(split_name)
    config = replace(split.config, size=size, cube_mm=cube_mm or split.config.cube_mm)
    count = split.count if count is None else min(count, split.count)
    for first in range(0, count, batch_size):
        frames = generate_frames(config, split.seed, np.arange(first, min(first + batch_size, count)))
        tensors = frames_to_tensors(frames, config.sensor.depth_unit_mm)
        yield frames, model_inputs(tensors, config.cube_mm, size, device)


@torch.no_grad()
def predict_split(
    model: PoseModel,
    split_name: str,
    count: int | None = None,
    batch_size: int = 64,
    device: str = "cpu",
    cube_mm: float | None = None,
) -> dict[str, np.ndarray]:
    """Predicted and true joints (mm, camera frame) of the first ``count`` frames of a split, cropped as the
    model was trained: its input size and ``cube_mm`` (the split's 250 mm when None; pass the checkpoint's,
    ``models.contract``); plus the frames' depth and labels for pictures."""
    model = model.to(device).eval()
    names = ("xyz", "uvd", "depth", "intrinsics", "centre_xyz", "gesture", "pose", "visible")
    predicted, kept = [], {key: [] for key in names}
    unit = benchmark_split(split_name).config.sensor.depth_unit_mm
    for frames, inputs in split_batches(split_name, model.config.input_size, cube_mm, count, batch_size, device):
        output = model(inputs["depth"], inputs["crop"])
        predicted.append(
            np.concatenate([output["xyz"].double().cpu().numpy(), output["uvd"].double().cpu().numpy()], -1)
        )
        for key in kept:
            kept[key].append(frames[key])
    both = np.concatenate(predicted)
    result = {key: np.concatenate(value) for key, value in kept.items()}
    result["predicted_xyz"], result["predicted_uvd"] = both[..., :3], both[..., 3:]
    result["depth_mm"] = result.pop("depth").astype(np.float32) * unit
    return result


def write_test_overlays(result: dict[str, np.ndarray], layout, path: str | os.PathLike, count: int = 12) -> None:
    """A grid of test crops with the true skeleton (thin, white) under the predicted one (coloured)."""
    import matplotlib.pyplot as plt

    from handgraph.io.files import atomic_writer
    from handgraph.io.overlay import depth_display, draw_skeleton

    columns = 4
    rows = -(-count // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(3.0 * columns, 3.15 * rows), squeeze=False)
    for index, axes in enumerate(grid.ravel()):
        axes.set_xticks([])
        axes.set_yticks([])
        if index >= min(count, len(result["xyz"])):
            axes.axis("off")
            continue
        centre = float(result["centre_xyz"][index, 2])
        axes.imshow(depth_display(result["depth_mm"][index], centre - 150, centre + 250), cmap="gray", vmin=0, vmax=1)
        for parent, child in layout.bones:
            axes.plot(
                result["uvd"][index, [parent, child], 0],
                result["uvd"][index, [parent, child], 1],
                color="white",
                linewidth=3.0,
                alpha=0.6,
            )
        draw_skeleton(axes, result["predicted_uvd"][index, :, :2], layout, linewidth=1.4)
        error = np.linalg.norm(result["predicted_xyz"][index] - result["xyz"][index], axis=-1).mean()
        axes.set_title(f"test frame {index}: {error:.1f} mm", fontsize=9)
    figure.suptitle("synthetic test split: truth (white) and prediction (coloured)", fontsize=11)
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
