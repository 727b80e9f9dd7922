"""Adapting a pose model to a camera's unlabelled frames: ``handgraph adapt``, from Python.

    from handgraph import adapt

    result = adapt(["my_recordings/"], "runs/adapted", camera="sr305", depth_scale_mm=0.125)
    print(result["model"], result["rounds"][-1])

Self-training with pseudo-labels that the depth itself checks. Each round:

1. **Label** (``pseudo_labels``): the teacher (the start model in round 1, the last round's model after) tracks
   every sequence; the kinematic hand is fitted to its joints (one shape per sequence) and moved against the
   frame's depth. The refined hand's joints are the frame's pseudo-label: the depth supervises through the fit
   (the hand's surface must explain the observed points and must not stand where the camera sees through it)
   and the kinematic hand keeps bones and angles valid. The refinement alone takes the shipped model from
   18.85 to 13.85 mm on the synthetic test split and from 20.9 to 13.0 mm on the real NYU frame
   (``docs/benchmarks.md``, kinematic fitting): the labels are better than the network that made them.
2. **Select** (``selection``): only the frames whose fitted hand the camera confirms best, among those whose
   depth supports the network's joints, teach (self-training learns its own mistakes back otherwise).
3. **Train** the student on batches of which ``real_fraction`` are the selected frames' crops and the rest
   synthetic frames with exact labels, drawn on the fly as the shipped model's fine-tune drew them: every
   reference implementation of adaptation for hand or keypoint pose keeps labelled source batches in every step
   (Wan et al., CVPR 2019: 48 synthetic and 25 real frames; MURAUER, Poier et al., WACV 2019: a third each of
   paired, synthetic and real; Kim et al., ECCV 2022: half and half), which keeps the model from drifting. The
   student continues from the last round's (the start model in round 1), and the crops are not augmented: the
   adapted model is for these frames, and on them fitting the labels matters more than invariance. Measured on
   1000 frames of a shifted domain with their labels hidden (``bench/findings.md``): a new student from the
   start model each round (as Noisy Student does, Xie et al., CVPR 2020), 2 rounds of 600 steps with augmented
   crops, took the Procrustes-aligned error on them from 16.78 to 13.81 mm; continued over 3 rounds of 400,
   13.50; not augmented as well, 12.47, while the synthetic test split moved from 18.85 to 19.26 mm (19.35
   with augmented crops). A round trains long enough to draw each frame that teaches about 12 times
   (``AdaptConfig.views``): 400 steps up to some 530 frames used, more above. On 10,000 frames (4283 used)
   the first round's student, scored by its network alone, reached 15.33 mm after 400 steps, 14.50 after 1200
   and 13.93 after 2400, the synthetic test split 19.00, 18.75 and 18.66 mm; three rounds of 3000 steps took
   the adapted model to 11.96 mm on them where three of 400 had reached 14.10.

Wan et al. fit a sphere model to the depth inside the loss; refining a kinematic fit offline and training on
its joints asks nothing new of the network or its export, runs on any model of the factory, and lets every
frame be judged before it teaches. After the last round the adapted model labels the frames once more, so
the label-free measures before and after can be compared.

``out`` holds everything and resumes: ``adapt.json`` (the request and the rounds done), per round
``round_N/labels.npz`` (written whole or not at all; while it is made, ``round_N/labels_parts/`` keeps each
sequence labelled so far, so a killed pass resumes at the next sequence), ``round_N/crops`` (a crop cache,
finished where it stopped) and ``round_N/train`` (a training run, resumed from its last checkpoint), and the
adapted checkpoint ``model``, which records the frames it was adapted on (their names, count and the SHA-256 of
the list) and the command.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from handgraph.adaptation.crops import write_label_crops
from handgraph.adaptation.frames import FrameSet, open_frames
from handgraph.adaptation.pseudo_labels import PseudoLabels, label_frames
from handgraph.adaptation.selection import SelectionRule, select_frames
from handgraph.errors import HandgraphError
from handgraph.fitting.targets import check_fittable
from handgraph.geometry.camera import Intrinsics
from handgraph.inference.predictor import Predictor
from handgraph.io.files import atomic_write_text
from handgraph.io.reading import read_json
from handgraph.models.checkpoint import load_model, save_checkpoint
from handgraph.models.config import ModelConfig
from handgraph.models.contract import contract_of
from handgraph.synth.generator import SynthConfig
from handgraph.training.config import DataConfig, TrainConfig
from handgraph.training.loop import evaluate, shard_frames_per_batch, train, validation_frames
from handgraph.training.run import latest_checkpoint
from handgraph.weights import POSE_MODEL, shipped

STATE = "adapt.json"
SYNTH_PRESETS = ("kinect", "realsense", "sr305")
"""The sensors of the synthetic batches: those the shipped model's fine-tune learned (``checkpoints/hgt-synth``)."""


@dataclass(frozen=True)
class AdaptConfig:
    """How ``adapt`` learns."""

    rounds: int = 3
    """Label, select, train; each round's labels come from the model of the round before."""
    steps: int = 400
    """Optimiser steps per round, at least: more when many frames teach (``views``)."""
    views: float = 12.0
    """How often each frame that teaches is drawn in a round, on average: a round whose rule used n frames
    trains for max(steps, ceil(views n / r)) steps, r the real crops of a batch, and at most ``max_steps``
    (``round_steps``). On 1000 frames (about 470 teach) that is 400; on 10,000 (about 4300) over 3000: with
    400 the student sees each of them 1.5 times a round and stays far from its labels (``bench/findings.md``).
    0 keeps every round at ``steps``."""
    max_steps: int = 3000
    """The most steps a round trains for, however many frames teach."""
    batch_size: int = 32
    real_fraction: float = 0.5
    """Share of every batch taken from the selected frames' crops; the rest are synthetic frames."""
    learning_rate: float = 5e-4
    """Peak learning rate (the shipped model's fine-tune's), warmed up and decayed to zero in each round."""
    warmup_steps: int = 50
    augment: bool = False
    """Rotate, scale and shift every batch (``preprocess.augment``): off, the student fits its labels closer
    (see the module's text); the synthetic frames are drawn anew at every step and need none."""
    selection: SelectionRule = field(default_factory=SelectionRule)
    min_frames: int = 20
    """Fewer selected frames than this is an error: a model fine-tuned on a handful of frames learns them."""
    eval_frames: int = 300
    """Synthetic validation frames scored after each round: how far the model drifted from the synthetic task."""
    seed: int = 0
    workers: int = 1
    """Processes drawing the synthetic frames."""
    continue_students: bool = True
    """Each round's student continues from the last round's (true) instead of starting from the start model."""

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.steps < 1 or self.batch_size < 2 or self.min_frames < 1:
            raise HandgraphError(
                f"adapt config: rounds, steps and min_frames must be at least 1, batch_size at "
                f"least 2; got {self.rounds}, {self.steps}, {self.min_frames}, {self.batch_size}"
            )
        if not (self.views >= 0 and self.max_steps >= self.steps):  # also rejects a NaN views
            raise HandgraphError(f"adapt config: views must be at least 0 and max_steps at least steps "
                                 f"({self.steps}); got {self.views} and {self.max_steps}")  # fmt: skip
        if not 0 < self.real_fraction <= 1:
            raise HandgraphError(f"adapt config: real_fraction must lie in (0, 1], got {self.real_fraction}")


def adapt(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    camera: str | Intrinsics | None = None,
    depth_scale_mm: float | None = None,
    fps: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    localizer: str | os.PathLike | None = None,
    left: bool = False,
    config: AdaptConfig | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict:
    """Adapt ``checkpoint`` (default: the shipped model) to the unlabelled frames of ``inputs``; see the
    module's text. Returns the record written to ``out/adapt.json``; the adapted model is ``out/model``."""
    config = config or AdaptConfig()
    frames = open_frames(inputs, camera, depth_scale_mm, fps)
    start = Path(checkpoint) if checkpoint else shipped(POSE_MODEL)
    model, meta = load_model(start)
    check_fittable(model.layout, f"adapting {start}")
    contract = contract_of(meta, start / "checkpoint.json")
    out = Path(out)
    request = _request(frames, start, localizer, left, config)
    state = _open_state(out, request)
    clock = _Clock(state.get("seconds", 0.0))
    log(f"adapting {start} on {len(frames)} frame(s) in {len(frames.sequences)} sequence(s); {config.rounds} "
        f"round(s) of {_steps_text(config)}")  # fmt: skip
    if "start_validation_mm" not in state:  # the synthetic validation error the rounds' models are compared with
        validation = validation_frames(_round_config(model.config, contract, "", start, config))
        state["start_validation_mm"] = round(float(evaluate(model, validation, torch.device("cpu"))["mean_mm"]), 3)
        _save(out, state, clock)
    log(f"{start}: synthetic validation {state['start_validation_mm']:.2f} mm ({config.eval_frames} frames)")
    teacher = start
    for number in range(1, config.rounds + 1):
        folder = out / f"round_{number}"
        labels = _labels(folder / "labels.npz", frames, teacher, localizer, left, progress, log)
        used = select_frames(labels.measures(), config.selection)
        _check_enough(labels, used, config, number)
        write_label_crops(folder / "crops", frames, labels, used, model.layout.name, contract.input_size,
                          contract.cube_mm, progress)  # fmt: skip
        run = folder / "train"
        init = _student_start(config, start, teacher)
        steps = round_steps(config, int(used.sum()))
        metrics = _train(_round_config(model.config, contract, str(folder / "crops"), init, config, steps), run,
                         progress)  # fmt: skip
        summary = _summary(number, labels, used, metrics, steps)
        state["rounds"] = [*state["rounds"][: number - 1], summary]
        _save(out, state, clock)
        log(_summary_line(summary))
        teacher = run / "model"
    final = _labels(out / "after.npz", frames, teacher, localizer, left, progress, log)
    state["after"] = _measured(final, select_frames(final.measures(), config.selection))
    state["before"] = {key: value for key, value in state["rounds"][0].items()
                       if key not in ("round", "steps", "validation_mm")}  # fmt: skip
    _write_model(out / "model", teacher, frames, start, state)
    state["model"] = str(out / "model")
    _save(out, state, clock)
    log(f"before: {_measures_line(state['before'])}")
    log(f"after:  {_measures_line(state['after'])}")
    log(f"wrote {out / 'model'}: adapted on {len(frames)} frame(s) (sha256 of the list {frames.digest()[:12]}...)")
    return state


def _request(frames: FrameSet, start: Path, localizer, left: bool, config: AdaptConfig) -> dict:
    return {
        "frames": len(frames),
        "frames_sha256": frames.digest(),
        "camera": frames.camera.to_dict(),
        "depth_scale_mm": frames.depth_scale_mm,
        "start": str(start),
        "localizer": None if localizer is None else str(localizer),
        "left": bool(left),
        "config": json.loads(json.dumps(asdict(config))),
    }


def _open_state(out: Path, request: dict) -> dict:
    """``out/adapt.json``: a new one, or the one of the interrupted run with the same request (resumed)."""
    path = out / STATE
    if path.is_file():
        state = read_json(path, "the state of 'handgraph adapt'")
        if not isinstance(state, dict) or state.get("request") != request:
            raise HandgraphError(f"{out}: holds an adaptation of other frames, another model or other settings; "
                                 "choose another --out, or delete it to start again")  # fmt: skip
        if "model" in state:
            raise HandgraphError(f"{out}: holds a finished adaptation ({state['model']}); choose another --out")
        return state
    if out.exists() and any(out.iterdir()):
        raise HandgraphError(f"{out}: exists and is not an adaptation's folder; choose another --out")
    state = {"request": request, "rounds": []}
    atomic_write_text(path, json.dumps(state, indent=1) + "\n")
    return state


class _Clock:
    """Seconds spent adapting, over every run that resumed the adaptation."""

    def __init__(self, before: float) -> None:
        self.before, self.started = float(before), time.perf_counter()

    def seconds(self) -> float:
        return round(self.before + time.perf_counter() - self.started, 1)


def _save(out: Path, state: dict, clock: _Clock) -> None:
    state["seconds"] = clock.seconds()
    atomic_write_text(out / STATE, json.dumps(state, indent=1) + "\n")


def _labels(path: Path, frames: FrameSet, teacher: Path, localizer, left: bool, progress: bool, log) -> PseudoLabels:
    """A round's pseudo-labels: read back when a finished run wrote them, else made and written whole. While
    they are made, each finished sequence is kept in ``<name>_parts/``, so that a killed pass resumes there."""
    if path.is_file():
        return PseudoLabels.load(path)
    started = time.perf_counter()
    parts = path.with_name(f"{path.stem}_parts")
    labels = label_frames(frames, Predictor(teacher, localizer=localizer), left, progress, parts=parts)
    for message in labels.skipped:
        log(f"skipped {message}")
    labels.save(path)
    shutil.rmtree(parts, ignore_errors=True)
    log(f"{path}: {len(labels)} hand(s) in {labels.frames} frame(s), {time.perf_counter() - started:.0f} s")
    return labels


def _check_enough(labels: PseudoLabels, used: np.ndarray, config: AdaptConfig, number: int) -> None:
    if used.sum() < config.min_frames:
        raise HandgraphError(
            f"round {number}: only {int(used.sum())} of {labels.frames} frame(s) are sure enough to teach (hands in "
            f"{len(labels)}); at least {config.min_frames} are needed: record more frames of the hand, 300-700 mm "
            "from the camera"
        )


def _student_start(config: AdaptConfig, start: Path, teacher: Path) -> Path:
    """The model a round's student is trained from: the last round's (``continue_students``) or the start."""
    return teacher if config.continue_students else start


def round_steps(config: AdaptConfig, used: int) -> int:
    """The optimiser steps of a round in which ``used`` frames teach (``AdaptConfig.views``)."""
    real = max(1, shard_frames_per_batch(config.batch_size, 1.0 - config.real_fraction))
    return int(min(max(config.steps, math.ceil(config.views * used / real)), config.max_steps))


def _steps_text(config: AdaptConfig) -> str:
    if config.views == 0 or config.max_steps == config.steps:
        return f"{config.steps} steps"
    return f"{config.steps}-{config.max_steps} steps (each frame that teaches drawn {config.views:g} times a round)"


def _round_config(
    model: ModelConfig, contract, crops: str, init: Path, config: AdaptConfig, steps: int | None = None
) -> TrainConfig:
    """A round's training run: the model ``init`` fine-tuned on the crops and synthetic frames for ``steps``
    (default: ``config.steps``)."""
    steps = config.steps if steps is None else steps
    synth = SynthConfig(size=contract.input_size, cube_mm=contract.cube_mm, left_fraction=0.0, centre_jitter_mm=15.0,
                        object_fraction=0.2, surface_fraction=0.1, egocentric_fraction=0.2)  # fmt: skip
    data = DataConfig(synth=synth, synth_presets=SYNTH_PRESETS[1:], shards=crops,
                      synth_fraction=1.0 - config.real_fraction, seed=config.seed + 17, workers=config.workers,
                      augment=config.augment)  # fmt: skip
    return TrainConfig(model=model, data=data, steps=steps, batch_size=config.batch_size,
                       learning_rate=config.learning_rate, warmup_steps=config.warmup_steps, eval_every=steps,
                       eval_frames=config.eval_frames, checkpoint_every=min(100, steps), seed=config.seed,
                       init_from=str(init))  # fmt: skip


def _train(config: TrainConfig, run: Path, progress: bool) -> dict:
    """The round's training: done already, resumed from its last checkpoint, or started."""
    if (run / "model" / "checkpoint.json").is_file():
        return read_json(run / "metrics.json", "a finished round's metrics")
    return train(config, run, resume=latest_checkpoint(run) is not None, progress=progress)


def _measured(labels: PseudoLabels, used: np.ndarray) -> dict:
    """The label-free measures of a set of pseudo-labels: counts, and medians over the hands found."""
    return {
        "frames": labels.frames,
        "hands": len(labels),
        "used": int(used.sum()),
        **{name: round(float(np.nanmedian(value)), 3) for name, value in labels.measures().items()},
    }


def _summary(number: int, labels: PseudoLabels, used: np.ndarray, metrics: dict, steps: int) -> dict:
    return {
        "round": number,
        **_measured(labels, used),
        "steps": steps,
        "validation_mm": round(float(metrics.get("mean_mm", float("nan"))), 3),
    }


def _measures_line(measured: dict) -> str:
    return (
        f"hands in {measured['hands']} frame(s), {measured['used']} sure enough to teach; median depth residual "
        f"{measured['residual_mm']:.2f} mm, surface confirmed {100 * measured['explained']:.1f} %, joint support "
        f"{100 * measured['support']:.0f} %, refinement moved the joints {measured['moved_mm']:.1f} mm"
    )


def _summary_line(summary: dict) -> str:
    return (f"round {summary['round']}: {_measures_line(summary)}; trained {summary['steps']} steps, synthetic "
            f"validation {summary['validation_mm']:.2f} mm")  # fmt: skip


def _write_model(folder: Path, teacher: Path, frames: FrameSet, start: Path, state: dict) -> None:
    """The adapted checkpoint: the last round's weights, recording the frames, the start and the rounds."""
    model, meta = load_model(teacher)
    record = {
        "adapted": {
            "start": str(start),
            "frames": {"count": len(frames), "sha256": frames.digest(), "names": frames.names},
            "rounds": state["rounds"],
            "request": state["request"],
        }
    }
    save_checkpoint(folder, model, meta["step"], meta.get("metrics", {}), record,
                    contract=contract_of(meta, teacher / "checkpoint.json"))  # fmt: skip
