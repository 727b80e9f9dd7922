"""Trained networks behind one interface, whichever runtime runs them: PyTorch (a checkpoint folder) or ONNX
Runtime (a file from ``handgraph export``).

One runner runs every network. It takes named float32 arrays and answers with the outputs of the exported
graph, in its order::

    pose network     runner({"depth": (B, C, S, S), "crop": (B, 6)})  ->  [uvd (B, J, 3), xyz (B, J, 3)]
    hand localiser   runner({"depth": (B, 1, H', W')})                ->  [centre (B, 4)]

The PyTorch side runs the very module that ``inference.export`` writes to ONNX, so both runtimes answer alike
(within float32 rounding). What differs between networks (the name of the ``.onnx`` file in a checkpoint folder,
the metadata key, how a checkpoint folder is loaded) is a :class:`NetworkKind`: :data:`POSE_NETWORK` here,
``inference.localizing.LOCALIZER_NETWORK`` for the localiser.

The pose network (:func:`load_network`): ``network(depth, crop)`` maps (B, C, S, S) normalised crops and (B, 6)
crop parameters to (B, J, 3) joints in mm; its ``contract`` (``models.contract``) says what crop it takes and
what joints it gives.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from handgraph.errors import HandgraphError, about
from handgraph.geometry.layouts import JointLayout, get_layout
from handgraph.io.reading import read_onnx
from handgraph.models import PoseModel
from handgraph.models.checkpoint import load_model
from handgraph.models.config import ModelConfig
from handgraph.models.contract import ModelContract, contract_of

BACKENDS = ("torch", "onnx")


@dataclass(frozen=True)
class NetworkKind:
    """What a runner needs to know of one kind of network."""

    name: str
    """What it is, for messages ("pose model", "hand localizer")."""
    onnx_file: str
    """The name of its exported file inside a checkpoint folder."""
    metadata_key: str
    """The ONNX metadata entry that describes it (written by ``inference.export``)."""
    export_hint: str
    """How to make the ONNX file, for errors."""
    export_command: str
    """The command that exports a checkpoint ``{folder}`` to ``{onnx}``."""
    load_torch: Callable[[Path, str], tuple[torch.nn.Module, dict]]
    """A checkpoint folder and a device -> (the module that export writes, its description as ONNX metadata
    would hold it)."""


class TorchRunner:
    """A module run by PyTorch on ``device``; inputs and outputs are NumPy arrays on the CPU."""

    backend = "torch"

    def __init__(self, module: torch.nn.Module, device: str | torch.device = "cpu"):
        self.module, self.device = module.eval(), torch.device(device)

    @torch.no_grad()
    def __call__(self, inputs: dict[str, np.ndarray | torch.Tensor]) -> list[np.ndarray]:
        tensors = [torch.as_tensor(value, dtype=torch.float32).to(self.device) for value in inputs.values()]
        outputs = self.module(*tensors)
        return [output.cpu().numpy() for output in (outputs if isinstance(outputs, tuple) else (outputs,))]


class OnnxRunner:
    """An exported file run by ONNX Runtime on the CPU with ``threads`` intra-op threads."""

    backend = "onnx"

    def __init__(self, path: Path, threads: int | None, kind: NetworkKind):
        self.session, self.meta = read_onnx(path, threads, kind.metadata_key, kind.export_hint)

    def __call__(self, inputs: dict[str, np.ndarray | torch.Tensor]) -> list[np.ndarray]:
        return self.session.run(None, {name: np.asarray(value, dtype=np.float32) for name, value in inputs.items()})


def open_runner(source: str | os.PathLike, backend: str, kind: NetworkKind, threads: int | None = None,
                device: str = "cpu") -> tuple[TorchRunner | OnnxRunner, dict, Path]:  # fmt: skip
    """The runner of ``source`` for ``backend``, the network's description (a checkpoint's JSON, or what the
    ONNX file's metadata holds) and the file or folder it came from. ``torch`` takes a checkpoint folder;
    ``onnx`` takes an ``.onnx`` file or a checkpoint folder holding ``kind.onnx_file``."""
    source = Path(source)
    if backend == "torch":
        if source.suffix == ".onnx":
            raise HandgraphError(f"{source} is an ONNX file; run it with --backend onnx")
        if not (source / "checkpoint.json").is_file():
            raise HandgraphError(f"{source}: not a {kind.name} checkpoint folder (no checkpoint.json)")
        module, meta = kind.load_torch(source, device)
        return TorchRunner(module, device), meta, source
    if backend == "onnx":
        if source.is_dir():
            if not (source / kind.onnx_file).is_file():
                command = kind.export_command.format(folder=source, onnx=source / kind.onnx_file)
                raise HandgraphError(
                    f"{source} is a checkpoint folder without {kind.onnx_file}; export it first: {command}"
                )
            source = source / kind.onnx_file
        runner = OnnxRunner(source, threads, kind)
        return runner, runner.meta, source
    raise HandgraphError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")


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
