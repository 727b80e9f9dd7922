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

from handgraph.errors import HandgraphError, about
from handgraph.io.files import usual_permissions
from handgraph.io.provenance import provenance
from handgraph.io.reading import one_line, read_json
from handgraph.models import PoseModel, model_from_config
from handgraph.models.config import ModelConfig
from handgraph.models.contract import ModelContract, contract_of

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
    rng_states: list[torch.Tensor] | None = None,
    contract: ModelContract | None = None,
) -> Path:
    """Write a checkpoint folder atomically (replacing an older one of the same name). ``model`` is a pose model
    or the hand localiser: anything with a ``config`` that has ``to_dict()``. A training checkpoint (with the
    optimiser) also keeps the weight average of the run, if it has one (``average``, an ``AveragedModel``), and
    the random state of this process, or of every process of a distributed run (``rng_states``, by rank). A pose
    model's ``contract`` (``models.contract``) is written with it."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file({key: value.contiguous() for key, value in model.state_dict().items()}, staging / "model.safetensors")
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "model": model.config.to_dict(),
            **({"contract": contract.to_dict()} if contract is not None else {}),
            "train": train_config,
            "step": step,
            "metrics": metrics,
            "written_by": provenance(),
        }
        if optimizer is not None:
            tensors, meta["optimizer"] = _optimizer_state(optimizer)
            for rank, state in enumerate(rng_states or [torch.get_rng_state()]):
                tensors["rng.torch" if rank == 0 else f"rng.torch.rank{rank}"] = state
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
    if not isinstance(meta["step"], int) or isinstance(meta["step"], bool) or meta["step"] < 0:
        raise HandgraphError(f"{path}: step must be a non-negative integer, got {meta['step']!r}")
    if not isinstance(meta["model"], dict):
        raise HandgraphError(f"{path}: model must be a mapping of config fields, got {meta['model']!r}")
    if meta["model"].get("name") != "localizer":  # a pose model: its contract, in either form, must be readable
        contract_of(meta, path)
    return meta


def load_model(folder: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[PoseModel, dict]:
    """The model of a checkpoint folder, in eval mode, and the checkpoint's metadata."""
    meta = read_checkpoint_meta(folder)
    with about(f"{Path(folder) / 'checkpoint.json'}: model"):
        model = model_from_config(ModelConfig.from_stored(meta["model"]))
    model.load_state_dict(read_weights(Path(folder) / "model.safetensors", model.state_dict()))
    return model.to(device).eval(), meta


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file."""
    if not path.is_file():
        raise HandgraphError(f"{path}: not found")
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise HandgraphError(f"{path}: not a readable safetensors file ({one_line(error)})") from None


def read_weights(path: Path, expected: dict[str, torch.Tensor], what: str = "the model of checkpoint.json"):
    """The tensors of ``path``, checked against ``expected`` (a state dict of the model they are for): the same
    names, shapes and dtypes, and no NaN, nor an infinity where the model's own tensor is finite (the SIA-GCN
    mask holds -inf by design)."""
    return check_tensors(path, read_tensors(path), expected, what)


def check_tensors(path: Path, tensors: dict, expected: dict, what: str) -> dict[str, torch.Tensor]:
    """``tensors`` (read from ``path``) if they fit ``expected`` as :func:`read_weights` says."""
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise HandgraphError(
            f"{path}: weights do not fit {what}; missing {missing[:5] or 'none'}, unexpected {unexpected[:5] or 'none'}"
        )
    for name, value in tensors.items():
        wanted = expected[name]
        if value.shape != wanted.shape or value.dtype != wanted.dtype:
            raise HandgraphError(
                f"{path}: tensor {name!r} is {value.dtype} {tuple(value.shape)}; {what} needs "
                f"{wanted.dtype} {tuple(wanted.shape)}"
            )
        if value.is_floating_point() and _not_finite(value, wanted):
            raise HandgraphError(f"{path}: tensor {name!r} holds NaN or infinite values")
    return tensors


def _not_finite(value: torch.Tensor, reference: torch.Tensor) -> bool:
    return bool(value.isnan().any() or (value.isinf() & reference.isfinite()).any())


def restore_training(
    folder: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    average: torch.nn.Module | None = None,
    rank: int = 0,
) -> dict:
    """Load weights, optimiser, scheduler, random state (``rank``'s, in a distributed run) and weight average
    (into ``average``, when the run keeps one) of a training checkpoint; returns its metadata, with
    ``own_rng_state`` False when the checkpoint holds no random state for ``rank`` (one written before they were
    kept per process)."""
    meta = read_checkpoint_meta(folder)
    if "optimizer" not in meta:
        raise HandgraphError(f"{folder}: holds no optimiser state; it cannot resume training")
    model.load_state_dict(read_weights(Path(folder) / "model.safetensors", model.state_dict()))
    path = Path(folder) / "training.safetensors"
    tensors = read_tensors(path)
    key = "rng.torch" if rank == 0 or f"rng.torch.rank{rank}" not in tensors else f"rng.torch.rank{rank}"
    rng = tensors.get(key)
    if rng is None or rng.dtype != torch.uint8 or rng.shape != torch.get_rng_state().shape:
        raise HandgraphError(f"{path}: no random-number state {key!r} of this torch's shape")
    try:
        optimizer.load_state_dict(_optimizer_state_dict(path, tensors, meta["optimizer"], optimizer))
        scheduler.load_state_dict(meta["scheduler"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as error:
        raise HandgraphError(
            f"{folder}: its optimiser or scheduler state does not fit this run ({one_line(error)})"
        ) from None
    if average is not None:
        saved = {key.removeprefix("average."): value for key, value in tensors.items() if key.startswith("average.")}
        if not saved:
            raise HandgraphError(f"{folder}: holds no weight average, but the run keeps one (ema_decay)")
        average.load_state_dict(check_tensors(path, saved, average.state_dict(), "the run's weight average"))
    try:
        torch.set_rng_state(rng)
    except RuntimeError as error:  # bytes of the right length that are no generator state
        raise HandgraphError(f"{path}: {key!r} is not a random-number state ({one_line(error)})") from None
    return meta | {"own_rng_state": rank == 0 or key != "rng.torch"}


def _optimizer_state_dict(path: Path, tensors: dict, stored: dict, optimizer: torch.optim.Optimizer) -> dict:
    """The optimiser's state dict from its tensors in ``path`` and its scalars in the JSON, each moment checked
    against the shape of the parameter it belongs to."""
    parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for key, value in stored["scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, values in state.items():
        if not 0 <= index < len(parameters):
            raise HandgraphError(f"{path}: optimiser state for parameter {index}; the model has {len(parameters)}")
        for name, value in values.items():
            if torch.is_tensor(value) and value.ndim and value.shape != parameters[index].shape:
                raise HandgraphError(
                    f"{path}: optimiser.{index}.{name} is {tuple(value.shape)}; its parameter is "
                    f"{tuple(parameters[index].shape)}"
                )
            if torch.is_tensor(value) and value.is_floating_point() and not value.isfinite().all():
                raise HandgraphError(f"{path}: optimiser.{index}.{name} holds NaN or infinite values")
    return {"state": state, "param_groups": stored["param_groups"]}
