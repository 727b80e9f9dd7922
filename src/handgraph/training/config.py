"""Training configs: typed dataclasses with a docstring per field, and named presets as plain data.

A run is ``TrainConfig``; ``--config NAME`` picks a preset, ``--config FILE.yaml`` overrides the default (or
the preset named by the file's ``preset`` key) with the file's nested mapping, and ``--set key=value``
overrides single fields, e.g. ``--set model.width=48 data.synth.preset=realsense``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from handgraph.errors import HandgraphError, about
from handgraph.io.configs import override, parse_assignments
from handgraph.io.reading import one_line, read_text
from handgraph.models.config import ModelConfig
from handgraph.synth.generator import SynthConfig
from handgraph.training.losses import LossWeights


@dataclass
class DataConfig:
    """Where training frames come from."""

    synth: SynthConfig = field(default_factory=lambda: SynthConfig(left_fraction=0.0, centre_jitter_mm=15.0))
    """Synthetic frames drawn on the fly: right hands (see ``synth.splits``), the crop centre jittered like a
    localiser's error on real frames."""
    synth_presets: tuple[str, ...] = ()
    """Further sensor presets (``synth.sensor``, e.g. ``realsense``): the batch's frames drawn on the fly are
    split evenly between ``synth``'s preset and these, each from its own stream (seed, seed + 1, ...) with
    ``synth``'s other settings, so one model learns several sensors' images."""
    shards: str | None = None
    """A folder written by ``handgraph synth`` or ``handgraph data cache`` to train on instead of frames drawn
    on the fly."""
    synth_fraction: float = 0.0
    """With ``shards``: the share of every batch drawn on the fly from ``synth`` instead (a mixture of real and
    synthetic frames), labelled in the model's layout."""
    seed: int = 0
    """Stream seed of the training frames; the benchmark splits' seeds are refused."""
    workers: int = 1
    """DataLoader processes drawing frames (0 draws them in the training process)."""
    augment: bool = False
    """Rotate, scale and shift crops (``preprocess.augment``); worth it for finite data such as shards."""
    augment_rotation_deg: float = 180.0
    """Largest in-plane rotation of an augmented crop."""
    augment_scale: float = 0.1
    """Largest relative change of the cube side."""
    augment_shift: float = 0.08
    """Largest shift of the crop centre, in half cubes (0.08 of 125 mm: 10 mm)."""


@dataclass
class TrainConfig:
    """One training run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    """The model to train (its input size sets the crop size of the frames)."""
    data: DataConfig = field(default_factory=DataConfig)
    """Training frames."""
    loss: LossWeights = field(default_factory=LossWeights)
    """Weights of the loss terms."""
    steps: int = 3000
    """Optimiser steps."""
    batch_size: int = 32
    """Frames per step and process."""
    learning_rate: float = 2e-3
    """Peak AdamW learning rate, reached after the warm-up, then cosine decay to zero."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""
    warmup_steps: int = 100
    """Linear warm-up from zero."""
    grad_clip: float = 5.0
    """Largest gradient norm; larger gradients are scaled down."""
    ema_decay: float = 0.0
    """Keep an exponential moving average of the weights, updated after every step with this decay (0.99: about
    the last 100 steps weigh; batch-norm statistics are the last step's), and evaluate and save that instead of
    the last weights; 0 keeps the last weights."""
    eval_every: int = 500
    """Steps between evaluations on the synthetic validation split (and at the end)."""
    eval_frames: int = 500
    """Frames of the validation split used for those evaluations."""
    log_every: int = 25
    """Steps between logged training losses."""
    checkpoint_every: int = 250
    """Steps between checkpoints (and at the end), each written atomically."""
    seed: int = 0
    """Seed of initialisation and of every random choice of training."""
    init_from: str | None = None
    """A checkpoint folder whose weights start the run instead of a random initialisation (fine-tuning);
    its model config must be this run's."""
    threads: int | None = None
    """torch CPU threads (default: torch's choice)."""
    device: str = "cpu"
    """cpu, cuda, or cuda:N."""

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "eval_every", "eval_frames", "log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise HandgraphError(f"train config: {name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise HandgraphError(f"train config: learning_rate must be positive, got {self.learning_rate}")


PRESETS: dict[str, TrainConfig] = {
    # `make demo`'s model, sized for 15 minutes on the slower 2-core hosts met (an AMD EPYC took 1.6x this Intel
    # host's time): 96 x 96 crops train 1.7x faster than 128 x 128 (bench/findings.md), and the default model
    # took 0.26 s a step of them on an AMD EPYC host, where `make demo` then took 7 min 7 s after setup.
    "demo": TrainConfig(model=ModelConfig(input_size=96), steps=1500, batch_size=32, eval_every=500, eval_frames=500),
    # The accuracy ablation's recipe (bench/ablation.py), every model alike: 1800 steps of 32 at 128 x 128.
    "ablation": TrainConfig(steps=1800, batch_size=32, eval_every=300, eval_frames=500, checkpoint_every=300),
    # The shipped checkpoint's recipe: longer, larger batches; hours on 2 cores, minutes on a GPU.
    "full": TrainConfig(
        steps=40000, batch_size=64, learning_rate=2e-3, warmup_steps=500, eval_every=2000, eval_frames=1000
    ),
    # Seconds: for tests and for trying the command line.
    "tiny": TrainConfig(
        model=ModelConfig(
            input_size=32,
            width=8,
            blocks=1,
            transformer_dim=16,
            transformer_heads=2,
            encoder_layers=1,
            decoder_layers=1,
            interleaved_blocks=2,
        ),
        data=DataConfig(synth=SynthConfig(size=32, left_fraction=0.0, centre_jitter_mm=15.0), workers=0),
        steps=6,
        batch_size=4,
        warmup_steps=2,
        eval_every=3,
        eval_frames=8,
        log_every=1,
        checkpoint_every=3,
    ),
}

DATASET_PRESETS = {"nyu": "nyu14", "icvl": "icvl16", "msra": "msra21", "hands2017": "hands2017"}
"""Presets that train on a real dataset's crop cache (``handgraph data cache``), predicting its scored joints."""
for _name, _layout in DATASET_PRESETS.items():
    # Finite data: crops rotated in the image plane, scaled and shifted (in 3D: the crop centre moves), as the
    # field's methods augment; the model predicts the joints the dataset is scored on.
    PRESETS[_name] = TrainConfig(
        model=ModelConfig(layout=_layout),
        data=DataConfig(augment=True),
        steps=20000,
        batch_size=32,
        warmup_steps=500,
        eval_every=2000,
        eval_frames=500,
    )


def load_config(name_or_path: str, assignments: list[str] | None = None) -> TrainConfig:
    """A preset by name, or a YAML file of overrides, then ``key=value`` assignments."""
    if name_or_path in PRESETS:
        config = copy.deepcopy(PRESETS[name_or_path])
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise HandgraphError(f"--config {name_or_path!r}: neither a preset ({', '.join(PRESETS)}) nor a YAML file")
        values = _read_yaml(path)
        if not isinstance(values, dict):
            raise HandgraphError(f"{path}: expected a mapping of config fields")
        base = values.pop("preset", None)
        if base is not None and base not in PRESETS:
            raise HandgraphError(f"{path}: unknown preset {base!r}; known: {', '.join(PRESETS)}")
        with about(str(path)):
            config = override(copy.deepcopy(PRESETS[base]) if base else TrainConfig(), values)
    if assignments:
        config = override(config, parse_assignments(assignments))
    if name_or_path in DATASET_PRESETS and not config.data.shards:
        raise HandgraphError(
            f"--config {name_or_path} trains on a crop cache of the dataset: make one with 'handgraph data cache "
            f"{name_or_path}:train{'=P0' if name_or_path == 'msra' else ''} --root DIR --out CACHE', then add "
            "--set data.shards=CACHE"
        )
    if name_or_path in PRESETS:
        return _matched_crop_size(config)
    with about(name_or_path):  # the frames' size follows the model's: a file's model.input_size may be refused here
        return _matched_crop_size(config)


def _read_yaml(path: Path) -> object:
    text = read_text(path, "a YAML config")
    try:
        return yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise HandgraphError(f"{where}: not valid YAML ({one_line(error.problem or error.context)})") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, AttributeError) as error:  # '!!float abc'
        raise HandgraphError(f"{path}: not valid YAML ({one_line(error) or 'nested too deeply'})") from None


def _matched_crop_size(config: TrainConfig) -> TrainConfig:
    """Frames are rendered at the model's input size."""
    if config.data.synth.size != config.model.input_size:
        config.data = replace(config.data, synth=replace(config.data.synth, size=config.model.input_size))
    return config
