"""``handgraph synth``: write a synthetic depth-hand dataset to disk."""

from __future__ import annotations

import argparse
import textwrap
import time

NAME = "synth"
HELP = "write synthetic depth frames of hands with labels (the built-in data)"
DESCRIPTION = textwrap.dedent(
    """\
    Render synthetic depth frames of a kinematic hand (21 joints, 26 degrees of freedom, anatomical limits,
    shape variation) with an exact ray caster and a depth-sensor model, and write them as shards with a
    manifest.json (config, seed, counts, per-shard checksums). Labels per frame: joints in xyz (mm, camera
    frame) and uvd, per-joint visibility, pose parameters, left/right, intrinsics, the hand centre, and
    joints in the NYU-14, ICVL-16 and MSRA-21 conventions. Frame i of a seed is the same whatever the
    number of workers. An interrupted run resumes when the same command is run again."""
)
EPILOG = textwrap.dedent(
    """\
    presets (sensor model and camera):
      clean      no noise, no background, Kinect v1 camera, 0.1 mm depth unit
      kinect     Kinect v1 as in NYU: noise growing with distance, disparity quantisation, missing edges,
                 dropouts, desks, torsos and clutter behind the hand; 1 mm depth unit
      realsense  RealSense SR300 as in HANDS2017: lower noise, 0.125 mm depth unit, background as above

    examples:
      handgraph synth --out data/synth --count 2000 --preview grid.png
      handgraph synth --out data/full --count 100 --full-frame --preset realsense --seed 7"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="dataset folder (created; resumed if it holds the same dataset)"
    )
    parser.add_argument("--count", type=int, default=1000, metavar="N", help="number of frames (default: %(default)s)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="stream seed: frame i is drawn from (S, i) (default: %(default)s)",
    )
    parser.add_argument(
        "--preset",
        default="kinect",
        metavar="P",
        help="sensor model: clean, kinect or realsense (default: %(default)s)",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--size",
        type=int,
        default=128,
        metavar="S",
        help="render S x S crops of a cube around the hand (default: %(default)s)",
    )
    size.add_argument("--full-frame", action="store_true", help="render the camera's whole frame instead of crops")
    parser.add_argument(
        "--cube-mm", type=float, default=250.0, metavar="MM", help="side of the crop cube (default: %(default)s)"
    )
    parser.add_argument(
        "--distance-mm", type=float, nargs=2, default=(250.0, 800.0), metavar=("NEAR", "FAR"),
        help="range of the hand's distance from the camera (default: 250 800)",
    )  # fmt: skip
    parser.add_argument(
        "--view-cone", type=float, default=100.0, metavar="DEG",
        help="largest tilt away from a palm- or back-facing view; 180 covers the full sphere (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--no-background", action="store_true", help="no desks, torsos or clutter behind the hand")
    parser.add_argument(
        "--background-probabilities", type=float, nargs=3, metavar=("DESK", "TORSO", "CLUTTER"),
        help="chances of a desk plane, a torso and clutter in a frame (default: the preset's)",
    )  # fmt: skip
    parser.add_argument(
        "--shard-size", type=int, default=1000, metavar="K", help="frames per shard file (default: %(default)s)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: one per CPU core)"
    )
    parser.add_argument(
        "--preview", metavar="FILE.png", help="also write a grid of the first frames with their skeletons"
    )
    parser.add_argument(
        "--preview-count", type=int, default=16, metavar="N", help="frames in the preview grid (default: %(default)s)"
    )


def run(args: argparse.Namespace) -> int:
    from handgraph.errors import HandgraphError
    from handgraph.synth.generator import SynthConfig
    from handgraph.synth.preview import write_preview
    from handgraph.synth.shards import ShardedFrames, write_dataset

    if args.preview_count <= 0:
        raise HandgraphError(f"--preview-count must be positive, got {args.preview_count}")
    config = SynthConfig(
        preset=args.preset,
        size=None if args.full_frame else args.size,
        cube_mm=args.cube_mm,
        distance_mm=tuple(args.distance_mm),
        view_cone_deg=args.view_cone,
        background=not args.no_background,
        background_probabilities=tuple(args.background_probabilities) if args.background_probabilities else None,
    )
    started = time.perf_counter()
    manifest = write_dataset(args.out, config, args.seed, args.count, args.shard_size, args.workers)
    seconds = time.perf_counter() - started
    height, width = manifest["image_shape"]
    print(
        f"wrote {manifest['count']} frames ({width}x{height}, preset {config.preset}) to {args.out} in {seconds:.1f} s"
    )
    if args.preview:
        frames = ShardedFrames(args.out, verify=False)
        shown = [frames.frame(index) for index in range(min(args.preview_count, len(frames)))]
        write_preview(shown, manifest["depth_unit_mm"], args.preview)
        print(f"wrote {args.preview}")
    return 0
