"""A training run's folder and its life, for both trainers (pose models: ``training.loop``; the hand
localiser: ``localizer.train``): start it, resume it, checkpoint it, finish it.

    out/config.json                    the run's config; a resumed run must bring the same
    out/checkpoints/step_NNNNNNN/      training checkpoints (``models.checkpoint``), the two newest kept
    out/checkpoints/latest.json        names the newest
    out/model/                         the final model
    out/metrics.json                   its metrics

A run killed at any moment resumes from its newest complete checkpoint; what the killed writer left behind
(half-written folders and temporary files) is removed when the run starts again.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import torch

from handgraph.errors import HandgraphError
from handgraph.io.files import atomic_write_text
from handgraph.io.reading import read_json
from handgraph.models.checkpoint import save_checkpoint
from handgraph.models.config import ModelConfig
from handgraph.models.contract import ModelContract

NEW_RUN = {"step": 0, "own_rng_state": False}
"""What :func:`start_run` answers for a run that starts at step 0."""


def warmup_cosine_schedule(config) -> Callable[[int], float]:
    """The learning-rate factor of step s for LambdaLR: linear warm-up over ``config.warmup_steps``, then
    cosine decay to zero at ``config.steps``."""

    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor


def start_run(out: Path, config: dict, resume: bool, restore: Callable[[Path], dict], rank: int = 0) -> dict:
    """Begin the run in ``out`` (refused where a run is already) and write its ``config``, or, with ``resume``,
    continue it: the config must be the one saved, and ``restore(checkpoint)`` loads the newest checkpoint and
    answers its metadata. Returns that metadata (its ``step`` and ``own_rng_state``), or :data:`NEW_RUN`.
    Only rank 0 writes; it also clears what a killed writer left (a run started again where one was killed
    before its first checkpoint has leftovers too)."""
    checkpoint = latest_checkpoint(out)
    if not resume:
        if checkpoint is not None:
            raise HandgraphError(
                f"{out}: holds a training run already; pass --resume to continue it or choose another --out"
            )
        if rank == 0:  # one writer: the others' temporary files would race with rank 0's clean-up of leftovers
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / "config.json", json.dumps(config, indent=1) + "\n")
        started = NEW_RUN
    elif checkpoint is None:
        raise HandgraphError(f"{out}: no checkpoint to resume from")
    elif _as_saved_then(read_json(out / "config.json", "a training run's folder")) != json.loads(json.dumps(config)):
        raise HandgraphError(
            f"{out}/config.json: differs from this run's config; resume with the same --config and --set"
        )
    else:
        started = restore(checkpoint)
    if rank == 0:
        remove_leftovers(out)
    return started


def _as_saved_then(saved: object) -> object:
    """A run's saved config with the model fields added since it was saved filled in as they meant then
    (``ModelConfig.from_stored``): a run started before a new field resumes. Left as it is if unreadable."""
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), dict):
        return saved
    try:
        model = ModelConfig.from_stored(saved["model"]).to_dict()
    except HandgraphError:
        return saved
    return {**saved, "model": {**model, **saved["model"]}}


def save_step(out: Path, model: torch.nn.Module, step: int, metrics: dict, config: dict, optimizer, scheduler,
              average=None, rng_states=None, contract: ModelContract | None = None) -> Path:  # fmt: skip
    """A training checkpoint of ``step`` (``out/checkpoints/step_NNNNNNN``), then named the newest."""
    folder = save_checkpoint(out / "checkpoints" / f"step_{step:07d}", model, step, metrics, config, optimizer,
                             scheduler, average, rng_states, contract)  # fmt: skip
    mark_latest(out, folder)
    return folder


def finish_run(out: Path, model: torch.nn.Module, step: int, metrics: dict, config: dict,
               contract: ModelContract | None = None) -> Path:  # fmt: skip
    """The run's final model (``out/model``, without optimiser state) and its metrics (``out/metrics.json``)."""
    folder = save_checkpoint(out / "model", model, step, metrics, config, contract=contract)
    atomic_write_text(out / "metrics.json", json.dumps({"step": step, **metrics}, indent=1) + "\n")
    return folder


def latest_checkpoint(run: str | os.PathLike) -> Path | None:
    """The newest checkpoint folder of a training run, or None."""
    pointer = Path(run) / "checkpoints" / "latest.json"
    if not pointer.is_file():
        return None
    content = read_json(pointer, "a training run's checkpoints folder")
    name = content.get("folder") if isinstance(content, dict) else None
    if not isinstance(name, str) or not re.fullmatch(r"step_\d+", name):
        raise HandgraphError(f'{pointer}: expected {{"folder": "step_NNNNNNN"}}, got {content!r:.80}')
    if not (pointer.parent / name).is_dir():
        raise HandgraphError(f"{pointer}: names {name}, which is not in {pointer.parent}")
    return pointer.parent / name


def remove_leftovers(run: str | os.PathLike) -> list[Path]:
    """Remove what a killed writer leaves in a run folder: checkpoint folders being written or replaced
    (``.step_*``, ``.model.*``) and the temporary files of atomic writes (``.NAME.*.tmp``: latest.json,
    history.json, ...). None of it is read by anything; a run started in the folder again (resumed, or anew
    when no checkpoint was finished) clears it. Returns what was removed."""
    run = Path(run)
    leftovers = [*run.glob("checkpoints/.step_*"), *run.glob("checkpoints/.*.tmp"), *run.glob(".model.*"),
                 *run.glob(".*.tmp")]  # fmt: skip
    for path in leftovers:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return leftovers


def mark_latest(run: str | os.PathLike, folder: Path, keep: int = 2) -> None:
    """Point ``latest.json`` at ``folder`` and remove all but the ``keep`` newest step folders."""
    checkpoints = Path(run) / "checkpoints"
    atomic_write_text(checkpoints / "latest.json", json.dumps({"folder": folder.name}) + "\n")
    for old in sorted(checkpoints.glob("step_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
