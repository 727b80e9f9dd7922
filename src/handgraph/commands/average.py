"""``handgraph average``: one pose checkpoint, the weighted average of several fine-tuned from one start."""

from __future__ import annotations

import argparse
import textwrap

NAME = "average"
HELP = "average the weights of pose checkpoints fine-tuned from one start (a model soup, WiSE-FT)"
DESCRIPTION = textwrap.dedent(
    """\
    Write one pose checkpoint whose every weight is the weighted average of the same weight in the given
    checkpoints: theta = sum_k w_k theta_k (w_k >= 0, summing to 1; equal by default). Meant for checkpoints
    fine-tuned from one start, e.g. the start and its fine-tune on new scenes: the average keeps much of
    what each is good at, where a fine-tune alone tends to lose on frames unlike those it was trained on
    (Wortsman et al., CVPR 2022). The checkpoints must hold the same model and contract; OUT/checkpoint.json
    records which were averaged, with which weights."""
)
EPILOG = textwrap.dedent(
    """\
    examples:
      handgraph average checkpoints/hgt-synth runs/finetuned/model --out runs/soup
      handgraph average runs/a/model runs/b/model runs/c/model --weights 0.5 0.25 0.25 --out runs/soup"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT", help="pose checkpoint folders (two or more)")
    parser.add_argument("--weights", nargs="+", type=float, metavar="W", help="one per checkpoint (default: equal)")
    parser.add_argument("--out", required=True, metavar="DIR", help="the averaged checkpoint's folder")


def run(args: argparse.Namespace) -> int:
    from handgraph.models.soup import average_checkpoints

    out = average_checkpoints(args.checkpoints, args.out, args.weights)
    print(f"wrote {out}: the average of {len(args.checkpoints)} checkpoints")
    return 0
