"""The crop cache against training: is serving crops from the cache ever what holds training back?

An NYU-layout copy is written to a temporary folder: synthetic full 640x480 Kinect frames (the hand, its
forearm, a background), packed into NYU's RGB PNGs, with a ``joint_data.mat`` of their NYU-14 points placed in
the 36-joint layout. Then, per frame and per second:

- building the cache: decoding the PNGs and cropping (``handgraph data cache``, one worker and all cores);
- serving crops from the cache: batches of 32 as training reads them (``ShardStream``: a shard at a time,
  shards and frames shuffled per epoch), with 0 and 1 worker processes;
- what training consumes: optimiser steps of ``hgt`` (NYU-14 joints) at batch 32 on cached crops, one thread.

Writes bench/results/cache.json.

    .venv/bin/python bench/cache.py [--quick]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import arguments, print_table, seconds_per_call, write_result
from PIL import Image
from scipy.io import savemat

from handgraph.datasets.cache import build_crop_cache
from handgraph.geometry.layouts import NYU14_SUBSET
from handgraph.synth.datasets import ShardStream, SynthShardDataset, model_inputs
from handgraph.synth.generator import SynthConfig, generate_frames


def write_nyu_copy(root: Path, count: int) -> None:
    """``count`` synthetic full frames as NYU's ``train/`` (RGB-packed PNGs and joint_data.mat)."""
    config = SynthConfig(size=None, left_fraction=0.0)
    camera = config.sensor.camera
    folder = root / "train"
    folder.mkdir(parents=True)
    labels = np.zeros((count, 36, 3))
    for first in range(0, count, 16):
        frames = generate_frames(config, 9, np.arange(first, min(first + 16, count)))
        for offset, (depth, nyu14) in enumerate(zip(frames["depth"], frames["nyu14_xyz"], strict=True)):
            value = depth.astype(np.uint16)
            rgb = np.stack([np.zeros_like(value), value >> 8, value & 255], -1).astype(np.uint8)
            Image.fromarray(rgb, "RGB").save(folder / f"depth_1_{first + offset + 1:07d}.png")
            u = nyu14[:, 0] * camera.fx / nyu14[:, 2] + camera.cx
            v = nyu14[:, 1] * camera.fy / nyu14[:, 2] + camera.cy
            uvd = np.stack([u, v, nyu14[:, 2]], -1)
            labels[first + offset] = uvd[13]  # the landmarks the kit does not score: the palm centre
            labels[first + offset, list(NYU14_SUBSET)] = uvd
    savemat(folder / "joint_data.mat", {"joint_uvd": np.stack([labels] * 3)})


def serving_rate(cache: Path, workers: int, batches: int) -> float:
    """Crops per second of the batches training reads (``ShardStream``, a shard at a time, shuffled)."""
    loader = torch.utils.data.DataLoader(ShardStream(cache, 0, 32), batch_size=None, num_workers=workers)
    started, seen = time.perf_counter(), 0
    for number, batch in enumerate(loader):
        seen += len(batch["depth"])
        if number + 1 >= batches:
            break
    return seen / (time.perf_counter() - started)


def training_rate(cache: Path, budget_s: float) -> float:
    from handgraph.models import create_model
    from handgraph.training.losses import LossWeights, pose_loss

    torch.set_num_threads(1)
    dataset = SynthShardDataset(cache)
    batch = torch.utils.data.default_collate([dataset[k % len(dataset)] for k in range(32)])
    inputs = model_inputs(batch, 300.0, 128, "cpu")
    model = create_model("hgt", layout="nyu14").train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    bones = torch.tensor(model.layout.bones)

    def step():
        loss, _ = pose_loss(model(inputs["depth"], inputs["crop"]), inputs["uvd_norm"], inputs["xyz"], bones,
                            LossWeights())  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return 32 / seconds_per_call(step, budget_s)


def main() -> None:
    args = arguments(__doc__).parse_args()
    count = 96 if args.quick else 960
    figures: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_nyu_copy(root / "nyu", count)
        for workers in (1, 2):
            started = time.perf_counter()
            build_crop_cache("nyu:train", root / "nyu", root / f"cache{workers}", workers=workers, shard_size=96,
                             progress=False)  # fmt: skip
            figures[f"build_crops_per_s_{workers}_workers"] = count / (time.perf_counter() - started)
        cache = root / "cache2"
        for workers in (0, 1):
            figures[f"served_crops_per_s_{workers}_workers"] = serving_rate(cache, workers, count // 32)
        figures["trained_samples_per_s_1_thread"] = training_rate(cache, 2.0 if args.quick else 20.0)
    print_table(["what", "frames/s"], [[name.replace("_", " "), rate] for name, rate in figures.items()])
    write_result("cache", args.quick, {"frames": count, "size": 128, "model": "hgt (nyu14)", "batch": 32}, figures)


if __name__ == "__main__":
    main()
