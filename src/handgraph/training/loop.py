"""The training loop: forward, loss, backward, step, log, evaluate, checkpoint. One function, the same in one
process and under ``torchrun`` (DistributedDataParallel, gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from handgraph.errors import HandgraphError
from handgraph.evaluation import metrics
from handgraph.evaluation.model_eval import split_batches
from handgraph.geometry.camera import is_finite_number
from handgraph.io.files import atomic_write_text
from handgraph.io.reading import one_line, read_json
from handgraph.models import model_from_config
from handgraph.models.checkpoint import load_model, restore_training
from handgraph.models.contract import ModelContract
from handgraph.preprocess.augment import augment_crop
from handgraph.preprocess.crop import crop_uvd_to_xyz, normalized_to_uvd
from handgraph.synth.datasets import ShardStream, SynthStream, model_inputs
from handgraph.synth.shards import ShardedFrames, read_manifest
from handgraph.synth.splits import SPLITS, check_training_seed
from handgraph.training.config import TrainConfig
from handgraph.training.losses import mapped_pose_loss, pose_loss
from handgraph.training.run import finish_run, latest_checkpoint, save_step, start_run, warmup_cosine_schedule


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world


def _training_batches(config: TrainConfig, first_step: int, rank: int, world: int):
    """Endless batches; step s of rank r is global batch s * world + r, so a resumed or distributed run sees
    exactly the frames an uninterrupted single run would assign it. The loaders get their own generators:
    creating an iterator must not draw from torch's global random state, which a resumed run restores."""
    own = torch.Generator().manual_seed(config.seed + rank)
    position = {"start_batch": first_step * world + rank, "batch_stride": world}
    fraction = config.data.synth_fraction if config.data.shards else 1.0
    if not 0.0 <= fraction <= 1.0:
        raise HandgraphError(f"data.synth_fraction must be within [0, 1], got {fraction}")
    synthetic = config.batch_size - shard_frames_per_batch(config.batch_size, fraction)
    streams = []
    if synthetic < config.batch_size:
        streams.append(ShardStream(config.data.shards, config.seed, config.batch_size - synthetic, **position))
    presets = (config.data.synth.preset, *config.data.synth_presets)
    for k, preset in enumerate(presets):
        count = synthetic // len(presets) + (k < synthetic % len(presets))
        if count > 0:
            check_training_seed(config.data.seed + k)
            synth = replace(config.data.synth, preset=preset)
            streams.append(SynthStream(synth, config.data.seed + k, count, **position))
    loaders = [
        iter(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=config.data.workers, generator=own))
        for stream in streams
    ]
    if len(loaders) == 1 and not config.data.shards and not config.data.synth_presets:
        return loaders[0]
    return _mixed(loaders, config)


def shard_frames_per_batch(batch_size: int, synth_fraction: float) -> int:
    """How many frames of each batch the shards give when ``synth_fraction`` of it is synthetic."""
    return batch_size - round(batch_size * synth_fraction)


def _mixed(loaders: list, config: TrainConfig):
    """One batch from each loader, joined: real crops (with their per-frame cube) and synthetic frames (their
    labels in the training labels' layout, the synthetic cube)."""
    from handgraph.geometry.layouts import get_layout

    layout = labels_layout(config, get_layout(config.model.layout)).name
    while True:
        parts = []
        for batch in (next(loader) for loader in loaders):
            if "cube_mm" not in batch:  # drawn on the fly
                frames = _in_layout({key: value.numpy() for key, value in batch.items() if key != "depth"},
                                    layout)  # fmt: skip
                batch = {"depth": batch["depth"], "intrinsics": batch["intrinsics"], "centre_xyz": batch["centre_xyz"],
                         "uvd": torch.from_numpy(frames["uvd"]), "xyz": torch.from_numpy(frames["xyz"]),
                         "cube_mm": torch.full((len(batch["depth"]),), float(config.data.synth.cube_mm))}  # fmt: skip
            parts.append(batch)
        keys = ("depth", "intrinsics", "centre_xyz", "uvd", "xyz", "cube_mm")
        yield {key: torch.cat([part[key].to(parts[0][key].dtype) for part in parts]) for key in keys}


def validation_frames(config: TrainConfig) -> dict[str, torch.Tensor]:
    """The first ``eval_frames`` frames of the fixed validation split as the model sees them (its input size,
    the run's crop cube): ``depth`` (N, 1, S, S) and ``crop`` (N, 6) inputs, ``xyz`` (N, J, 3) in its layout."""
    parts = list(split_batches("validation", config.model.input_size, config.data.synth.cube_mm, config.eval_frames))
    frames = _in_layout({"xyz": np.concatenate([frames["xyz"] for frames, _ in parts]),
                         **{key: np.concatenate([frames[key] for frames, _ in parts])
                            for key in ("intrinsics", "nyu14_xyz", "icvl16_xyz", "msra21_xyz")}},
                        config.model.layout)  # fmt: skip
    inputs = {key: torch.cat([batch[key] for _, batch in parts]) for key in ("depth", "crop")}
    return inputs | {"xyz": torch.from_numpy(frames["xyz"].astype(np.float32)), "cube_mm": config.data.synth.cube_mm}


def _in_layout(frames: dict[str, np.ndarray], layout_name: str) -> dict[str, np.ndarray]:
    """Synthetic frames with their labels in a model's joint layout: a dataset convention's points on the
    model (``nyu14_xyz``, ...), or the canonical joints reordered when every joint has a canonical twin."""
    from handgraph.geometry.camera import xyz_to_uvd
    from handgraph.geometry.layouts import get_layout

    layout = get_layout(layout_name)
    if layout.name == "canonical":
        return frames
    if f"{layout.name}_xyz" in frames:
        xyz = frames[f"{layout.name}_xyz"]
    elif None not in layout.canonical:
        xyz = frames["xyz"][:, list(layout.canonical)]
    else:
        raise HandgraphError(f"model.layout {layout.name}: the synthetic validation frames have no such labels")
    return {**frames, "xyz": xyz, "uvd": xyz_to_uvd(xyz.astype(np.float64), frames["intrinsics"]).astype(np.float32)}


@torch.no_grad()
def evaluate(model: torch.nn.Module, frames: dict, device, batch_size: int = 64) -> dict[str, float]:
    """Mean joint error and success rates (mm) of a model on frames of ``validation_frames``."""
    was_training = model.training
    model.eval()
    predictions = []
    for first in range(0, len(frames["xyz"]), batch_size):
        depth, crop = (frames[key][first : first + batch_size].to(device) for key in ("depth", "crop"))
        predictions.append(model(depth, crop)["xyz"].cpu().double().numpy())
    truths = [frames["xyz"].double().numpy()]
    model.train(was_training)
    errors = metrics.joint_errors(np.concatenate(predictions), np.concatenate(truths))
    rates = metrics.success_rate(errors, np.array([10.0, 20.0, 40.0]))
    return {
        "benchmark_version": SPLITS["validation"].version,  # of the synthetic validation split these figures are on
        "mean_mm": metrics.mean_joint_error(errors),
        "median_mm": metrics.median_joint_error(errors),
        "success_10mm": float(rates[0]),
        "success_20mm": float(rates[1]),
        "success_40mm": float(rates[2]),
    }


def train(config: TrainConfig, out: str | os.PathLike, resume: bool = False, progress: bool = True) -> dict:
    """Train, evaluate and checkpoint into ``out``; returns the last evaluation's metrics."""
    out = Path(out)
    rank, world = _distributed()
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = model_from_config(config.model).to(torch.device(config.device))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine_schedule(config))
    average = weight_average(model, config.ema_decay)
    if config.data.shards and config.data.synth_fraction < 1:
        ShardedFrames(config.data.shards)  # every checksum once, before anything is written: the workers trust them
    if config.init_from and not resume:
        _initialise_from(model, config.init_from)
    run = _Training(config, out, rank, world, model, optimizer, scheduler, average, contract_of_run(config))
    started = start_run(out, asdict(config), resume, run.restore, rank)
    if not started["own_rng_state"]:  # a resumed process continues from the random state it saved
        torch.manual_seed(config.seed * 1000 + rank + started["step"])
    with _peers_watched(out, rank, world):
        last = run.steps(started["step"], progress)
    if rank == 0:  # the average is the run's model, when it keeps one
        finish_run(out, run.final_model(), config.steps, last, asdict(config), run.contract)
    if world > 1:
        torch.distributed.barrier()
    return last


@dataclass
class _Clock:
    """Seconds of training across resumes, evaluations left out, and frames seen by this process's run."""

    earlier: float = 0.0
    """Training seconds before this process (from ``history.json``)."""
    started: float = field(default_factory=time.perf_counter)
    evaluating: float = 0.0
    seen: int = 0

    def train_seconds(self) -> float:
        return self.earlier + time.perf_counter() - self.started - self.evaluating

    def frames_per_s(self) -> float:
        return self.seen / (time.perf_counter() - self.started)


@dataclass
class _Training:
    """A pose training run in progress: what every step uses."""

    config: TrainConfig
    out: Path
    rank: int
    world: int
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    average: torch.nn.Module | None
    contract: ModelContract

    def restore(self, checkpoint: Path) -> dict:
        return restore_training(checkpoint, self.model, self.optimizer, self.scheduler, self.average, self.rank)

    def final_model(self) -> torch.nn.Module:
        return self.model if self.average is None else self.average.module

    def steps(self, first_step: int, progress: bool) -> dict:
        """Steps ``first_step`` to ``config.steps``: optimise, log, validate, checkpoint. Returns the last
        validation's metrics."""
        config, device, lead = self.config, torch.device(self.config.device), self.rank == 0
        network = torch.nn.parallel.DistributedDataParallel(self.model) if self.world > 1 else self.model
        labels = labels_layout(config, self.model.layout)
        bones = torch.tensor(self.model.layout.bones, device=device)
        batches = _training_batches(config, first_step, self.rank, self.world)
        validation = validation_frames(config) if lead else None
        writer = _tensorboard(self.out) if lead else None
        history = _history(self.out, first_step) if lead else []
        clock = _Clock(history[-1]["train_seconds"] if history else 0.0)
        bar = tqdm(total=config.steps, initial=first_step, unit="step", disable=not progress or not lead)
        last: dict = {}  # the last validation's metrics
        for step in range(first_step, config.steps):
            inputs = model_inputs(next(batches), config.data.synth.cube_mm, config.model.input_size, device)
            if config.data.augment:
                inputs = _augmented(inputs, config)
            output, loss, terms = self._optimise(network, inputs, labels, bones, step)
            clock.seen += len(inputs["xyz"]) * self.world
            done = step + 1
            if writer is not None and (done % config.log_every == 0 or done == config.steps):
                joint_mm = _batch_joint_error(output["xyz"], inputs["xyz"], self.model.layout, labels)
                rate, lr = clock.frames_per_s(), self.scheduler.get_last_lr()[0]
                scalars = {"loss": loss.item(), **terms, "train_joint_error_mm": joint_mm}
                _log(writer, done, {**scalars, "lr": lr, "frames_per_s": rate})
                bar.set_postfix(loss=f"{loss.item():.4f}", batch_joint_mm=f"{joint_mm:.1f}", fps=f"{rate:.0f}")
            if lead and (done % config.eval_every == 0 or done == config.steps):
                last = self._validate(writer, done, validation, history, clock)
            if done % config.checkpoint_every == 0 or done == config.steps:
                self._checkpoint(done, last)
            bar.update(1)
        bar.close()
        if writer is not None:
            writer.close()
        return last

    def _optimise(self, network, inputs: dict, labels, bones: torch.Tensor, step: int):
        """One optimiser step on a batch: (the network's output, the loss, its terms)."""
        config = self.config
        output = network(inputs["depth"], inputs["crop"])
        if labels is self.model.layout:
            loss, terms = pose_loss(output, inputs["uvd_norm"], inputs["xyz"], bones, config.loss)
        else:  # a canonical model learning a dataset's labels through the joint map
            loss, terms = mapped_pose_loss(output, inputs["uvd_norm"], inputs["xyz"], labels, config.loss)
        if not math.isfinite(loss.item()):
            raise HandgraphError(f"training diverged at step {step + 1}: the loss is {loss.item()}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        if self.average is not None:
            update_average(self.average, self.model)
        return output, loss, terms

    def _validate(self, writer, done: int, validation: dict, history: list, clock: _Clock) -> dict:
        """The run's model on the validation frames, logged and added to ``history.json``."""
        evaluating = time.perf_counter()
        train_seconds = clock.train_seconds()
        scores = evaluate(self.final_model(), validation, torch.device(self.config.device))
        _log(writer, done, {f"validation/{key}": value for key, value in scores.items()})
        tqdm.write(f"step {done}: validation mean joint error {scores['mean_mm']:.2f} mm")
        history.append({"step": done, "train_seconds": round(train_seconds, 2), **scores})
        atomic_write_text(self.out / "history.json", json.dumps(history, indent=1) + "\n")
        clock.evaluating += time.perf_counter() - evaluating
        return scores

    def _checkpoint(self, done: int, metrics: dict) -> None:
        rng_states = _rng_states(self.world)  # every process takes part: a collective
        if self.rank == 0:
            save_step(self.out, self.model, done, metrics, asdict(self.config), self.optimizer, self.scheduler,
                      self.average, rng_states, self.contract)  # fmt: skip
        if self.world > 1:  # no process runs ahead of a checkpoint being written: one that dies in the next
            torch.distributed.barrier()  # step leaves this checkpoint whole, to resume from, and names it


def _is_evaluation(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    step, seconds = entry.get("step"), entry.get("train_seconds")
    return isinstance(step, int) and not isinstance(step, bool) and step >= 0 and is_finite_number(seconds)


def _rng_states(world: int) -> list[torch.Tensor]:
    """The random state of every process, by rank (dropout, augmentation): a resumed distributed run restores
    each process's own, and continues exactly as it would have."""
    state = torch.get_rng_state()
    if world == 1:
        return [state]
    on = torch.device("cuda", torch.cuda.current_device()) if torch.distributed.get_backend() == "nccl" else "cpu"
    states = [torch.empty_like(state, device=on) for _ in range(world)]
    torch.distributed.all_gather(states, state.to(on))  # NCCL gathers on the GPU
    return [gathered.cpu() for gathered in states]


@contextmanager
def _peers_watched(out: Path, rank: int, world: int) -> Iterator[None]:
    """Under torchrun a process that dies takes the run down: the others fail in their next collective (gloo:
    the connection closes) or get SIGTERM from the launcher. Each then says so in one line, with the
    checkpoint that a resume starts from, instead of a traceback."""
    if world == 1:
        yield
        return

    def stopped(signum, frame):
        raise HandgraphError(f"process {rank} of {world}: stopped by the launcher (SIGTERM) after another process "
                             f"of the run failed; {_resume_hint(out)}")  # fmt: skip

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        yield
    except RuntimeError as error:  # DistBackendError, or gloo's RuntimeError from inside DDP's backward
        if not isinstance(error, torch.distributed.DistError) and not _lost_peer(error):
            raise
        reason = re.sub(r"\[/[^\]]*\]\s*", "", one_line(error)).split(". ")[0]  # gloo's source path, then its hints
        raise HandgraphError(f"process {rank} of {world}: another process of the run stopped ({reason[:160]}); "
                             f"{_resume_hint(out)}") from None  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)


def _lost_peer(error: RuntimeError) -> bool:
    """Whether an error from a collective says that a peer process is gone."""
    text = str(error).lower()
    return any(words in text for words in ("connection reset", "connection closed", "broken pipe", "gloo", "nccl"))


def _resume_hint(out: Path) -> str:
    try:
        latest = latest_checkpoint(out)
    except HandgraphError:
        latest = None
    if latest is None:
        return f"{out} holds no checkpoint yet: start the run again"
    return f"the last checkpoint is {latest.name} in {out}: run the same command with --resume"


def labels_layout(config: TrainConfig, model_layout):
    """The layout of the training labels: a crop cache's (its dataset's scored joints), else the model's. A
    canonical model can learn another layout's labels through the joint map; other mismatches are refused."""
    from handgraph.geometry.layouts import get_layout

    if not config.data.shards:
        return model_layout
    manifest = read_manifest(config.data.shards)
    name = manifest.get("layout", model_layout.name) if manifest["format"] == "handgraph-crops" else model_layout.name
    if name == model_layout.name:
        return model_layout
    if model_layout.name != "canonical":
        raise HandgraphError(f"{config.data.shards}: holds {name} labels, which a {model_layout.name} model cannot "
                             f"learn; set model.layout={name} or canonical")  # fmt: skip
    return get_layout(name)


def contract_of_run(config: TrainConfig) -> ModelContract:
    """How the run's model sees a hand, which every later use of it must repeat (``models.contract``): the
    crop's size and cube, and its joints. A crop cache with per-frame cubes (the dataset's own) gives
    ``cube_per_frame``; the run's synthetic cube is then the one for frames that bring none."""
    cube, per_frame = config.data.synth.cube_mm, False
    if config.data.shards:
        manifest = read_manifest(config.data.shards)
        size, cached = manifest["image_shape"][0], manifest["config"]["cube_mm"]
        if manifest["format"] == "handgraph-crops" and not isinstance(cached, (int, float)):
            per_frame = True
        else:
            cube = cached
        if size != config.model.input_size:
            raise HandgraphError(
                f"{config.data.shards}: its crops are {size}x{size}, but model.input_size is {config.model.input_size}"
            )
    return ModelContract(float(cube), config.model.input_size, config.model.layout, per_frame)


def _initialise_from(model: torch.nn.Module, folder: str) -> None:
    """Start from a trained checkpoint's weights (its model config must be the run's)."""
    trained, _ = load_model(folder)
    if trained.config != model.config:
        raise HandgraphError(
            f"init_from {folder}: its model config differs from this run's ({trained.config} vs {model.config})"
        )
    model.load_state_dict(trained.state_dict())


def _history(out: Path, first_step: int) -> list[dict]:
    """Validation results so far (``out/history.json``): step, seconds of training (evaluations excluded)
    and metrics; a resumed run keeps those up to its checkpoint's step."""
    path = out / "history.json"
    if first_step == 0 or not path.is_file():
        return []
    history = read_json(path, "a training run's folder")
    if not isinstance(history, list) or not all(_is_evaluation(entry) for entry in history):
        raise HandgraphError(f"{path}: expected a list of evaluations, each with its step and train_seconds")
    return [entry for entry in history if entry["step"] <= first_step]


def _augmented(inputs: dict[str, torch.Tensor], config: TrainConfig) -> dict[str, torch.Tensor]:
    """Random rotation, scale and shift of a batch; targets in mm follow the moved crops."""
    data = config.data
    count = len(inputs["depth"])
    uniform = torch.rand(count, 5, device=inputs["depth"].device) * 2 - 1  # from the global generator: resumable
    rotation = torch.deg2rad(uniform[:, 0] * data.augment_rotation_deg)
    scale, shift = 1 + uniform[:, 1] * data.augment_scale, uniform[:, 2:] * data.augment_shift
    depth, uvd_norm, crop = augment_crop(inputs["depth"], inputs["uvd_norm"], inputs["crop"], rotation, scale, shift)
    xyz = crop_uvd_to_xyz(normalized_to_uvd(uvd_norm, crop, config.model.input_size), crop)
    return {"depth": depth, "crop": crop, "uvd_norm": uvd_norm, "xyz": xyz}


def weight_average(model: torch.nn.Module, decay: float):
    """The exponential moving average of the model's weights (torch's ``AveragedModel``), or None for ``decay`` 0.
    Buffers are not averaged (masks hold -inf, whose average is NaN): ``update_average`` copies them."""
    if decay == 0:
        return None
    if not 0 < decay < 1:
        raise HandgraphError(f"ema_decay must be 0 (off) or within (0, 1), got {decay}")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))


@torch.no_grad()
def update_average(average, model: torch.nn.Module) -> None:
    """One step of the weight average, and the live model's buffers (batch-norm statistics) copied into it."""
    average.update_parameters(model)
    for kept, live in zip(average.module.buffers(), model.buffers(), strict=True):
        kept.copy_(live)


def _tensorboard(out: Path):
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(out / "tensorboard"))


def _log(writer, step: int, scalars: dict[str, float]) -> None:
    if writer is not None:
        for name, value in scalars.items():
            writer.add_scalar(name, value, step)


def _batch_joint_error(predicted: torch.Tensor, true: torch.Tensor, layout, labels) -> float:
    """Mean 3D joint error (mm) of a training batch, in the labels' joints: what the progress bar shows."""
    from handgraph.geometry.joint_map import canonical_to_layout

    with torch.no_grad():
        mapped = predicted if labels is layout else canonical_to_layout(predicted, labels)
        return float((mapped - true).norm(dim=-1).mean())
