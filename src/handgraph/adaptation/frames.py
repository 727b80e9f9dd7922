"""The unlabelled frames ``handgraph adapt`` learns from: every frame ``predict`` reads, grouped into sequences.

Each ``--input`` is a depth file, a folder of them or a ``.npy`` stack (a recording of ``handgraph live
--record``); a folder's ``.npy`` recordings are sequences of their own, its images one sequence. Frames are
read only when used (a stack from its memory map), so ten thousand frames need not fit in memory. All frames
must come from one camera: a recording's own (from its JSON), which every other input must share, or the one
given.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, camera_preset
from handgraph.io.depth_images import depth_files, frame_readers
from handgraph.io.recordings import read_recording_info


@dataclass
class FrameSet:
    """Frames in sequences, their camera and depth scale."""

    sequences: list[list[tuple[str, Callable[[], np.ndarray]]]]
    """(name, read) per frame, ``read()`` giving mm, grouped by sequence (a recording, or a folder's images)."""
    camera: Intrinsics
    depth_scale_mm: float
    fps: float

    @property
    def names(self) -> list[str]:
        return [name for sequence in self.sequences for name, _ in sequence]

    def __len__(self) -> int:
        return sum(len(sequence) for sequence in self.sequences)

    @cached_property
    def readers(self) -> dict[str, Callable[[], np.ndarray]]:
        """The reader of every frame, by its name."""
        return {name: read for sequence in self.sequences for name, read in sequence}

    def reader(self, name: str) -> Callable[[], np.ndarray]:
        return self.readers[name]

    def digest(self) -> str:
        """SHA-256 of the list of frame names, one per line: which frames a model was adapted on."""
        return hashlib.sha256("".join(f"{name}\n" for name in self.names).encode()).hexdigest()


def open_frames(
    inputs: Sequence[str | os.PathLike],
    camera: str | Intrinsics | None = None,
    depth_scale_mm: float | None = None,
    fps: float | None = None,
) -> FrameSet:
    """The frames of ``inputs``; ``camera`` a preset name or intrinsics (default: the recordings' own, which must
    agree), ``depth_scale_mm`` mm per stored unit (default: the recordings' own, else 1)."""
    if not inputs:
        raise HandgraphError("no --input given: name the depth frames or recordings to adapt on")
    files = [path for source in inputs for path in depth_files(source)]
    if len(set(files)) < len(files):
        repeated = next(path for path in files if files.count(path) > 1)
        raise HandgraphError(f"{repeated}: given twice; each frame may teach the model once")
    recorded = {path: info for path in files if (info := read_recording_info(path)) is not None}
    own = _agreed_recordings(recorded)
    if camera is None and own is None:
        raise HandgraphError("the camera is unknown: give --camera NAME (or record with 'handgraph live --record')")
    resolved = camera if isinstance(camera, Intrinsics) else camera_preset(camera) if camera else own[0]
    if own is not None and camera is not None and own[0] != resolved:
        raise HandgraphError(f"{next(iter(recorded))}: recorded with the camera {own[0].to_dict()}, not the "
                             f"given {resolved.to_dict()}; adapt on one camera's frames at a time")  # fmt: skip
    if depth_scale_mm is not None and not depth_scale_mm > 0:
        raise HandgraphError(f"--depth-scale must be positive, got {depth_scale_mm}")
    scale = depth_scale_mm or (own[1] if own else 1.0)
    images = [path for path in files if path.suffix.lower() != ".npy"]
    sequences = [frame_readers([path], scale) for path in files if path.suffix.lower() == ".npy"]
    if images:
        sequences.insert(0, frame_readers(images, scale))
    return FrameSet(sequences, resolved, float(scale), float(fps or (own[2] if own else 30.0)))


def _agreed_recordings(recorded: dict[Path, tuple[Intrinsics, float, float]]):
    """The one (camera, depth scale, fps) of the recordings, or None without any; an error when they differ."""
    if not recorded:
        return None
    (first, info), *others = recorded.items()
    for path, other in others:
        if other[:2] != info[:2]:
            raise HandgraphError(f"{path}: recorded with another camera or depth scale than {first} ({other[0]}, "
                                 f"{other[1]} mm against {info[0]}, {info[1]} mm); adapt on one camera's "
                                 "frames at a time")  # fmt: skip
    return info
