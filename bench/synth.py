"""How fast and how exact the synthetic generator is, and whether it keeps ahead of training.

Speed: frames per second of `write_dataset` (sampling, ray casting, sensor model, labels, shards written
to disk) at 128 x 128 crops with the kinect preset, with 1 worker and with all cores, and at full frame.
Against it: frames per second each model consumes in training (optimiser steps on a fixed batch of 32, with
1 thread, the core left when the other one draws frames, and with all threads). The generator stays ahead
when one worker renders faster than a model trains on the remaining core.
Exactness: the ray caster against the brute-force sphere tracer of the tests on random hands.
Writes bench/results/synth.json.

    .venv/bin/python bench/synth.py [--quick] [--frames 4000]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import arguments, print_table, training_rate, write_result

from handgraph.geometry.kinematics import chain_joints
from handgraph.models import list_models
from handgraph.synth.generator import SynthConfig
from handgraph.synth.poses import sample_shape, sample_uniform_articulation, sample_view_rotation
from handgraph.synth.raycast import render_depth
from handgraph.synth.shards import write_dataset
from handgraph.synth.surface import hand_cones

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "synth"))
from reference_renderer import reference_depth  # noqa: E402


def frames_per_second(config: SynthConfig, count: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(
            Path(folder) / "warm", config, seed=99, count=min(count, 64), shard_size=64, workers=1, progress=False
        )
        started = time.perf_counter()
        write_dataset(Path(folder) / "d", config, seed=1, count=count, shard_size=500, workers=workers, progress=False)
        return count / (time.perf_counter() - started)


def exactness(hands: int, size: int = 48) -> tuple[float, int, int]:
    """Largest depth difference on converged rays, and hit/miss disagreements, over ``hands`` random hands."""
    rng = np.random.default_rng(12)
    largest, disagreements, pixels = 0.0, 0, 0
    for _ in range(hands):
        shape = sample_shape(rng)
        joints = chain_joints(
            np.radians(sample_uniform_articulation(rng))[None], shape.bone_lengths, shape.root_offsets
        )
        rotation = sample_view_rotation(rng, 180.0, 0.5, 180.0)[None]
        translation = np.array([[0.0, 0.0, 450.0]]) - joints.mean(1) @ rotation[0].T
        cones = hand_cones(joints, shape, rotation, translation, np.array([float(rng.integers(2))]))
        intrinsics = np.array([[size * 450 / 260] * 2 + [(size - 1) / 2] * 2])
        depth = render_depth(cones, intrinsics, size, size)[0]
        expected, converged = reference_depth(cones, 0, intrinsics[0], size, size, iterations=600)
        both = converged & (depth > 0) & (expected > 0)
        largest = max(largest, float(np.abs(depth - expected)[both].max()))
        disagreements += int(((depth > 0) != (expected > 0)).sum())
        pixels += int((depth > 0).sum())
    return largest, disagreements, pixels


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--frames", type=int, help="frames per speed measurement (default 4000, quick 256)")
    parser.add_argument("--hands", type=int, help="random hands for the exactness check (default 10, quick 2)")
    args = parser.parse_args()
    frames = args.frames or (256 if args.quick else 4000)
    hands = args.hands or (2 if args.quick else 10)
    cores = os.cpu_count() or 1
    rendering = {}
    for label, config, workers in (
        ("128x128 kinect, 1 worker", SynthConfig(), 1),
        (f"128x128 kinect, {cores} workers", SynthConfig(), cores),
        ("128x128 clean, no background", SynthConfig(preset="clean", background=False), cores),
        ("640x480 full frame kinect", SynthConfig(size=None), cores),
    ):
        count = frames if config.size else max(frames // 8, 32)
        rendering[label] = frames_per_second(config, count, workers)
    print(f"synthetic frames rendered per second ({cores} cores, shards written to disk included)")
    print_table(["setting", "frames/s"], [[label, f"{rate:.0f}"] for label, rate in rendering.items()])
    budget = 0.5 if args.quick else 5.0
    consumed = {}
    for name in list_models():
        consumed[name] = {}
        for threads in (1, cores):
            torch.set_num_threads(threads)
            consumed[name][str(threads)] = training_rate(name, 32, budget)
    torch.set_num_threads(cores)
    one_worker = rendering["128x128 kinect, 1 worker"]
    rows = [
        [name, f"{rates['1']:.0f}", f"{rates[str(cores)]:.0f}", "yes" if one_worker > rates["1"] else "NO"]
        for name, rates in consumed.items()
    ]
    print(f"frames consumed per second by training (batch 32, 128x128), against {one_worker:.0f} rendered by 1 worker")
    print_table(["model", "1 thread", f"{cores} threads", "generator ahead"], rows)
    largest, disagreements, pixels = exactness(hands)
    print(
        f"ray caster vs sphere-traced reference, {hands} random hands at 48x48: largest depth difference "
        f"{largest:.2e} mm, {disagreements} of {pixels} hand pixels hit/miss differently"
    )
    write_result(
        "synth",
        args.quick,
        {"frames": frames, "exactness_hands": hands, "train_batch": 32, "train_budget_s": budget},
        {
            "rendered_frames_per_s": rendering,
            "consumed_frames_per_s": consumed,
            "generator_ahead": {name: one_worker > rates["1"] for name, rates in consumed.items()},
            "exactness": {"largest_mm": largest, "hit_miss_disagreements": disagreements, "hand_pixels": pixels},
        },
    )


if __name__ == "__main__":
    main()
