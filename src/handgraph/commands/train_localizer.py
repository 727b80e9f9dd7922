"""``handgraph train-localizer``: train the hand localiser on synthetic whole frames."""

from __future__ import annotations

import argparse
import textwrap

NAME = "train-localizer"
HELP = "train the hand localiser (where is the hand in a whole frame, or is there none) on synthetic scenes"
DESCRIPTION = textwrap.dedent(
    """\
    Train the localiser that 'handgraph predict' uses to find the hand: a small CNN on the whole frame
    resampled to a fixed camera (the canvas), trained on synthetic scenes drawn on the fly (a hand on its arm,
    a person, desks, walls, clutter, sometimes no hand or two; Kinect v1/v2 and RealSense SR300/SR305 sensor
    models). Every eval_every steps it is scored on 1000 fixed validation scenes (hands found, false hands on
    frames without one, centre error); checkpoints go to OUT/checkpoints/, the final network to OUT/model/,
    which 'handgraph predict --localizer OUT/model' takes. Its score threshold is then set on the validation
    scenes: the lowest at which at most 5 % of those without a hand get one. A killed run continues with
    --resume."""
)
EPILOG = textwrap.dedent(
    """\
    examples:
      handgraph train-localizer --out runs/localizer
      handgraph train-localizer --out runs/localizer --set steps=12000 network.width=24
      handgraph train-localizer --out runs/localizer --resume
      handgraph train-localizer --out runs/localizer --calibrate 5 --set scenes.object_fraction=0"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE",
        help="override config fields (handgraph.localizer.train.LocalizerTrainConfig), e.g. steps=200",
    )  # fmt: skip
    parser.add_argument("--out", required=True, metavar="DIR", help="run folder: checkpoints and the final network")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    parser.add_argument(
        "--calibrate", type=float, metavar="PERCENT",
        help="only set the threshold of the finished run in --out anew: the lowest at which at most PERCENT of the "
        "validation frames without a hand get one (training ends with this, at 5); with it, --set may only give "
        "scenes.KEY=VALUE, validation_frames=N and validation_upsample=K, which change the validation scenes "
        "from the run's (e.g. scenes.object_fraction=0; validation_upsample=5 renders them at 640 x 560 and "
        "resamples them as predict resamples a camera's frame)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from handgraph.errors import HandgraphError
    from handgraph.io.configs import parse_assignments
    from handgraph.localizer.train import calibrate_localizer, load_localizer_config, train_localizer

    if args.calibrate is not None:
        validation = parse_assignments(args.set)
        allowed = {"scenes", "validation_frames", "validation_upsample"}
        if set(validation) - allowed:
            keys = ", ".join(sorted(set(validation) - allowed))
            raise HandgraphError(
                "--calibrate: --set may only change the validation scenes (scenes.KEY, validation_frames, "
                f"validation_upsample), not {keys}"
            )
        metrics = calibrate_localizer(args.out, args.calibrate, **validation)
    else:
        metrics = train_localizer(load_localizer_config(args.set), args.out, resume=args.resume)
    print(
        f"localizer threshold {metrics['calibration']['threshold']:.2f}: hands found in "
        f"{metrics['found_percent']:.1f} % of validation frames with a hand, false hands in "
        f"{metrics['false_hand_percent']:.1f} % of those without, "
        f"centre error median {metrics['median_error_mm']:.1f} mm; wrote {args.out}/model"
    )
    return 0
