"""Frames on disk: shards plus a ``manifest.json`` that a reader trusts. Synthetic datasets (``handgraph synth``)
and the crop caches of real datasets (``datasets.cache``) are both written this way.

Layout of a dataset folder::

    manifest.json        format, version, config, seed, count, shard size, camera, depth unit,
                         and one entry per finished shard: file, first frame, frame count, sha256, bytes
    shard_00000.npz      frames [0, shard_size): every key of ``generate_frames``
    shard_00001.npz      ...

Each shard is written to a temporary file and renamed, then recorded in the manifest, which is itself
replaced atomically. An interrupted run leaves finished shards and a manifest that lists exactly them; a
reader accepts a dataset only when the manifest says it is complete and every shard matches its checksum.
Running the same command again resumes: it keeps verified shards and writes the rest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from handgraph.errors import HandgraphError, about
from handgraph.io.files import atomic_write_text, atomic_writer
from handgraph.io.reading import one_line, read_json
from handgraph.synth.generator import GESTURE_NAMES, SynthConfig, generate_frames

FORMAT = "handgraph-synth"
FORMATS = (FORMAT, "handgraph-crops")
"""Synthetic datasets, and crop caches of real datasets (``datasets.cache``): the same shards."""
VERSION = 1
MANIFEST = "manifest.json"
BATCH = 32
"""Frames rendered together: large enough to amortise the Python work, small enough to stay in cache."""


@dataclass(frozen=True)
class _ShardTask:
    folder: Path
    number: int
    first: int
    count: int
    make: Callable[[np.ndarray], dict[str, np.ndarray]]
    """Frames of the given indices as a dict of arrays; picklable (it runs in worker processes)."""


@dataclass(frozen=True)
class SynthFrames:
    """The maker of a synthetic dataset: frames ``indices`` of stream ``seed`` under ``config``."""

    config: SynthConfig
    seed: int

    def __call__(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        batches = [
            generate_frames(self.config, self.seed, indices[k : k + BATCH]) for k in range(0, len(indices), BATCH)
        ]
        return {key: np.concatenate([batch[key] for batch in batches]) for key in batches[0]}


def shard_name(number: int) -> str:
    return f"shard_{number:05d}.npz"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_shard(task: _ShardTask) -> dict:
    """Make one shard's frames and write them atomically; returns its manifest entry."""
    frames = task.make(np.arange(task.first, task.first + task.count))
    buffer = io.BytesIO()
    np.savez(buffer, **frames)
    data = buffer.getvalue()
    with atomic_writer(task.folder / shard_name(task.number), binary=True) as handle:
        handle.write(data)
    return {
        "file": shard_name(task.number),
        "first": task.first,
        "count": task.count,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }


def _new_manifest(config: SynthConfig, seed: int, count: int, shard_size: int) -> dict:
    camera = config.sensor.camera
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "seed": seed,
        "count": count,
        "shard_size": shard_size,
        "image_shape": list(config.image_shape),
        "depth_unit_mm": config.sensor.depth_unit_mm,
        "camera": camera.to_dict(),
        "gesture_names": list(GESTURE_NAMES),
        "complete": False,
        "shards": [],
    }
    return json.loads(json.dumps(manifest))  # as it will read back: tuples become lists


def read_manifest(folder: str | os.PathLike) -> dict:
    """The manifest of a dataset folder, checked for format and version."""
    path = Path(folder) / MANIFEST
    manifest = read_json(path, "a handgraph synthetic dataset")
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        raise HandgraphError(f"{path}: not a {' or '.join(FORMATS)} manifest")
    if manifest.get("version") != VERSION:
        raise HandgraphError(f"{path}: format version {manifest.get('version')}, this handgraph reads {VERSION}")
    missing = [key for key in ("config", "count", "shard_size", "shards", "complete") if key not in manifest]
    missing += ["seed"] if manifest["format"] == FORMAT and "seed" not in manifest else []
    if missing:
        raise HandgraphError(f"{path}: missing field(s) {', '.join(missing)}")
    _check_fields(path, manifest)
    return manifest


ENTRY_FIELDS = {"file": str, "first": int, "count": int, "sha256": str, "bytes": int}


def _check_fields(path: Path, manifest: dict) -> None:
    """The fields a reader relies on, with their types: counts, and each shard's entry."""
    for key in ("count", "shard_size"):
        if not _is(manifest[key], int) or manifest[key] < 1:
            raise HandgraphError(f"{path}: {key} must be a positive integer, got {manifest[key]!r}")
    if not _is(manifest["complete"], bool) or not isinstance(manifest["shards"], list):
        raise HandgraphError(f"{path}: complete must be true or false and shards a list")
    first = 0
    for number, entry in enumerate(manifest["shards"]):
        bad = [
            key for key, kind in ENTRY_FIELDS.items() if not isinstance(entry, dict) or not _is(entry.get(key), kind)
        ]
        if bad or entry["first"] < 0 or entry["count"] < 1 or Path(entry["file"]).name != entry["file"]:
            raise HandgraphError(
                f"{path}: shard {number} is {entry!r:.120}; expected file (a name in the folder), first, count, "
                "sha256 and bytes"
            )
        if manifest["complete"] and entry["first"] != first:  # a finished dataset's shards follow each other
            raise HandgraphError(f"{path}: shard {number} starts at frame {entry['first']}, not {first}")
        first += entry["count"]


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def _resume_manifest(folder: Path, fresh: dict) -> dict:
    """The manifest to continue from: a new one for an empty folder, the existing one if it describes the
    same dataset; anything else is refused rather than overwritten."""
    if not (folder / MANIFEST).exists():
        if folder.exists() and any(folder.iterdir()):
            raise HandgraphError(f"{folder}: not empty and holds no {MANIFEST}; refusing to write a dataset into it")
        return fresh
    existing = read_manifest(folder)
    differences = [(f"config {name}", existing["config"].get(name), value) for name, value in fresh["config"].items()]
    differences += [("format", existing["format"], fresh["format"])]
    differences += [(key, existing.get(key), fresh.get(key)) for key in ("seed", "count", "shard_size")]
    for what, theirs, mine in differences:
        if theirs != mine:
            raise HandgraphError(
                f"{folder / MANIFEST}: the dataset there has {what} {theirs!r}, not {mine!r}; "
                "resume with the same settings or choose another --out"
            )
    return existing


def write_dataset(
    folder: str | os.PathLike,
    config: SynthConfig,
    seed: int,
    count: int,
    shard_size: int = 1000,
    workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Write (or finish writing) ``count`` frames of stream ``seed`` to ``folder``; returns the manifest."""
    if count <= 0:
        raise HandgraphError(f"synth: --count must be positive, got {count}")
    if shard_size <= 0:
        raise HandgraphError(f"synth: --shard-size must be positive, got {shard_size}")
    if seed < 0:
        raise HandgraphError(f"synth: --seed must be a non-negative integer, got {seed}")
    return write_shards(folder, _new_manifest(config, seed, count, shard_size), SynthFrames(config, seed),
                        workers, progress)  # fmt: skip


def write_shards(
    folder: str | os.PathLike, fresh: dict, make, workers: int | None = None, progress: bool = True
) -> dict:
    """Write (or finish) the shards that manifest ``fresh`` describes (its ``count`` and ``shard_size``), each
    made by ``make(indices)``; an existing manifest must describe the same frames. Returns the manifest."""
    folder = Path(folder)
    manifest = _resume_manifest(folder, fresh)
    count, shard_size = manifest["count"], manifest["shard_size"]
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".shard_*.tmp"):  # temporary files of an interrupted run
        leftover.unlink()
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    done = {entry["file"]: entry for entry in manifest["shards"] if _intact(folder, entry)}
    manifest["shards"] = sorted(done.values(), key=lambda entry: entry["first"])
    tasks = [
        _ShardTask(folder, number, first, min(shard_size, count - first), make)
        for number, first in enumerate(range(0, count, shard_size))
        if shard_name(number) not in done
    ]
    bar = tqdm(total=count, initial=count - sum(task.count for task in tasks), unit="frame", disable=not progress)
    with bar:
        for entry in _run(tasks, workers):
            manifest["shards"] = sorted(manifest["shards"] + [entry], key=lambda item: item["first"])
            atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
            bar.update(entry["count"])
    manifest["complete"] = True
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return manifest


def _intact(folder: Path, entry: dict) -> bool:
    path = folder / entry["file"]
    return path.is_file() and path.stat().st_size == entry["bytes"] and _sha256(path) == entry["sha256"]


def _run(tasks: list[_ShardTask], workers: int | None) -> Iterator[dict]:
    workers = min(workers or os.cpu_count() or 1, len(tasks)) if tasks else 1
    if workers <= 1:
        yield from map(_write_shard, tasks)
        return
    # spawn, not fork: torch or a BLAS thread pool in the parent must not be duplicated mid-state.
    with get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(_write_shard, tasks)


class ShardedFrames:
    """Random access to the frames of a finished dataset folder, one shard in memory at a time."""

    def __init__(self, folder: str | os.PathLike, verify: bool = True):
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        if not self.manifest["complete"]:
            raise HandgraphError(
                f"{self.folder}: holds {len(self.manifest['shards'])} finished shard(s) and is incomplete; "
                "run the same command (handgraph synth, or handgraph data cache) again to finish it"
            )
        synthetic = self.manifest["format"] == FORMAT
        with about(str(self.folder / MANIFEST)):
            self.config = SynthConfig.from_dict(self.manifest["config"]) if synthetic else None
        self.shards = self.manifest["shards"]
        self._starts = np.array([entry["first"] for entry in self.shards])
        if sum(entry["count"] for entry in self.shards) != self.manifest["count"]:
            raise HandgraphError(
                f"{self.folder / MANIFEST}: its shards do not add up to {self.manifest['count']} frames"
            )
        for entry in self.shards if verify else ():
            if not _intact(self.folder, entry):
                raise HandgraphError(
                    f"{self.folder / entry['file']}: missing or does not match its checksum in {MANIFEST}"
                )
        self._cached: tuple[int, dict[str, np.ndarray]] | None = None

    def __len__(self) -> int:
        return self.manifest["count"]

    def _shard(self, number: int) -> dict[str, np.ndarray]:
        if self._cached is None or self._cached[0] != number:
            self._cached = (number, self._read_shard(self.shards[number]))
        return self._cached[1]

    def _read_shard(self, entry: dict) -> dict[str, np.ndarray]:
        path = self.folder / entry["file"]
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except MemoryError:
            raise HandgraphError(f"{path}: promises more data than fits in memory") from None
        except Exception as error:  # numpy and zipfile raise many types for a damaged archive
            raise HandgraphError(f"{path}: not a readable shard ({one_line(error)})") from None
        short = [key for key, value in arrays.items() if value.ndim == 0 or len(value) != entry["count"]]
        if short or not arrays:
            raise HandgraphError(
                f"{path}: arrays {short or 'none'} do not hold the {entry['count']} frames {MANIFEST} says"
            )
        return arrays

    def frame(self, index: int) -> dict[str, np.ndarray]:
        """Every array of frame ``index``; depth stays in the stored integer unit (``depth_unit_mm``)."""
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} outside [0, {len(self)})")
        number = int(np.searchsorted(self._starts, index, side="right") - 1)
        local = index - self.shards[number]["first"]
        return {key: value[local] for key, value in self._shard(number).items()}
