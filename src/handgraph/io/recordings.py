"""A recording of a depth camera: a ``.npy`` stack (frames, height, width) of the camera's raw uint16 depth units,
with a ``.json`` beside it holding its intrinsics, depth scale and frame rate::

    {"camera": {"fx": ..., "fy": ..., "cx": ..., "cy": ..., "width": ..., "height": ...},
     "depth_scale_mm": 0.125, "fps": 30.0}

``handgraph live --record`` writes one (:class:`Recorder`); ``handgraph predict --input rec.npy`` and
``handgraph live --replay`` read it back with its camera (:func:`read_recording_info`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import Intrinsics, is_finite_number
from handgraph.io.files import atomic_write_text, usual_permissions
from handgraph.io.reading import one_line, read_json


def recording_sidecar(path: str | os.PathLike) -> Path:
    """The JSON that goes with a recording ``rec.npy``: ``rec.json``."""
    return Path(path).with_suffix(".json")


def read_recording_info(path: str | os.PathLike) -> tuple[Intrinsics, float, float] | None:
    """(camera, mm per depth unit, frames/s) from a recording's JSON, or None when there is none."""
    sidecar = recording_sidecar(path)
    if Path(path).suffix.lower() != ".npy" or not sidecar.is_file():
        return None  # only a .npy stack is a recording; a JSON beside a PNG or a folder is someone else's
    info = read_json(sidecar, "a handgraph recording's description")
    try:
        with about(f"{sidecar}: camera"):
            camera = Intrinsics(**info["camera"])
        scale, fps = info["depth_scale_mm"], info["fps"]
    except (KeyError, TypeError) as error:
        raise HandgraphError(f"{sidecar}: expected keys camera (fx, fy, cx, cy, width, height), depth_scale_mm "
                             f"and fps ({one_line(error)})") from None  # fmt: skip
    if not (is_finite_number(scale) and is_finite_number(fps) and scale > 0 and fps > 0):
        raise HandgraphError(f"{sidecar}: depth_scale_mm and fps must be positive numbers, got {scale!r:.40} and "
                             f"{fps!r:.40}")  # fmt: skip
    return camera, float(scale), float(fps)


class Recorder:
    """Writes raw frames as they come into a ``.npy`` stack and its JSON, atomically at :meth:`close`: frames go
    to a temporary raw file first, since the count is known only at the end."""

    def __init__(self, path: str | os.PathLike, camera: Intrinsics, depth_scale_mm: float, fps: float):
        self.path = Path(path)
        if self.path.suffix != ".npy":
            raise HandgraphError(f"--record {self.path}: expected a file name ending in .npy")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.camera, self.depth_scale_mm, self.fps = camera, depth_scale_mm, fps
        handle, self._raw = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".raw", dir=self.path.parent)
        self._file = os.fdopen(handle, "wb")
        self.count, self.shape = 0, None

    def add(self, raw: np.ndarray) -> None:
        if self.shape is None:
            self.shape = raw.shape
        elif raw.shape != self.shape:
            raise HandgraphError(f"recording {self.path}: frame {self.count} is {raw.shape}, expected {self.shape}")
        self._file.write(np.ascontiguousarray(raw, dtype="<u2").tobytes())
        self.count += 1

    def close(self) -> None:
        """Write the stack (frames, height, width) uint16 and its JSON; nothing when no frame came."""
        self._file.close()
        try:
            if self.count:
                self._write_stack()
        finally:
            Path(self._raw).unlink(missing_ok=True)

    def _write_stack(self) -> None:
        header = {"descr": "<u2", "fortran_order": False, "shape": (self.count, *self.shape)}
        handle, staging = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "wb") as out, open(self._raw, "rb") as raw:
                np.lib.format.write_array_header_2_0(out, header)
                while chunk := raw.read(1 << 24):
                    out.write(chunk)
            usual_permissions(staging)
            os.replace(staging, self.path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        info = {"camera": self.camera.to_dict(), "depth_scale_mm": self.depth_scale_mm, "fps": self.fps}
        atomic_write_text(recording_sidecar(self.path), json.dumps(info, indent=1) + "\n")
