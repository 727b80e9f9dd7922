"""Training the hand localiser on synthetic whole frames (``synth.scenes``), drawn on the fly.

One function, as ``training.loop`` for pose models: forward, loss, backward, step, log, evaluate, checkpoint.
The run's folder lives as the pose models' (``training.run``: start, resume, checkpoints, leftovers of a killed
run); a killed run resumes exactly.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import uvd_to_xyz
from handgraph.io.configs import override, parse_assignments
from handgraph.io.files import atomic_write_text
from handgraph.localizer.centre_depth import with_centre_depth
from handgraph.localizer.metrics import localizer_metrics
from handgraph.localizer.network import (
    HandLocalizer,
    LocalizerConfig,
    decode,
    load_localizer_network,
    localizer_loss,
    targets,
)
from handgraph.models.checkpoint import restore_training, save_checkpoint
from handgraph.synth.datasets import BatchStream
from handgraph.synth.scenes import SceneConfig, generate_resampled_scenes, generate_scenes
from handgraph.training.run import finish_run, save_step, start_run, warmup_cosine_schedule

MAX_FALSE_HAND_PERCENT = 5.0
"""The threshold is set after training so that at most this share of validation frames without a hand get one."""
VALIDATION_SEED = 3_000_017
TEST_SEED = 3_000_041
"""Seeds of the fixed validation (1000 frames) and benchmark test (2000 frames) scene splits."""


@dataclass
class LocalizerTrainConfig:
    """One localiser training run."""

    network: LocalizerConfig = field(default_factory=LocalizerConfig)
    """The network and its canvas."""
    scenes: SceneConfig = field(default_factory=SceneConfig)
    """The synthetic whole frames it learns from (rendered on the network's canvas)."""
    steps: int = 6000
    """Optimiser steps."""
    batch_size: int = 32
    """Frames per step."""
    learning_rate: float = 2e-3
    """AdamW's peak learning rate, reached after the warm-up, then cosine decay to zero."""
    weight_decay: float = 1e-4
    """AdamW's decoupled weight decay."""
    warmup_steps: int = 200
    """Linear warm-up of the learning rate."""
    seed: int = 0
    """Seed of the weights and of the training scene stream (not a split's seed)."""
    workers: int = 1
    """DataLoader processes rendering scenes."""
    threads: int = 1
    """torch threads of the training process (the workers take the other cores)."""
    init_from: str | None = None
    """A localiser checkpoint folder whose weights start the run instead of a random initialisation
    (fine-tuning, e.g. the shipped one on new scenes); its network config, the threshold aside, must be this
    run's."""
    eval_every: int = 500
    """Steps between validations on the fixed validation scenes."""
    validation_frames: int = 1000
    """Frames of the validation split."""
    validation_upsample: int = 1
    """1: validation scenes rendered on the canvas, as training's. k > 1: rendered at k times the canvas's
    resolution (k = 5: 640 x 560 pixels, an SR300's focal length) and resampled to the canvas as ``predict``
    resamples a camera's frame (``synth.scenes.generate_resampled_scenes``; 1000 frames take a minute or two). The
    threshold set on such frames is the one for real frames: on frames rendered on the canvas it came out
    higher, and found fewer hands in resampled frames at no fewer false hands."""

    def __post_init__(self) -> None:
        if self.seed in (VALIDATION_SEED, TEST_SEED):
            raise HandgraphError(f"localizer config: seed {self.seed} is a benchmark split's; choose another")
        for name in ("steps", "batch_size", "eval_every", "validation_frames", "threads", "validation_upsample"):
            if getattr(self, name) < 1:
                raise HandgraphError(f"localizer config: {name} must be at least 1, got {getattr(self, name)}")
        if self.workers < 0 or self.warmup_steps < 0 or not self.learning_rate > 0:
            raise HandgraphError("localizer config: workers and warmup_steps must be >= 0, learning_rate > 0")


def load_localizer_config(assignments: list[str] | None = None) -> LocalizerTrainConfig:
    """The default run with ``key=value`` overrides, e.g. ``steps=200 network.width=8``."""
    config = override(LocalizerTrainConfig(), parse_assignments(assignments or []))
    canvas = config.network.canvas
    if config.scenes.canvas != canvas:  # scenes are rendered on the network's canvas
        config = override(config, {"scenes": {"canvas": asdict(canvas)}})
    return config


class SceneStream(BatchStream):
    """Whole synthetic frames (``generate_scenes``) as a :class:`~handgraph.synth.datasets.BatchStream`."""

    def __init__(self, config: SceneConfig, seed: int, batch_size: int, count: int | None = None, **stream):
        super().__init__(seed, batch_size, count, **stream)
        self.config = config

    def make(self, indices: np.ndarray) -> dict[str, torch.Tensor]:
        return _tensors(generate_scenes(self.config, self.seed, indices))


def _tensors(scenes: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in scenes.items()}


def scene_split(
    config: SceneConfig, seed: int, count: int, batch_size: int = 250, upsample: int = 1
) -> dict[str, torch.Tensor]:
    """A fixed set of scenes, all in one dict of tensors; ``upsample`` > 1 renders them at that many times the
    canvas's resolution and resamples them (``LocalizerTrainConfig.validation_upsample``)."""
    if upsample == 1:
        batches = list(SceneStream(config, seed, batch_size, count))
    else:
        chunk = max(1, batch_size // upsample**2)  # a frame takes upsample² times the memory
        starts = tqdm(range(0, count, chunk), desc=f"validation scenes at {upsample}x", unit="chunk", leave=False)
        batches = [
            _tensors(generate_resampled_scenes(config, seed, np.arange(start, min(count, start + chunk)), upsample))
            for start in starts
        ]
    return {key: torch.cat([batch[key] for batch in batches]) for key in batches[0]}


@torch.no_grad()
def answers_of(network: HandLocalizer, canvases: torch.Tensor, batch_size: int = 100) -> np.ndarray:
    """The network's answers (B, 4) on (B, H', W') canvases in eval mode (its mode is restored after), with
    the centre's depth read from the canvas as ``runtime.Localizer`` does."""
    was_training = network.training
    network.eval()
    answers = torch.cat(
        [decode(network(canvases[k : k + batch_size, None])) for k in range(0, len(canvases), batch_size)]
    ).numpy()  # fmt: skip
    network.train(was_training)
    return with_centre_depth(canvases.numpy(), answers)


def evaluate_localizer(network: HandLocalizer, scenes: dict[str, torch.Tensor]) -> dict:
    """The localiser's metrics (``localizer.metrics``) on scenes from :func:`scene_split`."""
    answers = answers_of(network, scenes["depth"])
    predicted = uvd_to_xyz(answers[:, :3], network.config.canvas.camera)
    is_hand = answers[:, 3] >= network.config.threshold
    return localizer_metrics(predicted, is_hand, scenes["hand_xyz"].numpy(), scenes["hand_present"].numpy())


def train_localizer(config: LocalizerTrainConfig, out: str | os.PathLike, resume: bool = False) -> dict:
    """Train, validate and checkpoint into ``out``; the final network goes to ``out/model``. Returns the
    last validation's metrics."""
    out = Path(out)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    network = HandLocalizer(config.network)
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine_schedule(config))
    if config.init_from and not resume:
        _initialise_from(network, config.init_from)
    restore = partial(restore_training, model=network, optimizer=optimizer, scheduler=scheduler)
    first_step = start_run(out, asdict(config), resume, restore)["step"]
    stream = SceneStream(config.scenes, config.seed, config.batch_size, start_batch=first_step)
    loader = iter(
        torch.utils.data.DataLoader(
            stream, batch_size=None, num_workers=config.workers, generator=torch.Generator().manual_seed(config.seed)
        )
    )
    validation = scene_split(
        config.scenes, VALIDATION_SEED, config.validation_frames, upsample=config.validation_upsample
    )
    canvas = config.network.canvas
    metrics: dict = {}
    bar = tqdm(total=config.steps, initial=first_step, unit="step")
    started = time.perf_counter()
    for step in range(first_step, config.steps):
        batch = next(loader)
        maps = network(batch["depth"][:, None])
        target = targets(batch["hand_uvd"], batch["hand_present"], canvas.focal_px, *maps["heat"].shape[-2:])
        loss, terms = localizer_loss(maps, target)
        if not math.isfinite(loss.item()):
            raise HandgraphError(f"localizer training diverged at step {step + 1}: the loss is {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        done = step + 1
        bar.set_postfix(loss=f"{loss.item():.3f}", depth_mm=f"{terms['depth_mm']:.0f}")
        if done % config.eval_every == 0 or done == config.steps:
            metrics = evaluate_localizer(network, validation)
            metrics["train_seconds"] = round(time.perf_counter() - started, 1)
            tqdm.write(
                f"step {done}: found {metrics['found_percent']:.1f} %, false hands "
                f"{metrics['false_hand_percent']:.1f} %, centre error median {metrics['median_error_mm']:.1f} mm"
            )
            save_step(out, network, done, metrics, asdict(config), optimizer, scheduler)
        bar.update(1)
    bar.close()
    finish_run(out, network, config.steps, metrics, asdict(config))
    return calibrate_localizer(out, validation=validation)


def _initialise_from(network: HandLocalizer, folder: str) -> None:
    trained, _ = load_localizer_network(folder)
    if replace(trained.config, threshold=network.config.threshold) != network.config:
        raise HandgraphError(
            f"init_from {folder}: its network config differs from this run's ({trained.config} vs {network.config})"
        )
    network.load_state_dict(trained.state_dict())


def calibrate_threshold(network: HandLocalizer, scenes: dict, max_false_hand_percent: float) -> float:
    """The lowest score threshold of 0.05, 0.10, ..., 0.95 at which at most ``max_false_hand_percent`` of the
    ``scenes`` without a hand get "a hand"; an error when there is no such frame or no such threshold."""
    without = ~scenes["hand_present"].numpy().any(axis=1)
    if not without.any():
        raise HandgraphError("localizer calibration: the validation scenes hold no frame without a hand")
    scores = answers_of(network, scenes["depth"])[without, 3]
    for step in range(1, 20):
        if 100.0 * np.mean(scores >= step / 20) <= max_false_hand_percent:
            return step / 20
    raise HandgraphError(
        f"localizer calibration: even at 0.95, {100.0 * np.mean(scores >= 0.95):.1f} % of the validation frames "
        f"without a hand get one (limit {max_false_hand_percent} %); train longer or allow more"
    )


def calibrate_localizer(
    out: str | os.PathLike,
    max_false_hand_percent: float = MAX_FALSE_HAND_PERCENT,
    validation: dict | None = None,
    scenes: dict | None = None,
    validation_frames: int | None = None,
    validation_upsample: int | None = None,
) -> dict:
    """Set the threshold of the run's final network (``out/model``) on its validation scenes, so that at most
    ``max_false_hand_percent`` of those without a hand get one; rewrite ``out/model`` with it, the metrics at
    it and the calibration, and ``out/metrics.json``. Returns the metrics.

    ``scenes`` overrides fields of the run's scene config for the validation split only (e.g. the families'
    fractions set to 0: calibrate on the default scenes' empty frames although the run learnt from more), and
    ``validation_frames`` its size, ``validation_upsample`` how it is rendered; the calibration records the
    scene config, size and rendering it used."""
    out = Path(out)
    if not 0.0 <= max_false_hand_percent <= 100.0:
        raise HandgraphError(f"--calibrate must be a percentage within [0, 100], got {max_false_hand_percent}")
    network, meta = load_localizer_network(out / "model")
    if not isinstance(meta.get("train"), dict):
        raise HandgraphError(f"{out / 'model'}/checkpoint.json: no training config ('train'); not a training run's")
    config = override(override(LocalizerTrainConfig(), meta["train"]), {"scenes": scenes or {}})
    for key, value in (("validation_frames", validation_frames), ("validation_upsample", validation_upsample)):
        if value is not None:
            config = override(config, {key: value})
    if validation is None:
        validation = scene_split(
            config.scenes, VALIDATION_SEED, config.validation_frames, upsample=config.validation_upsample
        )
    threshold = calibrate_threshold(network, validation, max_false_hand_percent)
    network.config = replace(network.config, threshold=threshold)
    metrics = evaluate_localizer(network, validation)
    metrics["calibration"] = {
        "max_false_hand_percent": max_false_hand_percent,
        "threshold": threshold,
        "scenes": asdict(config.scenes),
        "validation_frames": config.validation_frames,
        "validation_upsample": config.validation_upsample,
    }
    save_checkpoint(out / "model", network, meta["step"], metrics, meta["train"])
    atomic_write_text(out / "metrics.json", json.dumps({"step": meta["step"], **metrics}, indent=1) + "\n")
    return metrics
