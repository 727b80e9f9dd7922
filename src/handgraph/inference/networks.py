"""A trained pose network behind one interface, whichever runtime runs it (``inference.runner``): PyTorch (a
checkpoint folder) or ONNX Runtime (a file from ``handgraph export``). ``network(depth, crop)`` maps (B, C, S, S)
normalised crops and (B, 6) crop parameters to (B, J, 3) joints in mm; its ``contract`` (``models.contract``)
says what crop it takes and what joints it gives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from handgraph.errors import HandgraphError, about
from handgraph.geometry.layouts import JointLayout, get_layout
from handgraph.inference.runner import NetworkKind, OnnxRunner, TorchRunner, open_runner
from handgraph.models import PoseModel
from handgraph.models.checkpoint import load_model
from handgraph.models.config import ModelConfig
from handgraph.models.contract import ModelContract, contract_of

METADATA_KEY = "handgraph"
"""The ONNX metadata entry holding the checkpoint's JSON (written by ``export.export_onnx``)."""


class JointsOnly(torch.nn.Module):
    """A pose model with tensor outputs only, (uvd, xyz): what is exported to ONNX (which has no dicts or lists of
    heatmaps) and what PyTorch runs, so that both runtimes run the same graph."""

    def __init__(self, model: PoseModel):
        super().__init__()
        self.model = model

    def forward(self, depth: torch.Tensor, crop: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.model(depth, crop)
        return output["uvd"], output["xyz"]


def _load_pose_model(folder: Path, device: str) -> tuple[torch.nn.Module, dict]:
    model, meta = load_model(folder, device)
    return JointsOnly(model), meta


POSE_NETWORK = NetworkKind(
    "pose model", "model.onnx", METADATA_KEY, "export the model with 'handgraph export'",
    "handgraph export --checkpoint {folder} --onnx {onnx}", _load_pose_model,
)  # fmt: skip


@dataclass
class Network:
    """A pose network ready to run, and what it expects and returns."""

    source: Path
    """The checkpoint folder or ``.onnx`` file it came from."""
    runner: TorchRunner | OnnxRunner
    config: ModelConfig
    contract: ModelContract

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def backend(self) -> str:
        return self.runner.backend

    @property
    def layout(self) -> JointLayout:
        return get_layout(self.contract.layout)

    @property
    def input_size(self) -> int:
        return self.contract.input_size

    def __call__(self, depth: torch.Tensor | np.ndarray, crop: torch.Tensor | np.ndarray) -> np.ndarray:
        _, xyz = self.runner({"depth": depth, "crop": crop})
        return xyz


def load_network(source: str | os.PathLike, backend: str = "torch", threads: int | None = None,
                 device: str = "cpu") -> Network:  # fmt: skip
    """The pose network in ``source``: a checkpoint folder (torch, on ``device``) or an ``.onnx`` file (onnx, CPU,
    ``threads``). For the onnx backend a checkpoint folder holding ``model.onnx`` is accepted too."""
    runner, meta, source = open_runner(source, backend, POSE_NETWORK, threads, device)
    where = source / "checkpoint.json" if backend == "torch" else f"{source}: metadata '{METADATA_KEY}'"
    if not isinstance(meta.get("model"), dict):
        raise HandgraphError(f"{where}: holds no model config")
    with about(f"{where}, model"):
        config = ModelConfig.from_stored(meta["model"])
    contract = contract_of(meta, where)
    if contract.input_size != config.input_size or contract.layout != config.layout:
        raise HandgraphError(f"{where}: its contract ({contract.input_size} px, {contract.layout}) is not its "
                             f"model's ({config.input_size} px, {config.layout})")  # fmt: skip
    if backend == "onnx":
        _check_signature(source, runner.session, config)
    return Network(source, runner, config, contract)


def _check_signature(source: Path, session, config: ModelConfig) -> None:
    """The exported network's inputs and outputs, as ``handgraph export`` writes them."""
    inputs = {item.name: item.shape for item in session.get_inputs()}
    outputs = [item.name for item in session.get_outputs()]
    size = config.input_size
    fits = (
        set(inputs) == {"depth", "crop"} and outputs[:2] == ["uvd", "xyz"]
        and list(inputs["depth"])[1:] == [config.in_channels, size, size] and list(inputs["crop"])[1:] == [6]
    )  # fmt: skip
    if not fits:
        raise HandgraphError(
            f"{source}: inputs {inputs} and outputs {outputs} are not those of an exported "
            f"{config.name} model (depth (N, {config.in_channels}, {size}, {size}), crop (N, 6) -> uvd, xyz)"
        )
