"""``handgraph train``: train a model on synthetic frames (one process, or several under torchrun)."""

from __future__ import annotations

import argparse
import textwrap

NAME = "train"
HELP = "train a hand pose model on synthetic depth frames"
DESCRIPTION = textwrap.dedent(
    """\
    Train one of the models (regress, heatmap, a2j, awr, gcn_flat, sia_gcn, hgt) on synthetic frames drawn on the
    fly, with AdamW and a cosine schedule. Every --config's eval_every steps the model is scored on the fixed
    synthetic validation split; checkpoints (safetensors weights + JSON, written atomically) go to
    OUT/checkpoints/, TensorBoard scalars to OUT/tensorboard/, the final model to OUT/model/. A killed run
    continues exactly where it stopped with --resume. Under `torchrun --nproc_per_node=N` the same command
    trains with DistributedDataParallel (gloo on CPU, nccl on GPU), each process on its own batches."""
)
EPILOG = textwrap.dedent(
    """\
    presets (--config NAME): demo (hgt at 96 x 96, at most 15 minutes on 2 CPU cores), ablation (the accuracy
    benchmark's recipe: 1800 steps of 32 at 128 x 128, every model alike), full (the shipped checkpoint's
    recipe), tiny (seconds, for trying things); nyu, icvl, msra, hands2017 train on a crop cache of that dataset (made
    by 'handgraph data cache', given with --set data.shards=CACHE), predicting its scored joints, with crops
    rotated, scaled and shifted. A YAML file overrides fields of the default config, or of the preset its
    `preset:` key names; --set overrides single fields with dotted keys.

    examples:
      handgraph train --config demo --out runs/demo
      handgraph train --config demo --set model.name=sia_gcn steps=500 --out runs/sia
      handgraph train --config nyu --set data.shards=caches/nyu_train --out runs/nyu
      handgraph train --config my.yaml --out runs/mine --resume
      torchrun --nproc_per_node=2 -m handgraph train --config demo --out runs/ddp"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default="demo", metavar="NAME_OR_YAML", help="a preset name or a YAML file (default: %(default)s)"
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override config fields, e.g. model.width=48 steps=100",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="run folder: checkpoints, TensorBoard logs, final model"
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")


def run(args: argparse.Namespace) -> int:
    from handgraph.training.config import load_config
    from handgraph.training.loop import train

    config = load_config(args.config, args.set)
    metrics = train(config, args.out, resume=args.resume, progress=not args.no_progress)
    if metrics:
        print(
            f"trained {config.model.name} for {config.steps} steps: validation mean joint error "
            f"{metrics['mean_mm']:.2f} mm, {100 * metrics['success_20mm']:.1f}% of frames within 20 mm; "
            f"model in {args.out}/model"
        )
    return 0
