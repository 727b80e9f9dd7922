"""``handgraph predict``: joints of the hand in depth frames from any camera."""

from __future__ import annotations

import argparse
import textwrap

NAME = "predict"
HELP = "predict 3D hand joints in depth frames (PNG, NYU PNG, .npy, .npy stacks) from any camera, or track them"
DESCRIPTION = textwrap.dedent(
    """\
    Read depth frames, find the hand with the learned localiser (checkpoints/localizer: a small network on
    the whole frame that also answers "no hand"), crop a cube around it, run the model, recentre the crop on
    the predicted joints and run it again, and write the joints in mm (camera frame) and in frame pixels to
    OUT/predictions.json, with one overlay PNG per frame. A frame without a hand gets "hand": false and no
    joints. --center/--centers give the centre instead, --localizer blob uses the nearest-blob heuristic.

    A folder (in natural order: 2.png before 10.png) or a .npy stack of shape (frames, height, width) is a
    sequence and is tracked: each frame's crop comes from the last frame's joints while the hand is found (one
    pass, no localiser), from the localiser when it is lost. --smooth filters the joints with the One Euro
    filter. The frames/s of the whole loop is printed at the end. Without --checkpoint the model shipped in
    checkpoints/hgt-synth is used."""
)
EPILOG = textwrap.dedent(
    """\
    inputs: 16-bit single-channel PNG (Kinect, RealSense, ICVL, HANDS2017), NYU's RGB PNG (depth = G << 8 | B),
    .npy holding one 2D array, or a .npy stack (frames, height, width), such as a recording of 'handgraph live'
    (its .json gives the camera and depth scale); a folder takes all of its .png and .npy files. Values are
    multiplied by --depth-scale to give mm (e.g. 0.125 for a RealSense SR305).

    examples:
      handgraph predict --input ../shared/data/real/nyu/depth_1_0000001.png --camera nyu --out runs/nyu
      handgraph export --onnx runs/hgt.onnx && handgraph predict --backend onnx --checkpoint runs/hgt.onnx \
          --input ../shared/data/real/nyu/depth_1_0000001.png --camera nyu --out runs/nyu_onnx
      handgraph predict --input ../shared/data/real/sr305/20210326-231615 --camera sr305 --depth-scale 0.125 \\
          --smooth --out runs/sr305
      handgraph predict --input frames/ --fx 475.1 --fy 475.1 --cx 315.9 --cy 245.3 --out runs/mine"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.inference.tracking import SMOOTHING_BETA_S_PER_MM, SMOOTHING_MIN_CUTOFF_HZ

    parser.add_argument(
        "--checkpoint", metavar="PATH",
        help="checkpoint folder (default: the shipped checkpoints/hgt-synth); with --backend onnx, an .onnx file "
        "from 'handgraph export' or a checkpoint folder holding model.onnx",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=("torch", "onnx"), default="torch",
        help="run the network with PyTorch or with ONNX Runtime (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads for the network (default: all)")
    parser.add_argument("--input", required=True, metavar="FILE_OR_DIR", help="a depth file or a folder of them")
    add_camera_arguments(parser)
    centre = parser.add_mutually_exclusive_group()
    centre.add_argument(
        "--center", type=float, nargs=3, metavar=("X", "Y", "Z"),
        help="hand centre in mm in the camera frame (skips localisation)",
    )  # fmt: skip
    centre.add_argument(
        "--centers", metavar="FILE",
        help="hand centres, one 'x y z' line (mm) per input frame in name order; NYU frames (depth_1_0000005.png) "
        "take the line of their number from a longer file such as NYU's center_test_refined.txt",
    )  # fmt: skip
    parser.add_argument(
        "--localizer", default=None, metavar="PATH_OR_blob",
        help="how the hand is found without --center: a localizer checkpoint folder (default: the shipped "
        "checkpoints/localizer) or .onnx file, or 'blob' for the nearest-blob heuristic",
    )  # fmt: skip
    parser.add_argument(
        "--no-track", action="store_true",
        help="treat the frames of a folder or stack as unrelated: localise every frame afresh",
    )  # fmt: skip
    parser.add_argument(
        "--smooth", action="store_true", help="smooth the joints of a sequence with the One Euro filter"
    )
    parser.add_argument(
        "--fps", type=float, help="frame rate of a sequence, for --smooth (default: a recording's own, else 30)"
    )
    parser.add_argument(
        "--min-cutoff", type=float, default=SMOOTHING_MIN_CUTOFF_HZ, metavar="HZ",
        help="One Euro filter: cut-off frequency of a still hand; lower smooths more (default: %(default)s, chosen "
        "on the tracking benchmark's sequences by bench/tracking.py)",
    )  # fmt: skip
    parser.add_argument(
        "--beta", type=float, default=SMOOTHING_BETA_S_PER_MM, metavar="S_PER_MM",
        help="One Euro filter: how fast the cut-off rises with joint speed; higher lags less (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--left", action="store_true",
        help="the frames show a left hand: models are trained on right hands, so the frame is mirrored for the "
        "model and the joints mirrored back",
    )  # fmt: skip
    fitting = parser.add_argument_group("kinematic fit (--fit)")
    fitting.add_argument(
        "--fit", action="store_true",
        help="fit the kinematic hand to every predicted hand: joint angles, a valid hand (constant bones, angles "
        "within their limits), its shape, a refinement against the depth and a mesh per frame; a sequence gets "
        "one shape for all its frames. Adds \"fit\" to each frame of predictions.json and a 3D view to the overlay",
    )  # fmt: skip
    fitting.add_argument(
        "--no-refine", action="store_true", help="with --fit: inverse kinematics only, no refinement against the depth"
    )
    fitting.add_argument(
        "--mesh-format", choices=("ply", "obj", "glb"), default="ply",
        help="with --fit: file type of the meshes, OUT/<frame>_hand.<format> (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--out", default="predictions", metavar="DIR", help="output folder (default: %(default)s)")
    parser.add_argument("--no-overlays", action="store_true", help="write the JSON only")


def add_camera_arguments(parser: argparse.ArgumentParser) -> None:
    """--camera, --fx --fy --cx --cy and --depth-scale: how frames from a camera are read (``camera_of``)."""
    from handgraph.geometry.camera import CAMERA_PRESETS

    parser.add_argument("--camera", choices=list(CAMERA_PRESETS), help="intrinsics of a known camera")
    for name in ("fx", "fy", "cx", "cy"):
        parser.add_argument(
            f"--{name}", type=float, help=f"intrinsics: {name} in pixels (all four, instead of --camera)"
        )
    parser.add_argument(
        "--depth-scale", type=float, metavar="MM_PER_UNIT",
        help="mm per stored depth unit (default: 1, or a recording's own from its .json)",
    )  # fmt: skip


def camera_of(args):
    """A preset, the four intrinsics, or None: a recording's own camera (``predict_frames`` reads it)."""
    from handgraph.errors import HandgraphError
    from handgraph.geometry.camera import Intrinsics

    given = [getattr(args, name) for name in ("fx", "fy", "cx", "cy")]
    if args.camera and any(value is not None for value in given):
        raise HandgraphError("give either --camera or --fx --fy --cx --cy, not both")
    if args.camera or any(value is None for value in given):
        return args.camera
    return Intrinsics(*given)


def run(args: argparse.Namespace) -> int:
    from handgraph.inference.prediction import predict_frames
    from handgraph.io.predictions import write_predictions

    predictions = predict_frames(
        args.input, camera_of(args), checkpoint=args.checkpoint, backend=args.backend, threads=args.threads,
        localizer=args.localizer, depth_scale=args.depth_scale, centre=args.center, centres=args.centers,
        left=args.left, track=not args.no_track, smooth=args.smooth, fps=args.fps, min_cutoff=args.min_cutoff,
        beta=args.beta, fit=args.fit, refine=not args.no_refine, mesh_format=args.mesh_format, out=args.out,
        overlays=not args.no_overlays, log=print,
    )  # fmt: skip
    print(f"wrote {write_predictions(args.out, predictions)}: {predictions.summary()}")
    return 0
