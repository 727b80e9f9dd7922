"""torch datasets of synthetic frames: from shards on disk, or generated on the fly in DataLoader workers."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import numpy as np
import torch

from handgraph.preprocess.crop import normalize_depth, uvd_to_normalized
from handgraph.synth.generator import SynthConfig, generate_frames
from handgraph.synth.shards import ShardedFrames


def frames_to_tensors(frames: dict[str, np.ndarray], depth_unit_mm: float) -> dict[str, torch.Tensor]:
    """Arrays of ``generate_frames`` (batched or one frame) to tensors; depth becomes float mm with a channel
    axis: (H, W) -> (1, H, W), or (B, H, W) -> (B, 1, H, W)."""
    # np.array, not np.ascontiguousarray: that turns a frame's scalars (cube_mm, index) into shape (1,)
    tensors = {key: torch.from_numpy(np.array(value)) for key, value in frames.items() if key != "depth"}
    depth = torch.from_numpy(frames["depth"].astype(np.float32) * np.float32(depth_unit_mm))
    tensors["depth"] = depth.unsqueeze(-3)
    return tensors


def model_inputs(batch: dict[str, torch.Tensor], cube_mm: float, size: int, device) -> dict[str, torch.Tensor]:
    """A batch of frames (synthetic, or a real dataset's crop cache) as model inputs and targets: normalised
    depth (B, 1, S, S), crop (B, 6), target uvd_norm and xyz (B, J, 3). The crop cube is the batch's own
    ``cube_mm`` per frame where it has one (a cache of NYU's 300 and 250 mm crops), else ``cube_mm``."""
    intrinsics = batch["intrinsics"].to(device=device, dtype=torch.float32)
    centre_z = batch["centre_xyz"][:, 2:3].to(device=device, dtype=torch.float32)
    cube = batch["cube_mm"][:, None].to(centre_z) if "cube_mm" in batch else torch.full_like(centre_z, cube_mm)
    crop = torch.cat([intrinsics, centre_z, cube], dim=1)
    uvd = batch["uvd"].to(device=device, dtype=torch.float32)
    return {
        "depth": normalize_depth(batch["depth"].to(device), crop),
        "crop": crop,
        "uvd_norm": uvd_to_normalized(uvd, crop, size),
        "xyz": batch["xyz"].to(device=device, dtype=torch.float32),
    }


class SynthShardDataset(torch.utils.data.Dataset):
    """The frames of a finished dataset folder (``handgraph synth --out``), one dict of tensors each."""

    def __init__(self, folder: str | os.PathLike, verify: bool = True):
        self.frames = ShardedFrames(folder, verify=verify)
        self.depth_unit_mm = float(self.frames.manifest["depth_unit_mm"])

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return frames_to_tensors(self.frames.frame(index), self.depth_unit_mm)


class BatchStream(torch.utils.data.IterableDataset):
    """Batches generated on the fly: batch b holds items [b B, (b + 1) B) of stream ``seed`` (cut at
    ``count``), and the stream yields batches start_batch, start_batch + stride, ...

    Use it with ``DataLoader(stream, batch_size=None, num_workers=N)``: worker k makes the k-th, (k + N)-th,
    ... of those batches and the loader takes them in turn, so the batches, and the items in them, are the
    same bit for bit whatever N is. ``start_batch`` resumes a stream; ``batch_stride`` splits one stream
    among distributed ranks. Subclasses say how to make a batch from item indices (``make``).
    """

    def __init__(
        self, seed: int, batch_size: int, count: int | None = None, start_batch: int = 0, batch_stride: int = 1
    ):
        self.seed, self.batch_size, self.count = seed, batch_size, count
        self.start_batch, self.batch_stride = start_batch, batch_stride

    def make(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        for position in itertools.count(worker, workers):
            first = (self.start_batch + position * self.batch_stride) * self.batch_size
            if self.count is not None and first >= self.count:
                return
            last = first + self.batch_size if self.count is None else min(first + self.batch_size, self.count)
            yield self.make(np.arange(first, last))


class SynthStream(BatchStream):
    """Synthetic hand crops (``generate_frames``) as a :class:`BatchStream`."""

    def __init__(self, config: SynthConfig, seed: int, batch_size: int, count: int | None = None, **stream):
        super().__init__(seed, batch_size, count, **stream)
        self.config = config

    def make(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        frames = generate_frames(self.config, self.seed, indices)
        return frames_to_tensors(frames, self.config.sensor.depth_unit_mm)


class ShardStream(BatchStream):
    """Endless batches of a finished shard folder (a synthetic dataset or a crop cache), read so that each shard
    is loaded once per epoch: every epoch takes the shards in a random order and each shard's frames in a
    random order. The order of epoch e is drawn from ``default_rng([seed, e])``, so batch b is the same
    whichever worker makes it and a resumed run (``start_batch``) continues exactly."""

    def __init__(
        self, folder: str | os.PathLike, seed: int, batch_size: int, start_batch: int = 0, batch_stride: int = 1
    ):
        super().__init__(seed, batch_size, None, start_batch, batch_stride)
        self.folder = folder
        self._frames: ShardedFrames | None = None
        self._orders: dict[int, np.ndarray] = {}

    @property
    def frames(self) -> ShardedFrames:
        if self._frames is None:  # opened in each worker; the trainer verified the checksums once
            self._frames = ShardedFrames(self.folder, verify=False)
        return self._frames

    def order(self, epoch: int) -> np.ndarray:
        """The frame indices of ``epoch`` in reading order."""
        if epoch not in self._orders:
            rng = np.random.default_rng([self.seed, epoch])
            shards = [self.frames.shards[number] for number in rng.permutation(len(self.frames.shards))]
            self._orders = {
                epoch: np.concatenate([entry["first"] + rng.permutation(entry["count"]) for entry in shards])
            }
        return self._orders[epoch]

    def make(self, positions: np.ndarray) -> dict[str, torch.Tensor]:
        total = len(self.frames)
        indices = [int(self.order(int(position // total))[position % total]) for position in positions]
        frames = [self.frames.frame(index) for index in indices]
        stacked = {key: np.stack([frame[key] for frame in frames]) for key in frames[0]}
        return frames_to_tensors(stacked, float(self.frames.manifest["depth_unit_mm"]))
