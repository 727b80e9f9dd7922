"""Finding the hand in a frame from any camera with a trained localiser: ``Localizer()(depth_mm, camera)``.

The frame is resampled to the localiser's canvas (``preprocess.canvas``), the network answers with a centre on
the canvas and a score, and the centre goes back to the frame's pixels and to mm in the camera's frame.
A localiser is a checkpoint folder (run by PyTorch) or an ``.onnx`` file from ``inference.export.export_localizer``
(run by ONNX Runtime), both through the one runner of ``inference.networks``; both carry the canvas and the
threshold they were trained with.
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
from handgraph.inference.networks import NetworkKind, open_runner
from handgraph.localizer.centre_depth import with_centre_depth
from handgraph.localizer.network import DecodedLocalizer, LocalizerConfig, load_localizer_network
from handgraph.preprocess.canvas import canvas_to_frame_uv, frame_to_canvas, sampling_indices
from handgraph.weights import LOCALIZER, shipped

METADATA_KEY = "handgraph-localizer"
"""The ONNX metadata entry holding the localiser's config (written by ``export.export_localizer``)."""


def _load_localizer(folder: Path, device: str) -> tuple[torch.nn.Module, dict]:
    network, meta = load_localizer_network(folder)
    return DecodedLocalizer(network).to(device), meta["model"]  # the config, as the ONNX metadata holds it


LOCALIZER_NETWORK = NetworkKind(
    "hand localizer", "localizer.onnx", METADATA_KEY, "write a localizer with 'handgraph export --localizer'",
    "handgraph export --localizer {folder} --onnx {onnx}", _load_localizer,
)  # fmt: skip


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


TOO_CLOSE_MM = 250.0
"""Nearer than this a hand spans more than the pose crop's 250 mm cube and most of a depth camera's view."""


def why_no_hand(depth_mm: np.ndarray) -> str | None:
    """When no hand is found, what the frame shows that may explain it, or None: much of the view nearer than
    ``TOO_CLOSE_MM`` (a hand held too close), or most of it without depth (nearer than the sensor's
    minimum range, beyond its maximum, or the wrong depth scale)."""
    near = float(np.mean((depth_mm > 0) & (depth_mm < TOO_CLOSE_MM)))
    if near >= 0.1:
        return (f"{100 * near:.0f} % of the view lies within {TOO_CLOSE_MM:g} mm of the camera: a hand that "
                f"close does not fit the crop; hold it 300 mm or more away")  # fmt: skip
    missing = float(np.mean(~(depth_mm > 0)))
    if missing >= 0.6:
        return (f"{100 * missing:.0f} % of the view has no depth: something nearer than the sensor's minimum "
                f"range or beyond its maximum, or a wrong --depth-scale")  # fmt: skip
    return None


def agreement_bound(answers: np.ndarray) -> np.ndarray:
    """(4,) the rounding difference accepted between two runtimes' (B, 4) answers to the same canvases:
    ``RUNTIME_AGREEMENT_ULPS`` float32 ulps of each column's largest value, of 1 for the score (its range)."""
    scale = np.abs(np.asarray(answers, dtype=np.float64)).max(axis=0)
    scale[3] = 1.0
    return ulps(scale, np.float32, RUNTIME_AGREEMENT_ULPS)


class Localizer:
    """A trained localiser ready to run on frames. ``source``: a checkpoint folder (default: the shipped one)
    or, with ``backend="onnx"``, an ``.onnx`` file (or a folder holding ``localizer.onnx``)."""

    def __init__(self, source: str | os.PathLike | None = None, backend: str = "torch", threads: int | None = None):
        self._runner, description, self.source = open_runner(
            Path(source) if source else shipped(LOCALIZER), backend, LOCALIZER_NETWORK, threads
        )
        with about(f"{self.source}: the localizer's config"):
            self.config = LocalizerConfig.from_dict(description)
        self.canvas, self.backend = self.config.canvas, backend
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
        (centre,) = self._runner({"depth": np.ascontiguousarray(canvases[:, None], dtype=np.float32)})
        return centre

    def answer(self, canvases: np.ndarray) -> np.ndarray:
        """(B, H', W') canvases -> (B, 4): canvas u, v, the centre's depth (read from the canvas, see
        ``localizer.centre_depth``) and the score."""
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
