"""Finding the hand in a frame from any camera with a trained localiser: ``Localizer()(depth_mm, camera)``.

The frame is resampled to the localiser's canvas (``preprocess.canvas``), the network answers with a centre on
the canvas and a score, and the centre goes back to the frame's pixels and to mm in the camera's frame.
A localiser is a checkpoint folder (run by PyTorch) or an ``.onnx`` file from ``inference.export.export_localizer``
(run by ONNX Runtime); both carry the canvas and the threshold they were trained with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import Intrinsics, uvd_to_xyz
from handgraph.geometry.numerics import RUNTIME_AGREEMENT_ULPS, ulps
from handgraph.io.reading import read_onnx
from handgraph.localizer.network import DecodedLocalizer, HandLocalizer, LocalizerConfig
from handgraph.preprocess.canvas import canvas_to_frame_uv, frame_to_canvas, sampling_indices

DEFAULT_LOCALIZER = Path(__file__).resolve().parents[3] / "checkpoints" / "localizer"
"""The localiser shipped in the repository (beside the source tree of an editable install)."""
METADATA_KEY = "handgraph-localizer"
SURFACE_TO_CENTRE_MM = 19.0
"""How far the joints' centroid lies behind the hand's visible surface: the median over the localiser's
validation scenes (NYU's labels put joints 0-30 mm behind the surface)."""
WINDOW_RADIUS_PX = 3
BAND_MM = 150.0


def centre_depth(canvas: np.ndarray, u: float, v: float, network_depth_mm: float) -> float:
    """The hand centre's depth read from the canvas itself: the median of the depths within ``BAND_MM`` of the
    network's estimate in a 7 x 7 window at (u, v), plus ``SURFACE_TO_CENTRE_MM``; the network's own estimate
    where no such depth is there. On validation scenes this cut the median depth error from 43 to 12 mm."""
    row, column = int(round(v)), int(round(u))
    window = canvas[
        max(0, row - WINDOW_RADIUS_PX) : row + WINDOW_RADIUS_PX + 1,
        max(0, column - WINDOW_RADIUS_PX) : column + WINDOW_RADIUS_PX + 1,
    ]
    near = window[(window > 0) & (np.abs(window - network_depth_mm) <= BAND_MM)]
    return float(np.median(near)) + SURFACE_TO_CENTRE_MM if near.size else float(network_depth_mm)


@dataclass
class HandDetection:
    """A localiser's answer for one frame: is there a hand, where is its centre, how sure is it."""

    found: bool
    score: float
    """The best cell's score in [0, 1]; ``found`` is score >= the localiser's threshold."""
    centre_uvd: np.ndarray | None
    """(3,) frame pixels and mm; None when the frame holds nothing in the canvas's depth range."""
    centre_xyz: np.ndarray | None
    """(3,) mm in the camera's frame."""


def load_localizer_network(folder: str | os.PathLike) -> tuple[HandLocalizer, dict]:
    """The localiser of a checkpoint folder (eval mode) and the checkpoint's metadata."""
    from handgraph.models.checkpoint import read_checkpoint_meta, read_weights

    meta = read_checkpoint_meta(folder)
    name = meta["model"].get("name") if isinstance(meta["model"], dict) else None
    if name != "localizer":
        raise HandgraphError(f"{folder}/checkpoint.json: model is {name!r}, not a hand localizer ('localizer')")
    with about(f"{Path(folder) / 'checkpoint.json'}: model"):
        network = HandLocalizer(LocalizerConfig.from_dict(meta["model"]))
    network.load_state_dict(read_weights(Path(folder) / "model.safetensors", network.state_dict()))
    return network.eval(), meta


def agreement_bound(answers: np.ndarray) -> np.ndarray:
    """(4,) the rounding difference accepted between two runtimes' (B, 4) answers to the same canvases:
    ``RUNTIME_AGREEMENT_ULPS`` float32 ulps of each column's largest value, of 1 for the score (its range)."""
    scale = np.abs(np.asarray(answers, dtype=np.float64)).max(axis=0)
    scale[3] = 1.0
    return ulps(scale, np.float32, RUNTIME_AGREEMENT_ULPS)


def with_centre_depth(canvases: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """The network's answers (B, 4) with each centre's depth read from its canvas (:func:`centre_depth`)."""
    answers = np.array(answers, dtype=np.float64)
    for canvas, answer in zip(canvases, answers, strict=True):
        answer[2] = centre_depth(canvas, *answer[:3])
    return answers


class Localizer:
    """A trained localiser ready to run on frames. ``source``: a checkpoint folder (default: the shipped one)
    or, with ``backend="onnx"``, an ``.onnx`` file (or a folder holding ``localizer.onnx``)."""

    def __init__(self, source: str | os.PathLike | None = None, backend: str = "torch", threads: int | None = None):
        source = Path(source) if source else DEFAULT_LOCALIZER
        if backend == "onnx":
            self._session, self.config = _onnx_session(source, threads)
            self._torch = None
        elif backend == "torch":
            if not (source / "checkpoint.json").is_file():
                raise HandgraphError(f"{source}: not a localizer checkpoint folder (no checkpoint.json)")
            network, _ = load_localizer_network(source)
            self._torch, self.config = DecodedLocalizer(network), network.config
        else:
            raise HandgraphError(f"unknown backend {backend!r}; known: torch, onnx")
        self.source, self.canvas, self.backend = source, self.config.canvas, backend
        self._indices: dict[tuple, np.ndarray] = {}

    def canvas_of(self, depth_mm: np.ndarray, camera: Intrinsics) -> np.ndarray:
        """The frame on the canvas, (H', W') float32 mm; the sampling pattern is kept per camera."""
        if depth_mm.ndim != 2:  # before the pattern's key is made of its shape
            raise HandgraphError(f"expected a 2D depth frame, got shape {depth_mm.shape}")
        key = (camera.fx, camera.fy, camera.cx, camera.cy, depth_mm.shape)
        if key not in self._indices:
            self._indices[key] = sampling_indices(camera, depth_mm.shape, self.canvas)
        return frame_to_canvas(depth_mm, camera, self.canvas, self._indices[key])

    def run_canvas(self, canvases: np.ndarray) -> np.ndarray:
        """The network on (B, H', W') canvases in mm -> (B, 4): canvas u, v, depth mm, score."""
        batch = np.ascontiguousarray(canvases[:, None], dtype=np.float32)
        if self._torch is not None:
            with torch.no_grad():
                return self._torch(torch.from_numpy(batch)).numpy()
        return self._session.run(["centre"], {"depth": batch})[0]

    def answer(self, canvases: np.ndarray) -> np.ndarray:
        """(B, H', W') canvases -> (B, 4): canvas u, v, the centre's depth (read from the canvas, see
        :func:`centre_depth`) and the score."""
        return with_centre_depth(canvases, self.run_canvas(canvases))

    def __call__(self, depth_mm: np.ndarray, camera: Intrinsics) -> HandDetection:
        """Where the hand in one (H, W) frame in mm (0 = no measurement) is, if there is one."""
        canvas = self.canvas_of(depth_mm, camera)
        if not (canvas > 0).any():  # nothing within the depth range: no network needed to say "no hand"
            return HandDetection(False, 0.0, None, None)
        u, v, d, score = self.answer(canvas[None])[0]
        uv = canvas_to_frame_uv(np.array([u, v]), camera, self.canvas)
        uvd = np.array([uv[0], uv[1], d])
        return HandDetection(score >= self.config.threshold, score, uvd, uvd_to_xyz(uvd, camera))


def _onnx_session(source: Path, threads: int | None):
    path = source / "localizer.onnx" if source.is_dir() else source
    session, metadata = read_onnx(path, threads, METADATA_KEY, "write a localizer with 'handgraph export --localizer'")
    with about(f"{path}: metadata '{METADATA_KEY}'"):
        return session, LocalizerConfig.from_dict(metadata)
