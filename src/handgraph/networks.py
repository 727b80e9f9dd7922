"""A trained network behind one interface, whichever runtime runs it: PyTorch (a checkpoint folder) or ONNX
Runtime (a file from ``handgraph export``). ``network(depth, crop)`` maps (B, C, S, S) normalised crops and
(B, 6) crop parameters to (B, J, 3) joints in mm; ``name``, ``layout``, ``input_size`` and ``cube_mm`` say
what it expects and returns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from handgraph.checkpoint import load_model
from handgraph.errors import HandgraphError
from handgraph.layouts import JointLayout, get_layout
from handgraph.models.config import ModelConfig

BACKENDS = ("torch", "onnx")
METADATA_KEY = "handgraph"
"""The ONNX metadata entry holding the checkpoint's JSON (written by ``export.export_onnx``)."""
DEFAULT_CUBE_MM = 250.0


def cube_from_meta(meta: dict) -> float | None:
    """The crop cube a checkpoint's model was trained with, from its training config: the ``crop`` the run
    recorded (None: a crop cache's per-frame cubes, the dataset's own), else its synthetic data's, 250 mm
    when unrecorded."""
    train = meta.get("train") or {}
    if isinstance(train.get("crop"), dict):
        cube = train["crop"].get("cube_mm")
        return None if cube is None else float(cube)
    return float(train.get("data", {}).get("synth", {}).get("cube_mm", DEFAULT_CUBE_MM))


class TorchNetwork:
    """A checkpoint folder run by PyTorch."""

    def __init__(self, checkpoint: str | os.PathLike, device: str = "cpu"):
        self.source = Path(checkpoint)
        self.model, self.meta = load_model(self.source, device)
        self.device = torch.device(device)
        self.name = self.model.config.name
        self.layout: JointLayout = self.model.layout
        self.input_size = self.model.config.input_size
        self.cube_mm = cube_from_meta(self.meta)

    @torch.no_grad()
    def __call__(self, depth: torch.Tensor, crop: torch.Tensor) -> np.ndarray:
        return self.model(depth.to(self.device), crop.to(self.device))["xyz"].cpu().numpy()


class OnnxNetwork:
    """An exported ``.onnx`` file run by ONNX Runtime on the CPU; ``threads`` sets its intra-op threads."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        import onnxruntime

        self.source = Path(path)
        if not self.source.is_file():
            raise HandgraphError(f"{self.source}: no such ONNX file (write one with 'handgraph export')")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(str(self.source), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for unreadable models
            raise HandgraphError(f"{self.source}: not a readable ONNX model ({error})") from None
        properties = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in properties:
            raise HandgraphError(
                f"{self.source}: no '{METADATA_KEY}' metadata; export the model with 'handgraph export'"
            )
        self.meta = json.loads(properties[METADATA_KEY])
        config = ModelConfig.from_stored(self.meta["model"])
        self.name = config.name
        self.layout = get_layout(config.layout)
        self.input_size = config.input_size
        cube = self.meta.get("cube_mm", DEFAULT_CUBE_MM)
        self.cube_mm = None if cube is None else float(cube)

    def __call__(self, depth: torch.Tensor | np.ndarray, crop: torch.Tensor | np.ndarray) -> np.ndarray:
        inputs = {"depth": np.asarray(depth, dtype=np.float32), "crop": np.asarray(crop, dtype=np.float32)}
        _, xyz = self.session.run(["uvd", "xyz"], inputs)
        return xyz


def load_network(source: str | os.PathLike, backend: str = "torch", threads: int | None = None, device: str = "cpu"):
    """The network in ``source``: a checkpoint folder (torch, on ``device``) or an ``.onnx`` file (onnx, CPU).
    For the onnx backend a checkpoint folder holding ``model.onnx`` is accepted too."""
    source = Path(source)
    if backend == "torch":
        if source.suffix == ".onnx":
            raise HandgraphError(f"{source} is an ONNX file; run it with --backend onnx")
        return TorchNetwork(source, device)
    if backend == "onnx":
        if source.is_dir():
            if not (source / "model.onnx").is_file():
                raise HandgraphError(
                    f"{source} is a checkpoint folder without model.onnx; export it first: "
                    f"handgraph export --checkpoint {source} --onnx {source / 'model.onnx'}"
                )
            source = source / "model.onnx"
        return OnnxNetwork(source, threads)
    raise HandgraphError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
