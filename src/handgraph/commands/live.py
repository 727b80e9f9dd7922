"""``handgraph live``: track the hand in a live RealSense stream (or a recording), draw it, record it."""

from __future__ import annotations

import argparse
import textwrap

NAME = "live"
HELP = "track the hand in a live Intel RealSense depth stream (or a replayed recording) and draw it in a window"
DESCRIPTION = textwrap.dedent(
    """\
    Read depth frames from an Intel RealSense (through pyrealsense2, the optional extra
    pip install 'handgraph[realsense]'; intrinsics and depth scale come from the device) or replay a recording,
    track the hand as 'handgraph predict' tracks a sequence (the localiser when the hand is lost, the last
    frame's joints otherwise, optional One Euro smoothing), and draw the skeleton in a window at camera rate.
    --record FILE.npy writes every raw frame to a .npy stack with FILE.json beside it (intrinsics, depth
    scale, frame rate), which 'handgraph predict --input FILE.npy' reads back with its camera. Stop with
    Ctrl-C or by closing the window."""
)
EPILOG = textwrap.dedent(
    """\
    examples:
      handgraph live --record runs/rec.npy
      handgraph live --replay runs/rec.npy --smooth
      handgraph live --replay runs/rec.npy --no-window --out runs/live   # predictions.json, no display"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.inference.tracking import SMOOTHING_BETA_S_PER_MM, SMOOTHING_MIN_CUTOFF_HZ

    parser.add_argument("--replay", metavar="FILE.npy", help="play back a recording instead of reading a camera")
    parser.add_argument("--record", metavar="FILE.npy", help="record the raw frames (and FILE.json) while tracking")
    parser.add_argument("--width", type=int, default=640, help="RealSense depth stream width (default: %(default)s)")
    parser.add_argument("--height", type=int, default=480, help="RealSense depth stream height (default: %(default)s)")
    parser.add_argument("--fps", type=float, default=30.0, help="RealSense frame rate (default: %(default)s)")
    parser.add_argument("--checkpoint", metavar="PATH", help="pose model (default: the shipped checkpoints/hgt-synth)")
    parser.add_argument("--backend", choices=("torch", "onnx"), default="torch", help="network runtime")
    parser.add_argument("--localizer", metavar="PATH_OR_blob", help="as for 'handgraph predict'")
    parser.add_argument("--left", action="store_true", help="track a left hand (frames mirrored for the model)")
    parser.add_argument("--smooth", action="store_true", help="smooth the joints with the One Euro filter")
    parser.add_argument(
        "--min-cutoff", type=float, default=SMOOTHING_MIN_CUTOFF_HZ, metavar="HZ",
        help="One Euro filter: cut-off of a still hand (default: %(default)s, chosen by bench/tracking.py)",
    )  # fmt: skip
    parser.add_argument(
        "--beta", type=float, default=SMOOTHING_BETA_S_PER_MM, metavar="S_PER_MM",
        help="One Euro filter: how fast the cut-off rises with speed (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--frames", type=int, metavar="N", help="stop after N frames")
    parser.add_argument("--no-window", action="store_true", help="no display (e.g. to record or to time)")
    parser.add_argument("--out", metavar="DIR", help="also write DIR/predictions.json with every frame's joints")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from handgraph.errors import HandgraphError
    from handgraph.inference.live import RealSenseSource, ReplaySource, SkeletonWindow, run_live
    from handgraph.inference.predictor import Predictor
    from handgraph.inference.tracking import HandTracker, OneEuroFilter
    from handgraph.io.predictions import frame_record, write_predictions
    from handgraph.io.recordings import Recorder

    if args.fps <= 0:
        raise HandgraphError(f"--fps must be positive, got {args.fps}")
    if args.record and Path(args.record).suffix != ".npy":
        raise HandgraphError(f"--record {args.record}: expected a file name ending in .npy")
    source = ReplaySource(Path(args.replay), paced=not args.no_window) if args.replay else None
    source = source or RealSenseSource(args.width, args.height, args.fps)
    predictor = Predictor(args.checkpoint, backend=args.backend, localizer=args.localizer)
    tracker = HandTracker(predictor, OneEuroFilter(args.min_cutoff, args.beta) if args.smooth else None)
    window = None if args.no_window else SkeletonWindow(predictor.layout)
    recorder = Recorder(args.record, source.camera, source.depth_scale_mm, source.fps) if args.record else None
    records: list[dict] = []

    def keep(index: int, tracked) -> None:
        if args.out:
            records.append(frame_record(f"frame {index}", tracked.prediction, tracked.source))

    summary = run_live(source, _LeftTracker(tracker, args.left), window, recorder, args.frames, keep)
    if args.out:
        result = {"camera": source.camera.to_dict(), "joints": list(predictor.layout.joint_names), "frames": records}
        write_predictions(args.out, result)
    rate = summary.frames / summary.seconds if summary.seconds > 0 else float("nan")
    print(f"{summary.frames} frame(s), a hand in {summary.hands}, {rate:.1f} frames/s")
    if recorder is not None and summary.frames:
        print(f"recorded {args.record} (and {Path(args.record).with_suffix('.json')}); read it back with "
              f"handgraph predict --input {args.record}")  # fmt: skip
    return 0


class _LeftTracker:
    """The tracker with --left applied to every frame."""

    def __init__(self, tracker, left: bool):
        self.tracker, self.left = tracker, left

    def __call__(self, depth, camera, time_s):
        return self.tracker(depth, camera, time_s, left=self.left)

    def reset(self) -> None:
        self.tracker.reset()
