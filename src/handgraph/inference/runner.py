"""One way to run any trained network, whichever runtime: PyTorch (a checkpoint folder) or ONNX Runtime (a
file from ``handgraph export``).

A runner takes named float32 arrays and answers with the outputs of the exported graph, in its order::

    pose network     runner({"depth": (B, C, S, S), "crop": (B, 6)})  ->  [uvd (B, J, 3), xyz (B, J, 3)]
    hand localiser   runner({"depth": (B, 1, H', W')})                ->  [centre (B, 4)]

The PyTorch side runs the very module that ``inference.export`` writes to ONNX, so both runtimes answer alike
(within float32 rounding). What differs between networks (the name of the ``.onnx`` file in a checkpoint folder,
the metadata key, how a checkpoint folder is loaded) is a :class:`NetworkKind`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from handgraph.errors import HandgraphError
from handgraph.io.reading import read_onnx

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
