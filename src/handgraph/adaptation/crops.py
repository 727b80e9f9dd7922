"""The used pseudo-labelled frames as a crop cache that training reads like a real dataset's
(``datasets.cache``'s format, ``handgraph-crops``): the depth cropped around the pseudo-label's centroid at the
model's input size and cube, with its joints in the model's layout."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from handgraph.adaptation.frames import FrameSet
from handgraph.adaptation.pseudo_labels import PseudoLabels
from handgraph.datasets.cache import FORMAT, VERSION
from handgraph.geometry.camera import xyz_to_uvd
from handgraph.preprocess.crop import crop_depth, intrinsics_tensor, make_crops
from handgraph.synth.shards import write_shards

SHARD_SIZE = 500


class PseudoLabelCrops:
    """The maker of the cache's shards: position p holds used hand ``order[p]``."""

    def __init__(self, frames: FrameSet, labels: PseudoLabels, order: np.ndarray, size: int, cube_mm: float):
        self.frames, self.labels, self.order, self.size, self.cube_mm = frames, labels, order, size, cube_mm

    def __call__(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        hands = self.order[positions]
        camera = intrinsics_tensor(self.frames.camera, len(hands))
        depth = torch.tensor(np.stack([self.frames.reader(self.labels.names[k])() for k in hands]), dtype=torch.float32)
        xyz = self.labels.xyz[hands]  # (B, J, 3)
        centres = xyz.mean(axis=1)
        crops = make_crops(camera, torch.tensor(centres, dtype=torch.float32), self.cube_mm, self.size)
        intrinsics = crops[:, :4].double().numpy()
        return {
            "depth": crop_depth(depth, camera, crops, self.size)[:, 0].numpy(),
            "intrinsics": intrinsics,
            "centre_xyz": centres.astype(np.float32),
            "cube_mm": np.full(len(hands), self.cube_mm, dtype=np.float32),
            "uvd": xyz_to_uvd(xyz, intrinsics).astype(np.float32),
            "xyz": xyz.astype(np.float32),
            "index": hands,
        }


def write_label_crops(folder: str | os.PathLike, frames: FrameSet, labels: PseudoLabels, used: np.ndarray,
                      layout: str, size: int, cube_mm: float, progress: bool = True) -> dict:  # fmt: skip
    """The used hands' crops in ``folder`` (resumed when an interrupted write left finished shards); returns its
    manifest."""
    order = np.random.default_rng(0).permutation(np.flatnonzero(used))  # shuffled: each shard samples them all
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "config": {
            "source": "pseudo-labels of handgraph adapt",
            "frames_sha256": frames.digest(),
            "hands": [int(k) for k in order],
            "size": size,
            "cube_mm": cube_mm,
        },
        "count": len(order),
        "shard_size": SHARD_SIZE,
        "image_shape": [size, size],
        "depth_unit_mm": 1.0,
        "camera": frames.camera.to_dict(),
        "layout": layout,
        "complete": False,
        "shards": [],
    }
    return write_shards(Path(folder), manifest, PseudoLabelCrops(frames, labels, order, size, cube_mm), 0, progress)
