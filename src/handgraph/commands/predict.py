"""``handgraph predict``: joints of the hand in depth frames from any camera."""

from __future__ import annotations

import argparse
import textwrap

NAME = "predict"
HELP = "predict 3D hand joints in depth frames (PNG, NYU PNG, .npy) from any camera"
DESCRIPTION = textwrap.dedent(
    """\
    Read depth frames, find the hand (the nearest blob, refined by its centre of mass, unless --center gives
    it), crop a cube around it, run the model, and write the joints in mm (camera frame) and in frame pixels
    to OUT/predictions.json, with one overlay PNG per frame. Frames where no hand is found are reported and
    skipped. Without --checkpoint the model shipped in checkpoints/hgt-synth is used."""
)
EPILOG = textwrap.dedent(
    """\
    inputs: 16-bit single-channel PNG (Kinect, RealSense, ICVL, HANDS2017), NYU's RGB PNG (depth = G << 8 | B),
    or .npy holding one 2D array; a folder takes all of its .png and .npy files. Values are multiplied by
    --depth-scale to give mm (e.g. 0.125 for a RealSense SR305).

    examples:
      handgraph predict --input ../shared/data/real/nyu/depth_1_0000001.png --camera nyu --out runs/nyu
      handgraph export --onnx runs/hgt.onnx && handgraph predict --backend onnx --checkpoint runs/hgt.onnx \
          --input ../shared/data/real/nyu/depth_1_0000001.png --camera nyu --out runs/nyu_onnx
      handgraph predict --input frames/ --fx 475.1 --fy 475.1 --cx 315.9 --cy 245.3 \\
          --depth-scale 0.125 --out runs/sr305"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.camera import CAMERA_PRESETS

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
    parser.add_argument("--camera", choices=list(CAMERA_PRESETS), help="intrinsics of a known camera")
    for name in ("fx", "fy", "cx", "cy"):
        parser.add_argument(
            f"--{name}", type=float, help=f"intrinsics: {name} in pixels (all four, instead of --camera)"
        )
    parser.add_argument(
        "--depth-scale", type=float, default=1.0, metavar="MM_PER_UNIT", help="mm per stored depth unit (default: 1)"
    )
    centre = parser.add_mutually_exclusive_group()
    centre.add_argument(
        "--center", type=float, nargs=3, metavar=("X", "Y", "Z"),
        help="hand centre in mm in the camera frame (skips localisation)",
    )  # fmt: skip
    centre.add_argument(
        "--centers", metavar="FILE",
        help="hand centres, one 'x y z' line (mm) per input frame in name order, e.g. NYU's center_test_refined.txt",
    )  # fmt: skip
    parser.add_argument(
        "--left", action="store_true",
        help="the frames show a left hand: models are trained on right hands, so the frame is mirrored for the "
        "model and the joints mirrored back",
    )  # fmt: skip
    parser.add_argument("--out", default="predictions", metavar="DIR", help="output folder (default: %(default)s)")
    parser.add_argument("--no-overlays", action="store_true", help="write the JSON only")


def _camera(args):
    from handgraph.camera import Intrinsics, camera_preset
    from handgraph.errors import HandgraphError

    given = [getattr(args, name) for name in ("fx", "fy", "cx", "cy")]
    if args.camera and any(value is not None for value in given):
        raise HandgraphError("give either --camera or --fx --fy --cx --cy, not both")
    if args.camera:
        return camera_preset(args.camera)
    if any(value is None for value in given):
        raise HandgraphError("the camera is unknown: give --camera NAME or all of --fx --fy --cx --cy")
    return Intrinsics(*given)


def _centres(args, count: int) -> list:
    """One centre (or None: localise) per frame, from --center or a --centers file."""
    from handgraph.errors import HandgraphError
    from handgraph.evaluation.result_files import read_joint_text

    if args.center:
        return [args.center] * count
    if not args.centers:
        return [None] * count
    centres = read_joint_text(args.centers, 1)[:, 0]  # one (x, y, z) per line, with the same checks
    if len(centres) < count:
        raise HandgraphError(f"{args.centers}: {len(centres)} centres for {count} frames; expected one line per frame")
    if len(centres) > count:
        print(f"{args.centers}: {len(centres)} centres for {count} frame(s); using the first {count}")
    return list(centres[:count])


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch

    from handgraph.camera import cube_side_px, xyz_to_uvd
    from handgraph.depth_images import depth_files, read_depth
    from handgraph.errors import HandgraphError
    from handgraph.files import atomic_write_text
    from handgraph.overlay import write_overlay
    from handgraph.predictor import Predictor

    if args.depth_scale <= 0:
        raise HandgraphError(f"--depth-scale must be positive, got {args.depth_scale}")
    if args.threads is not None and args.threads < 1:
        raise HandgraphError(f"--threads must be at least 1, got {args.threads}")
    camera = _camera(args)
    files = depth_files(args.input)
    centres = _centres(args, len(files))
    if args.threads and args.backend == "torch":
        torch.set_num_threads(args.threads)
    predictor = Predictor(args.checkpoint, backend=args.backend, threads=args.threads)
    out = Path(args.out)
    frames, found = [], 0
    for path, centre in zip(files, centres, strict=True):
        try:
            depth = read_depth(path, args.depth_scale)
            prediction = predictor(depth, camera, centre, left=args.left)
        except HandgraphError as error:
            message = str(error) if str(path) in str(error) else f"{path}: {error}"
            print(f"skipped {message}")
            frames.append({"file": str(path), "error": message})
            continue
        found += 1
        frames.append(
            {
                "file": str(path),
                "centre_xyz": prediction.centre_xyz.round(3).tolist(),
                "xyz": prediction.xyz.round(3).tolist(),
                "uvd": prediction.uvd.round(3).tolist(),
            }
        )
        if not args.no_overlays:
            centre_uvd = xyz_to_uvd(prediction.centre_xyz, camera)
            box = cube_side_px(camera, predictor.cube_mm, prediction.centre_xyz[2])
            overlay = out / f"{path.stem}_overlay.png"
            write_overlay(
                overlay,
                depth,
                prediction.uvd,
                centre_uvd,
                box,
                predictor.layout,
                f"{path.name}: {predictor.network.name}",
            )
            print(f"{path}: wrote {overlay}")
    result = {
        "checkpoint": str(predictor.network.source),
        "backend": args.backend,
        "model": predictor.network.name,
        "joints": list(predictor.layout.joint_names),
        "camera": camera.to_dict(),
        "frames": frames,
    }
    atomic_write_text(out / "predictions.json", json.dumps(result, indent=1) + "\n")
    print(f"wrote {out / 'predictions.json'}: hands in {found} of {len(files)} frame(s)")
    return 0 if found else 1
