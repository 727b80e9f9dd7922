"""What the benchmark scripts share: the machine's description, a timer, tables, and the JSON result files.

Full runs write ``bench/results/<name>.json``, which ``docs/benchmarks.md`` is built from; quick runs
(``--quick`` or ``QUICK=1``) write ``bench/results/quick/<name>.json`` so they never replace full figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from handgraph.io.files import atomic_write_text
from handgraph.io.provenance import changed_since, provenance

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
STARTED = provenance()
"""The commit and command as the script started: a long run records the code it ran, not what was committed
while it ran."""


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("QUICK", "") not in ("", "0"),
        help="a few seconds per setting, to check that the script works (also QUICK=1)",
    )
    return parser


def results_folder(quick: bool) -> Path:
    return RESULTS / "quick" if quick else RESULTS


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """Where and with what the figures were measured."""
    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}
    try:
        import onnxruntime

        versions["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "system": platform.platform(),
        "versions": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def write_result(name: str, quick: bool, settings: dict, figures: dict) -> Path:
    """``bench/results[/quick]/<name>.json`` with the commit, the command, the machine, the settings and the
    figures; atomic."""
    path = results_folder(quick) / f"{name}.json"
    payload = {
        "benchmark": name,
        "quick": quick,
        **STARTED,  # the commit and the command as the run started
        "changed_during_run": changed_since(STARTED["commit"]),  # files, to judge whether they matter
        "machine": machine(),
        "settings": settings,
        **figures,
    }
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def seconds_per_call(function: Callable[[], object], budget_s: float, warmup: int = 2, least: int = 3) -> float:
    """Median wall-clock seconds of ``function()`` over as many calls as fit in ``budget_s`` (at least
    ``least``), after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < least or time.perf_counter() < deadline:
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[f"{value:.3g}" if isinstance(value, float) else str(value) for value in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[k]) for row in cells)) for k, header in enumerate(headers)]
    print("  ".join(f"{header:>{width}}" for header, width in zip(headers, widths, strict=True)))
    for row in cells:
        print("  ".join(f"{cell:>{width}}" for cell, width in zip(row, widths, strict=True)))


def peak_gflops(threads: int, size: int = 2048, budget_s: float = 2.0) -> float:
    """This machine's float32 matrix-product rate with ``threads`` threads: the practical peak."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = seconds_per_call(lambda: a @ b, budget_s)
    torch.set_num_threads(previous)
    return 2 * size**3 / seconds / 1e9


def flops_per_frame(model: torch.nn.Module) -> float:
    """Forward floating-point operations of one frame (multiply-add = 2), counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    from handgraph.inference.export import example_inputs

    depth, crop = example_inputs(model, 1)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(depth, crop)
    return float(counter.get_total_flops())


def training_rate(name: str, batch: int, budget_s: float, size: int = 128) -> float:
    """Frames per second one optimiser step at a time (forward, loss, backward, AdamW) on a fixed batch of
    synthetic frames: what training consumes, without drawing frames."""
    from handgraph.models import create_model
    from handgraph.synth.datasets import frames_to_tensors, model_inputs
    from handgraph.synth.generator import SynthConfig, generate_frames
    from handgraph.training.losses import LossWeights, pose_loss

    config = SynthConfig(size=size, left_fraction=0.0)
    frames = frames_to_tensors(generate_frames(config, 5, np.arange(batch)), config.sensor.depth_unit_mm)
    inputs = model_inputs(frames, config.cube_mm, size, "cpu")
    torch.manual_seed(0)
    model = create_model(name, input_size=size).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    bones = torch.tensor(model.layout.bones)

    def step():
        output = model(inputs["depth"], inputs["crop"])
        loss, _ = pose_loss(output, inputs["uvd_norm"], inputs["xyz"], bones, LossWeights())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return batch / seconds_per_call(step, budget_s, warmup=2)
