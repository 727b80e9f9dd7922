"""ONNX export: the network from a normalised crop to joints, with a dynamic batch axis.

The exported graph has inputs ``depth`` (B, C, S, S) in [-1, 1] and ``crop`` (B, 6) = (fx, fy, cx, cy,
centre_z, cube) exactly as ``PoseModel.forward`` takes them, and outputs ``uvd`` (B, J, 3) in crop pixels and
mm and ``xyz`` (B, J, 3) in mm. Cropping and localisation stay outside (they are frame-sized and cheap in
NumPy/torch). The checkpoint's model config and contract (``models.contract``: crop cube, input size, joint layout)
ride along in the file's metadata (key ``handgraph``), so a runtime knows them without the checkpoint folder.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import RUNTIME_AGREEMENT_ULPS, differences, ulps
from handgraph.inference.localizing import METADATA_KEY as LOCALIZER_METADATA_KEY
from handgraph.inference.networks import METADATA_KEY, JointsOnly, load_network
from handgraph.io.files import usual_permissions
from handgraph.localizer.network import DecodedLocalizer, HandLocalizer
from handgraph.models import PoseModel


def example_inputs(model: PoseModel, batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random inputs of the right kind: depth uniform in [-1, 1] and crops of a 640x480 camera around hands
    250-800 mm away (cube 250 mm), for tracing and for comparing runtimes."""
    generator = torch.Generator().manual_seed(seed)
    size, channels = model.config.input_size, model.config.in_channels
    depth = torch.rand(batch, channels, size, size, generator=generator) * 2 - 1
    centre_z = 250 + 550 * torch.rand(batch, generator=generator)
    focal = 475 + 120 * torch.rand(batch, generator=generator)
    side = 250 * focal / centre_z  # crop side in frame pixels
    scale = size / side
    principal = size / 2 - 0.5 + 40 * (torch.rand(batch, 2, generator=generator) - 0.5) * scale[:, None]
    crop = torch.stack([focal * scale, focal * scale, principal[:, 0], principal[:, 1], centre_z], dim=1)
    return depth, torch.cat([crop, torch.full((batch, 1), 250.0)], dim=1)


@contextlib.contextmanager
def quiet_exporter():
    """The exporter's progress prints, warnings and log lines (e.g. "torchvision is not installed") off."""
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def export_onnx(model: PoseModel, path: str | os.PathLike, metadata: dict, opset: int | None = None) -> Path:
    """Write ``model`` to ``path`` as ONNX (dynamic batch) with ``metadata`` as JSON; atomic (write, rename)."""
    batch = torch.export.Dim.DYNAMIC
    model = model.eval()
    return _write_onnx(
        JointsOnly(model), example_inputs(model, 2), path, (METADATA_KEY, metadata), model.config.name,
        input_names=["depth", "crop"], output_names=["uvd", "xyz"],
        dynamic_shapes={"depth": {0: batch}, "crop": {0: batch}}, opset_version=opset,
    )  # fmt: skip


def export_localizer(network: HandLocalizer, path: str | os.PathLike) -> Path:
    """Write the localiser with its decoder to ONNX (input ``depth`` (B, 1, H', W') mm, output ``centre``
    (B, 4)), its config in the metadata; atomic (write, rename)."""
    canvas = network.config.canvas
    example = (torch.rand(2, 1, canvas.height, canvas.width) * 2000.0,)
    return _write_onnx(
        DecodedLocalizer(copy.deepcopy(network).eval()), example, path,
        (LOCALIZER_METADATA_KEY, network.config.to_dict()), "the hand localizer",
        input_names=["depth"], output_names=["centre"], dynamic_shapes={"depth_mm": {0: torch.export.Dim.DYNAMIC}},
    )  # fmt: skip


def _write_onnx(module: nn.Module, inputs: tuple, path, metadata: tuple[str, dict], name: str, **options) -> Path:
    """torch's exporter on ``module`` at ``inputs``, ``metadata`` (key, JSON-able) in the file, written to a
    temporary name and renamed; an exporter failure is one HandgraphError naming ``name``."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".onnx", dir=path.parent)
    os.close(handle)
    try:
        with quiet_exporter():
            program = torch.onnx.export(module, inputs, dynamo=True, verbose=False, **options)
        proto = program.model_proto
        entry = proto.metadata_props.add()
        entry.key, entry.value = metadata[0], json.dumps(metadata[1])
        onnx.save_model(proto, staging)
        usual_permissions(staging)
        os.replace(staging, path)
    except BaseException as error:
        Path(staging).unlink(missing_ok=True)
        if isinstance(error, HandgraphError) or not isinstance(error, Exception):
            raise
        raise HandgraphError(f"exporting {name} to ONNX failed: {type(error).__name__}: {error}") from error
    return path


@dataclass
class Agreement:
    """How far ONNX Runtime's xyz lie from PyTorch's, and how far they may."""

    difference_mm: float
    bound_mm: float

    @property
    def holds(self) -> bool:
        return self.difference_mm <= self.bound_mm


def agreement_bound_mm(xyz: np.ndarray) -> float:
    """The largest rounding difference accepted between two runtimes' ``xyz`` (mm): ``RUNTIME_AGREEMENT_ULPS``
    float32 ulps of the largest coordinate (about 2e-3 mm for hands 500 mm away)."""
    return ulps(np.abs(xyz).max(), np.float32, RUNTIME_AGREEMENT_ULPS)


def compare_with_onnx(model: PoseModel, path: str | os.PathLike, batch: int = 4, seed: int = 0) -> Agreement:
    """PyTorch's and ONNX Runtime's xyz on random inputs of ``batch`` frames, compared."""
    depth, crop = example_inputs(model, batch, seed)
    with torch.no_grad():
        expected = model.eval()(depth, crop)["xyz"].numpy()
    got = load_network(path, "onnx")(depth, crop)
    return Agreement(float(differences(got, expected).max()), agreement_bound_mm(expected))
