"""Checkpoints: safetensors tensors plus a JSON of config and metadata. Nothing is pickled, so loading a
checkpoint cannot run code.

A checkpoint is a folder::

    checkpoint.json        format, version, model config, training config, step, metrics, optimiser and
                           scheduler settings
    model.safetensors      the model's state dict
    training.safetensors   optimiser moments and random-number state (only in training checkpoints)

It is written into a temporary sibling folder and renamed into place, so a reader sees all of it or none.
A run keeps ``out/checkpoints/step_NNNNNNN/`` folders and ``out/checkpoints/latest.json`` naming the newest.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from handgraph.errors import HandgraphError
from handgraph.files import atomic_write_text, read_json, usual_permissions
from handgraph.models import PoseModel, model_from_config
from handgraph.models.config import ModelConfig
from handgraph.provenance import provenance

FORMAT = "handgraph-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "model", "step")


def save_checkpoint(
    folder: str | os.PathLike,
    model: torch.nn.Module,
    step: int,
    metrics: dict,
    train_config: dict | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    average: torch.nn.Module | None = None,
) -> Path:
    """Write a checkpoint folder atomically (replacing an older one of the same name). ``model`` is a pose model
    or the hand localiser: anything with a ``config`` that has ``to_dict()``. A training checkpoint (with the
    optimiser) also keeps the weight average of the run, if it has one (``average``, an ``AveragedModel``)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file({key: value.contiguous() for key, value in model.state_dict().items()}, staging / "model.safetensors")
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "model": model.config.to_dict(),
            "train": train_config,
            "step": step,
            "metrics": metrics,
            "written_by": provenance(),
        }
        if optimizer is not None:
            tensors, meta["optimizer"] = _optimizer_state(optimizer)
            tensors["rng.torch"] = torch.get_rng_state()
            if average is not None:
                tensors |= {f"average.{key}": value.contiguous() for key, value in average.state_dict().items()}
            save_file(tensors, staging / "training.safetensors")
            meta["scheduler"] = scheduler.state_dict() if scheduler is not None else None
        (staging / "checkpoint.json").write_text(json.dumps(meta, indent=1) + "\n")
        for path in (staging, *staging.iterdir()):
            usual_permissions(path)
        if folder.exists():  # out of the way first, removed only once the new one is in place
            retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, retired / folder.name)
            os.replace(staging, folder)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{name}"] = value.contiguous()
            else:
                scalars[f"{index}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def read_checkpoint_meta(folder: str | os.PathLike) -> dict:
    """The checkpoint's JSON, checked for format, version and required keys."""
    path = Path(folder) / "checkpoint.json"
    meta = read_json(path, "a handgraph checkpoint folder")
    missing = [key for key in REQUIRED_KEYS if key not in meta] if isinstance(meta, dict) else list(REQUIRED_KEYS)
    if missing:
        raise HandgraphError(f"{path}: missing key(s) {', '.join(missing)}")
    if meta["format"] != FORMAT or meta["version"] != VERSION:
        raise HandgraphError(
            f"{path}: format {meta['format']!r} version {meta['version']}; expected {FORMAT!r} {VERSION}"
        )
    return meta


def load_model(folder: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[PoseModel, dict]:
    """The model of a checkpoint folder, in eval mode, and the checkpoint's metadata."""
    meta = read_checkpoint_meta(folder)
    model = model_from_config(ModelConfig.from_stored(meta["model"]))
    model.load_state_dict(read_weights(Path(folder) / "model.safetensors", model.state_dict().keys()))
    return model.to(device).eval(), meta


def read_weights(path: Path, expected_keys) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise HandgraphError(f"{path}: not found")
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError) as error:
        raise HandgraphError(f"{path}: not a readable safetensors file ({error})") from None
    missing = sorted(set(expected_keys) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected_keys))
    if missing or unexpected:
        raise HandgraphError(
            f"{path}: weights do not fit the model of checkpoint.json; missing {missing[:5] or 'none'}, "
            f"unexpected {unexpected[:5] or 'none'}"
        )
    return tensors


def restore_training(
    folder: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    average: torch.nn.Module | None = None,
) -> dict:
    """Load weights, optimiser, scheduler, random state and weight average (into ``average``, when the run keeps
    one) of a training checkpoint; returns its metadata."""
    meta = read_checkpoint_meta(folder)
    if "optimizer" not in meta:
        raise HandgraphError(f"{folder}: holds no optimiser state; it cannot resume training")
    model.load_state_dict(read_weights(Path(folder) / "model.safetensors", model.state_dict().keys()))
    tensors = load_file(Path(folder) / "training.safetensors")
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for key, value in meta["optimizer"]["scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    if average is not None:
        saved = {key.removeprefix("average."): value for key, value in tensors.items() if key.startswith("average.")}
        if not saved:
            raise HandgraphError(f"{folder}: holds no weight average, but the run keeps one (ema_decay)")
        average.load_state_dict(saved)
    return meta


def latest_checkpoint(run: str | os.PathLike) -> Path | None:
    """The newest checkpoint folder of a training run, or None."""
    pointer = Path(run) / "checkpoints" / "latest.json"
    if not pointer.is_file():
        return None
    return Path(run) / "checkpoints" / json.loads(pointer.read_text())["folder"]


def mark_latest(run: str | os.PathLike, folder: Path, keep: int = 2) -> None:
    """Point ``latest.json`` at ``folder`` and remove all but the ``keep`` newest step folders."""
    checkpoints = Path(run) / "checkpoints"
    atomic_write_text(checkpoints / "latest.json", json.dumps({"folder": folder.name}) + "\n")
    for old in sorted(checkpoints.glob("step_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
