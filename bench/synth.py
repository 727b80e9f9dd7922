"""How fast and how exact the synthetic generator is.

Speed: frames per second of `write_dataset` (sampling, ray casting, sensor model, labels, shards written
to disk) at 128 x 128 crops with the kinect preset, with 1 worker and with all cores, and at full frame.
Exactness: the ray caster against the brute-force sphere tracer of the tests on random hands.

    .venv/bin/python bench/synth_speed.py [--frames 4000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from handgraph.synth.generator import SynthConfig
from handgraph.synth.kinematics import chain_joints
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=4000)
    parser.add_argument("--hands", type=int, default=10, help="random hands for the exactness check")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores; frames per second, shards written to disk included")
    for label, config, workers in (
        ("128x128 kinect, 1 worker", SynthConfig(), 1),
        (f"128x128 kinect, {cores} workers", SynthConfig(), cores),
        ("128x128 clean, no background", SynthConfig(preset="clean", background=False), cores),
        ("640x480 full frame kinect", SynthConfig(size=None), cores),
    ):
        count = args.frames if config.size else max(args.frames // 8, 64)
        print(f"  {label:<34} {frames_per_second(config, count, workers):8.0f} frames/s ({count} frames)")
    largest, disagreements, pixels = exactness(args.hands)
    print(
        f"ray caster vs sphere-traced reference, {args.hands} random hands at 48x48: largest depth difference "
        f"{largest:.2e} mm, {disagreements} of {pixels} hand pixels hit/miss differently"
    )


if __name__ == "__main__":
    main()
