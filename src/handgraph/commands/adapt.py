"""``handgraph adapt``: a pose model adapted to your camera's unlabelled frames."""

from __future__ import annotations

import argparse
import textwrap

NAME = "adapt"
HELP = "adapt the pose model to your own camera's unlabelled depth frames (no labels needed)"
DESCRIPTION = textwrap.dedent(
    """\
    Fine-tune a pose model (default: the shipped one) on depth frames without joint labels, such as recordings
    of 'handgraph live --record'. In each round the model finds and tracks the hand in every frame, the
    kinematic hand is fitted to its joints and moved against the frame's depth (as 'predict --fit' does), and
    the refined hand's joints become the frame's pseudo-label. Only the surest frames teach: of those whose
    depth supports at least half of the network's joints, the half whose fitted hand the camera confirms best
    (the most of its surface seen where it stands). The model is then fine-tuned on those frames mixed half and
    half with synthetic frames with exact labels (which keep it from drifting), continuing from the last
    round's. Each round's labels come from the model of the round before.

    Prints per round the label-free measures: hands found, frames used, the fitted hand's median distance from
    the observed depth (depth residual), the share of its surface the camera confirms, the share of the
    network's joints on the surface, how far the refinement moved them; and the error on synthetic validation
    frames (how far the model drifted from the synthetic task). OUT/model is the adapted checkpoint, for
    'predict --checkpoint'; it records the frames it was adapted on. A run that
    is stopped resumes where it was when the same command is run again."""
)
EPILOG = textwrap.dedent(
    """\
    examples:
      handgraph adapt --input ../shared/data/real/sr305/20210326-231615 --camera sr305 --depth-scale 0.125 \\
          --min-frames 5 --out runs/adapted_sr305
      handgraph predict --checkpoint runs/adapted_sr305/model --input ../shared/data/real/sr305/20210326-231615 \\
          --camera sr305 --depth-scale 0.125 --out runs/sr305_adapted
      handgraph adapt --input recordings/ --out runs/adapted        # recordings of 'handgraph live --record'

    Time on 2 CPU cores of an AMD EPYC host (bench/adapt.py): about 90-110 ms per frame to label (tracking,
    fitting, refinement; four labelling passes with the default 3 rounds) and about 0.28 s per training step at
    the default batch of 32: 1000 frames took 11.2 minutes, 100 frames 6.2. Where more than about 530 frames
    teach, a round trains longer (--views), up to 3000 steps (13-14 minutes): 10,000 frames took 67 minutes."""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.adaptation import AdaptConfig, SelectionRule
    from handgraph.commands.predict import add_camera_arguments

    defaults, rule = AdaptConfig(), SelectionRule()
    parser.add_argument(
        "--input", required=True, action="append", metavar="FILE_OR_DIR",
        help="depth frames: a file, a folder of them, or a .npy recording; repeat for more (each recording is a "
        "sequence of its own, a folder's images one sequence)",
    )  # fmt: skip
    add_camera_arguments(parser)
    parser.add_argument("--fps", type=float, help="frame rate of the sequences (default: a recording's own, else 30)")
    parser.add_argument("--left", action="store_true", help="the frames show a left hand")
    parser.add_argument(
        "--checkpoint", metavar="DIR", help="the model to adapt (default: the shipped checkpoints/hgt-synth)"
    )
    parser.add_argument(
        "--localizer", metavar="PATH_OR_blob",
        help="how the hand is found: a localizer checkpoint or .onnx (default: the shipped one), or 'blob'",
    )  # fmt: skip
    learning = parser.add_argument_group("learning")
    learning.add_argument(
        "--rounds", type=int, default=defaults.rounds, help="label-select-train rounds (default: %(default)s)"
    )
    learning.add_argument(
        "--steps", type=int, default=defaults.steps,
        help="training steps per round, at least (default: %(default)s; more when many frames teach, see --views)",
    )  # fmt: skip
    learning.add_argument(
        "--views", type=float, default=defaults.views,
        help="how often each frame that teaches is drawn in a round: a round trains for enough steps to draw them "
        "this often, from --steps up to --max-steps; 0: always --steps (default: %(default)s)",
    )  # fmt: skip
    learning.add_argument(
        "--max-steps", type=int,
        help=f"the most training steps a round takes (default: {defaults.max_steps}, or --steps if that is more)",
    )  # fmt: skip
    learning.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help="frames per step (default: %(default)s)"
    )
    learning.add_argument(
        "--real-fraction", type=float, default=defaults.real_fraction,
        help="share of each batch from your frames; the rest are synthetic (default: %(default)s)",
    )  # fmt: skip
    learning.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate, help="peak learning rate (default: %(default)s)"
    )
    learning.add_argument(
        "--min-frames", type=int, default=defaults.min_frames,
        help="fewer frames sure enough to teach than this is an error (default: %(default)s)",
    )  # fmt: skip
    learning.add_argument(
        "--keep-share", type=float, default=rule.keep_share,
        help="of the frames that pass the checks, the share used: those whose fitted hand the depth confirms most "
        "(default: %(default)s)",
    )  # fmt: skip
    learning.add_argument(
        "--continue-students", action=argparse.BooleanOptionalAction, default=defaults.continue_students,
        help="each round fine-tunes the last round's model; with --no-continue-students each round starts again "
        "from the start model (default: %(default)s)",
    )  # fmt: skip
    learning.add_argument(
        "--augment", action=argparse.BooleanOptionalAction, default=defaults.augment,
        help="rotate, scale and shift the training crops (default: %(default)s: the adapted model is for these "
        "frames, and fits them closer without)",
    )  # fmt: skip
    learning.add_argument(
        "--eval-frames", type=int, default=defaults.eval_frames,
        help="synthetic validation frames scored after each round, to see the model's drift (default: %(default)s)",
    )  # fmt: skip
    learning.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="processes drawing synthetic frames (default: %(default)s)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder; the adapted model is OUT/model")


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from handgraph.adaptation import AdaptConfig, adapt
    from handgraph.commands.predict import camera_of

    defaults = AdaptConfig()
    most_steps = max(defaults.max_steps, args.steps) if args.max_steps is None else args.max_steps
    config = AdaptConfig(
        rounds=args.rounds, steps=args.steps, views=args.views, max_steps=most_steps,
        batch_size=args.batch_size, real_fraction=args.real_fraction,
        learning_rate=args.learning_rate, min_frames=args.min_frames, eval_frames=args.eval_frames,
        workers=args.workers, selection=replace(defaults.selection, keep_share=args.keep_share),
        continue_students=args.continue_students, augment=args.augment,
    )  # fmt: skip
    adapt(args.input, args.out, camera=camera_of(args), depth_scale_mm=args.depth_scale, fps=args.fps,
          checkpoint=args.checkpoint, localizer=args.localizer, left=args.left, config=config)  # fmt: skip
    return 0
