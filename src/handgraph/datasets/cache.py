"""Crop caches: a real dataset's split cropped once, so that training does not decode 72,757 PNGs an epoch.

A cache is a folder of checksummed shards with a manifest (``synth.shards``, format ``handgraph-crops``),
written atomically and resumable like a synthetic dataset, holding per frame what training reads from
synthetic shards: ``depth`` (S, S) float32 mm of the crop, ``intrinsics`` (4,) the crop's camera,
``centre_xyz`` (3,), ``cube_mm``, ``uvd`` / ``xyz`` (J, 3) of the protocol's joints (NYU's 14 of 36), and
``index``, the frame's index in the split (frames are stored shuffled).

The manifest records what the cache was made from: the split, the crop (size, cube), the centres, and a
SHA-256 over every frame file's name, size and modification time, the labels and the centres. A build whose
inputs match reuses the cache (finishing an interrupted one); one whose inputs changed rebuilds it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from handgraph.datasets import open_split
from handgraph.datasets.protocol import get_protocol
from handgraph.datasets.split import DatasetSplit
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import xyz_to_uvd
from handgraph.geometry.joint_map import scored_labels
from handgraph.preprocess.crop import crop_depth, intrinsics_tensor, make_crops
from handgraph.synth.shards import MANIFEST, read_manifest, shard_name, write_shards

FORMAT = "handgraph-crops"
VERSION = 1


@lru_cache(maxsize=4)
def _split(spec: str, root: str) -> DatasetSplit:
    return open_split(spec, root)  # once per process: shards of one cache share it


class CropFrames:
    """The maker of a cache's shards: cache positions to frames of a split, cropped around ``centres`` (N, 3).
    Position p holds frame ``order[p]``: a fixed shuffle, so that each shard is a sample of the whole split
    (training reads a shard at a time; consecutive frames of a recording would make correlated batches)."""

    def __init__(self, spec: str, root: str, centres: np.ndarray, size: int, cube_mm: np.ndarray, order: np.ndarray):
        self.spec, self.root, self.centres, self.size, self.cube_mm = spec, root, centres, size, cube_mm
        self.order = order

    def __call__(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        indices = self.order[positions]
        split = _split(self.spec, self.root)
        camera = intrinsics_tensor(split.camera)
        depth = torch.tensor(np.stack([split.depth(int(k)) for k in indices]), dtype=torch.float32)
        centres = torch.tensor(self.centres[indices], dtype=torch.float32)
        crops = torch.cat([make_crops(camera, centres[k : k + 1], float(self.cube_mm[index]), self.size)
                           for k, index in enumerate(indices)])  # fmt: skip
        pixels = crop_depth(depth, camera.expand(len(indices), 4), crops, self.size)[:, 0]
        xyz = uvd_to_camera(split, indices)
        intrinsics = crops[:, :4].double().numpy()
        return {
            "depth": pixels.numpy(),
            "intrinsics": intrinsics,
            "centre_xyz": self.centres[indices].astype(np.float32),
            "cube_mm": self.cube_mm[indices].astype(np.float32),
            "uvd": xyz_to_uvd(xyz, intrinsics).astype(np.float32),
            "xyz": xyz.astype(np.float32),
            "index": indices,
        }


def uvd_to_camera(split: DatasetSplit, indices: np.ndarray) -> np.ndarray:
    """The protocol's joints of frames ``indices`` in mm, camera frame (y down), (B, J, 3)."""
    from handgraph.geometry.camera import uvd_to_xyz

    return uvd_to_xyz(scored_labels(split.uvd[indices], split.layout.name), split.camera)


def inputs_digest(split: DatasetSplit, centres: np.ndarray) -> str:
    """SHA-256 over every frame file's name, size and modification time, the labels and the centres."""
    digest = hashlib.sha256()
    for path in split.files:
        status = path.stat()
        digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    digest.update(np.ascontiguousarray(split.uvd, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(centres, dtype=np.float64).tobytes())
    return digest.hexdigest()


def build_crop_cache(
    spec: str,
    root: str | os.PathLike,
    folder: str | os.PathLike,
    centres: str | os.PathLike = "labels",
    size: int = 128,
    cube_mm: float | None = None,
    shard_size: int = 1000,
    workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Crop a labelled split into ``folder`` (reused when its inputs match, rebuilt when they changed).
    ``centres``: ``labels`` (the labels' centroid, for training) or a centres file; ``cube_mm``: a fixed cube,
    or None for the split's own per frame (NYU 300/250, MSRA per subject). Returns the manifest."""
    from handgraph.datasets.centres import read_centres

    root = str(Path(root).resolve())
    split = _split(spec, root)
    if split.uvd is None:
        raise HandgraphError(f"{split.name}: has no public labels; a crop cache is for training and scoring")
    if size < 8 or (cube_mm is not None and not 50.0 <= cube_mm <= 1000.0):
        raise HandgraphError(f"crop cache: size must be >= 8 and the cube within [50, 1000] mm, got {size}, {cube_mm}")
    points = split.xyz.mean(axis=1) if str(centres) == "labels" else read_centres(centres, split)
    cubes = split.cube_mm if cube_mm is None else np.full(len(split), float(cube_mm))
    fresh = _manifest(split, points, centres, size, cube_mm, shard_size)
    folder = Path(folder)
    if (folder / MANIFEST).is_file() and read_manifest(folder)["config"] != fresh["config"]:
        print(f"{folder}: its inputs or crop changed; rebuilding the cache")
        _remove_cache(folder)
    order = np.random.default_rng(0).permutation(len(split))
    return write_shards(folder, fresh, CropFrames(spec, root, points, size, cubes, order), workers, progress)


def _manifest(split: DatasetSplit, points, centres, size: int, cube_mm, shard_size: int) -> dict:
    protocol = get_protocol(split.name.partition(":")[0])
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": {
            "split": split.name,
            "root": str(split.root),
            "size": size,
            "cube_mm": cube_mm if cube_mm is not None else "per frame (the dataset's)",
            "centres": str(centres),
            "order": "shuffled by numpy.random.default_rng(0).permutation; 'index' holds each crop's frame",
            "inputs_sha256": inputs_digest(split, points),
        },
        "count": len(split),
        "shard_size": shard_size,
        "image_shape": [size, size],
        "depth_unit_mm": 1.0,
        "camera": split.camera.to_dict(),
        "layout": protocol.layout.name,
        "complete": False,
        "shards": [],
    }


def _remove_cache(folder: Path) -> None:
    """Delete a cache's own files (manifest and shards), nothing else in the folder."""
    manifest = read_manifest(folder)
    for number in range(-(-manifest["count"] // manifest["shard_size"])):
        (folder / shard_name(number)).unlink(missing_ok=True)
    (folder / MANIFEST).unlink()
    if not any(folder.iterdir()):
        shutil.rmtree(folder)
