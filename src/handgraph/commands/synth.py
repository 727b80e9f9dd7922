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
    number of workers. An interrupted run resumes when the same command is run again.

    --sequences N writes N labelled sequences instead (synth.sequences: a person moving a hand before the
    camera, steady, with fast flicks, leaving the view, behind a pole, or with the other hand passing in front),
    each a recording OUT/sequence_NN.npy with its .json (camera, depth scale, frame rate), as 'handgraph live
    --record' writes them, and its labels in OUT/sequence_NN_labels.npz; 'handgraph predict --input' reads them."""
)
EPILOG = textwrap.dedent(
    """\
    presets (sensor model and camera):
      clean      no noise, no background, Kinect v1 camera, 0.1 mm depth unit
      kinect     Kinect v1 as in NYU: noise growing with distance, disparity quantisation, missing edges,
                 dropouts, desks, torsos and clutter behind the hand; 1 mm depth unit
      realsense  RealSense SR300 as in HANDS2017: lower noise, 0.125 mm depth unit, background as above
      sr305      RealSense SR305 (the SR300's successor), matched to the real frames in ../shared/data/real:
                 smooth, few holes, the outline lost; 0.125 mm depth unit
      kinect2    Kinect v2 (time of flight): 500-4500 mm range, 1 mm depth unit

    examples:
      handgraph synth --out data/synth --count 2000 --preview grid.png
      handgraph synth --out data/full --count 100 --full-frame --preset realsense --seed 7
      handgraph synth --out data/holding --count 500 --preset realsense --holding 1 --egocentric 0.5 \
          --preview holding.png
      handgraph synth --out data/sequences --sequences 5 --preset sr305 --sequence-frames 90"""
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
        help="sensor model: clean, kinect, realsense, sr305 or kinect2 (default: %(default)s)",
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
    families = parser.add_argument_group("hands as people use them (shares of the frames; 0 by default)")
    families.add_argument(
        "--holding", type=float, default=0.0, metavar="F",
        help="share of hands holding an object (bottle, can, cup, box, phone, ball, handle, tool, pen), the "
        "fingers closed on it; the labels keep every joint, with its visibility",
    )  # fmt: skip
    families.add_argument(
        "--on-table", type=float, default=0.0, metavar="F",
        help="share of the other hands resting on or pressing on a table, seen from above",
    )  # fmt: skip
    families.add_argument(
        "--egocentric", type=float, default=0.0, metavar="F",
        help="share seen as a head- or chest-mounted camera sees its wearer's hand (from behind and above, "
        "200-700 mm away)",
    )  # fmt: skip
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
    sequences = parser.add_argument_group("labelled sequences (--sequences)")
    sequences.add_argument("--sequences", type=int, metavar="N", help="write N labelled sequences instead of frames")
    sequences.add_argument(
        "--sequence-frames", type=int, default=150, metavar="T", help="frames per sequence (default: %(default)s)"
    )
    sequences.add_argument("--fps", type=float, default=30.0, help="the camera's frame rate (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from handgraph.errors import HandgraphError

    if args.sequences is not None:
        return _sequences(args)
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
        object_fraction=args.holding,
        surface_fraction=args.on_table,
        egocentric_fraction=args.egocentric,
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


def _sequences(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from handgraph.errors import HandgraphError
    from handgraph.synth.sequences import SequenceConfig, generate_sequence, write_sequence

    if args.sequences < 1:
        raise HandgraphError(f"--sequences must be at least 1, got {args.sequences}")
    config = SequenceConfig(sensor=args.preset, frames=args.sequence_frames, fps=args.fps)
    started = time.perf_counter()
    for index in tqdm(range(args.sequences), desc="sequences", unit="sequence"):
        sequence = generate_sequence(config, args.seed, index)
        path = write_sequence(sequence, Path(args.out) / f"sequence_{index:02d}.npy")
        tqdm.write(f"wrote {path} ({sequence.kind}, hand visible in {int(sequence.visible.sum())} of "
                   f"{len(sequence.raw)} frames)")  # fmt: skip
    print(f"wrote {args.sequences} sequence(s) of {config.frames} frames to {args.out} in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return 0
