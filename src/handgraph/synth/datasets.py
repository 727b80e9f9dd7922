"""torch datasets of synthetic frames: from shards on disk, or generated on the fly in DataLoader workers."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import numpy as np
import torch

from handgraph.synth.generator import SynthConfig, generate_frames
from handgraph.synth.shards import ShardedFrames


def frames_to_tensors(frames: dict[str, np.ndarray], depth_unit_mm: float) -> dict[str, torch.Tensor]:
    """Arrays of ``generate_frames`` (batched or one frame) to tensors; depth becomes float mm with a channel
    axis: (H, W) -> (1, H, W), or (B, H, W) -> (B, 1, H, W)."""
    tensors = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in frames.items() if key != "depth"}
    depth = torch.from_numpy(frames["depth"].astype(np.float32) * np.float32(depth_unit_mm))
    tensors["depth"] = depth.unsqueeze(-3)
    return tensors


class SynthShardDataset(torch.utils.data.Dataset):
    """The frames of a finished dataset folder (``handgraph synth --out``), one dict of tensors each."""

    def __init__(self, folder: str | os.PathLike, verify: bool = True):
        self.frames = ShardedFrames(folder, verify=verify)
        self.depth_unit_mm = float(self.frames.manifest["depth_unit_mm"])

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return frames_to_tensors(self.frames.frame(index), self.depth_unit_mm)


class SynthStream(torch.utils.data.IterableDataset):
    """Batches generated on the fly: batch b holds frames [start + b B, start + (b + 1) B) of stream ``seed``.

    Use it with ``DataLoader(stream, batch_size=None, num_workers=N)``: worker k makes batches k, k + N, ...
    and the loader takes them in turn, so the batches, and the frames in them, are the same bit for bit
    whatever N is.
    """

    def __init__(self, config: SynthConfig, seed: int, batch_size: int, count: int | None = None, start: int = 0):
        self.config, self.seed, self.batch_size, self.count, self.start = config, seed, batch_size, count, start

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        for batch in itertools.count(worker, workers):
            first = batch * self.batch_size
            if self.count is not None and first >= self.count:
                return
            last = first + self.batch_size if self.count is None else min(first + self.batch_size, self.count)
            frames = generate_frames(self.config, self.seed, np.arange(self.start + first, self.start + last))
            yield frames_to_tensors(frames, self.config.sensor.depth_unit_mm)
