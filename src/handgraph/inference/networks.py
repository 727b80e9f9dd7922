"""A trained network behind one interface, whichever runtime runs it: PyTorch (a checkpoint folder) or ONNX
Runtime (a file from ``handgraph export``). ``network(depth, crop)`` maps (B, C, S, S) normalised crops and
(B, 6) crop parameters to (B, J, 3) joints in mm; ``name``, ``layout``, ``input_size`` and ``cube_mm`` say
what it expects and returns."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from handgraph.errors import HandgraphError, about
from handgraph.geometry.camera import is_finite_number
from handgraph.geometry.layouts import JointLayout, get_layout
from handgraph.io.reading import read_onnx
from handgraph.models.checkpoint import DEFAULT_CUBE_MM, crop_cube, load_model
from handgraph.models.config import ModelConfig

BACKENDS = ("torch", "onnx")
METADATA_KEY = "handgraph"
"""The ONNX metadata entry holding the checkpoint's JSON (written by ``export.export_onnx``)."""


class TorchNetwork:
    """A checkpoint folder run by PyTorch."""

    def __init__(self, checkpoint: str | os.PathLike, device: str = "cpu"):
        self.source = Path(checkpoint)
        self.model, self.meta = load_model(self.source, device)
        self.device = torch.device(device)
        self.name = self.model.config.name
        self.layout: JointLayout = self.model.layout
        self.input_size = self.model.config.input_size
        self.cube_mm = crop_cube(self.meta)

    @torch.no_grad()
    def __call__(self, depth: torch.Tensor, crop: torch.Tensor) -> np.ndarray:
        return self.model(depth.to(self.device), crop.to(self.device))["xyz"].cpu().numpy()


class OnnxNetwork:
    """An exported ``.onnx`` file run by ONNX Runtime on the CPU; ``threads`` sets its intra-op threads."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.source = Path(path)
        self.session, self.meta = read_onnx(
            self.source, threads, METADATA_KEY, "export the model with 'handgraph export'"
        )
        if not isinstance(self.meta.get("model"), dict):
            raise HandgraphError(f"{self.source}: its '{METADATA_KEY}' metadata holds no model config")
        with about(f"{self.source}: metadata '{METADATA_KEY}', model"):
            config = ModelConfig.from_stored(self.meta["model"])
        _check_signature(self.source, self.session, config)
        self.name = config.name
        self.layout = get_layout(config.layout)
        self.input_size = config.input_size
        cube = self.meta.get("cube_mm", DEFAULT_CUBE_MM)
        if cube is not None and not (is_finite_number(cube) and cube > 0):
            raise HandgraphError(
                f"{self.source}: metadata '{METADATA_KEY}': cube_mm must be a positive number, got {cube!r}"
            )
        self.cube_mm = None if cube is None else float(cube)

    def __call__(self, depth: torch.Tensor | np.ndarray, crop: torch.Tensor | np.ndarray) -> np.ndarray:
        inputs = {"depth": np.asarray(depth, dtype=np.float32), "crop": np.asarray(crop, dtype=np.float32)}
        _, xyz = self.session.run(["uvd", "xyz"], inputs)
        return xyz


def _check_signature(source: Path, session, config: ModelConfig) -> None:
    """The exported network's inputs and outputs, as ``handgraph export`` writes them."""
    inputs = {item.name: item.shape for item in session.get_inputs()}
    outputs = {item.name for item in session.get_outputs()}
    size = config.input_size
    fits = (
        set(inputs) == {"depth", "crop"} and {"uvd", "xyz"} <= outputs
        and list(inputs["depth"])[1:] == [config.in_channels, size, size] and list(inputs["crop"])[1:] == [6]
    )  # fmt: skip
    if not fits:
        raise HandgraphError(
            f"{source}: inputs {inputs} and outputs {sorted(outputs)} are not those of an exported "
            f"{config.name} model (depth (N, {config.in_channels}, {size}, {size}), crop (N, 6) -> uvd, xyz)"
        )


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
