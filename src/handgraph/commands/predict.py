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
    from handgraph.geometry.camera import CAMERA_PRESETS

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
        "--depth-scale", type=float, metavar="MM_PER_UNIT",
        help="mm per stored depth unit (default: 1, or a recording's own from its .json)",
    )  # fmt: skip
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
        "--min-cutoff", type=float, default=1.0, metavar="HZ",
        help="One Euro filter: cut-off frequency of a still hand; lower smooths more (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--beta", type=float, default=0.01, metavar="S_PER_MM",
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


def _camera(args):
    from handgraph.errors import HandgraphError
    from handgraph.geometry.camera import Intrinsics, camera_preset
    from handgraph.inference.live import read_recording_info

    given = [getattr(args, name) for name in ("fx", "fy", "cx", "cy")]
    if args.camera and any(value is not None for value in given):
        raise HandgraphError("give either --camera or --fx --fy --cx --cy, not both")
    if args.camera:
        return camera_preset(args.camera)
    if any(value is None for value in given):
        recording = read_recording_info(args.input)
        if recording is not None:  # a recording of 'handgraph live' knows its camera
            return recording[0]
        raise HandgraphError("the camera is unknown: give --camera NAME or all of --fx --fy --cx --cy")
    return Intrinsics(*given)


def _fps(args) -> float:
    return _given_or_recorded(args, args.fps, "--fps", 2, 30.0)


def _depth_scale(args) -> float:
    return _given_or_recorded(args, args.depth_scale, "--depth-scale", 1, 1.0)


def _given_or_recorded(args, given: float | None, flag: str, field: int, default: float) -> float:
    """A positive value given on the command line, else the recording's own (field ``field`` of
    ``live.read_recording_info``), else ``default``."""
    from handgraph.errors import HandgraphError
    from handgraph.inference.live import read_recording_info

    if given is None:
        recording = read_recording_info(args.input)
        return recording[field] if recording is not None else default
    if given <= 0:
        raise HandgraphError(f"{flag} must be positive, got {given}")
    return given


def _centres(args, names: list[str]) -> list:
    """One centre (or None: localise) per frame, from --center or a --centers file. NYU frames (files named
    ``depth_1_0000005.png``) take the line of their number from a file of more lines, such as the test set's
    8252 refined centres; other frames the lines in order."""
    from handgraph.datasets.nyu import frame_index
    from handgraph.errors import HandgraphError
    from handgraph.io.result_files import read_joint_text

    count = len(names)
    if args.center:
        return [args.center] * count
    if not args.centers:
        return [None] * count
    centres = read_joint_text(args.centers, 1)[:, 0]  # one (x, y, z) per line, with the same checks
    numbers = [frame_index(name) for name in names]
    if len(centres) > count and None not in numbers:
        if max(numbers) >= len(centres):
            last = names[numbers.index(max(numbers))]
            raise HandgraphError(f"{args.centers}: {len(centres)} centres, but {last} is NYU frame "
                                 f"{max(numbers) + 1}; expected a line for each frame's number")  # fmt: skip
        print(f"{args.centers}: {len(centres)} centres; each NYU frame takes the line of its number")
        return [centres[number] for number in numbers]
    if len(centres) < count:
        raise HandgraphError(f"{args.centers}: {len(centres)} centres for {count} frames; expected one line per frame")
    if len(centres) > count:
        print(f"{args.centers}: {len(centres)} centres for {count} frame(s); using the first {count}")
    return list(centres[:count])


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    import torch

    from handgraph.errors import HandgraphError
    from handgraph.inference.predictor import Predictor
    from handgraph.inference.tracking import HandTracker, OneEuroFilter
    from handgraph.io.depth_images import depth_files, frame_readers
    from handgraph.io.files import atomic_write_text

    if args.threads is not None and args.threads < 1:
        raise HandgraphError(f"--threads must be at least 1, got {args.threads}")
    camera, fps = _camera(args), _fps(args)
    readers = frame_readers(depth_files(args.input), _depth_scale(args))
    centres = _centres(args, [name for name, _ in readers])
    if args.threads and args.backend == "torch":
        torch.set_num_threads(args.threads)
    predictor = Predictor(args.checkpoint, backend=args.backend, threads=args.threads, localizer=args.localizer)
    if args.fit:
        from handgraph.fitting.targets import check_fittable

        check_fittable(predictor.layout, f"--fit with {predictor.network.source}")
    sequence = len(readers) > 1 and not args.no_track
    tracker = HandTracker(predictor, OneEuroFilter(args.min_cutoff, args.beta) if args.smooth and sequence else None)
    frames, tally, busy, hands = _predict_frames(args, readers, centres, camera, fps, tracker, sequence)
    if tally["error"] == len(readers):  # nothing to write: the error is the answer
        first = frames[0]["error"]
        raise HandgraphError(first if len(readers) == 1 else f"no frame of {args.input} could be read; {first}")
    if args.fit and hands:
        _fit_hands(args, readers, camera, predictor, frames, hands, sequence)
    result = {
        "checkpoint": str(predictor.network.source),
        "backend": args.backend,
        "model": predictor.network.name,
        "localizer": "blob" if predictor.localizer is None else str(predictor.localizer.source),
        "localizer_backend": None if predictor.localizer is None else predictor.localizer.backend,
        "joints": list(predictor.layout.joint_names),
        "camera": camera.to_dict(),
        "depth_scale": _depth_scale(args),
        "cube_mm": predictor.cube_mm,
        "left": bool(args.left),
        "tracking": sequence,
        "smoothing": {"min_cutoff_hz": args.min_cutoff, "beta": args.beta, "fps": fps} if args.smooth else None,
        "frames": frames,
    }
    out = Path(args.out)
    atomic_write_text(out / "predictions.json", json.dumps(result, indent=1) + "\n")
    rate = (len(readers) - tally["error"]) / busy if busy > 0 else float("nan")
    print(
        f"wrote {out / 'predictions.json'}: hands in {tally['hand']} of {len(readers)} frame(s), no hand in "
        f"{tally['no hand']}, errors in {tally['error']}; {rate:.1f} frames/s (localising, both passes or "
        f"tracking, no file reading or drawing)"
    )
    return 0


def _predict_frames(args, readers, centres, camera, fps: float, tracker, sequence: bool):
    """Every frame through the tracker: (records for predictions.json, counts, seconds spent predicting, and
    the hands found as (position in the records, frame index, tracked result))."""
    import time
    from pathlib import Path

    from handgraph.errors import HandgraphError
    from handgraph.io.depth_images import frame_stem

    frames, tally, busy, hands = [], {"hand": 0, "no hand": 0, "error": 0}, 0.0, []
    for index, ((name, read), centre) in enumerate(zip(readers, centres, strict=True)):
        try:
            depth = read()
            started = time.perf_counter()
            tracked = tracker(depth, camera, index / fps, centre, left=args.left)
            busy += time.perf_counter() - started
        except HandgraphError as error:
            message = str(error) if name in str(error) else f"{name}: {error}"
            if len(readers) > 1:
                print(f"skipped {message}")
            tracker.reset()
            frames.append({"file": name, "hand": False, "error": message})
            tally["error"] += 1
            continue
        if not sequence:
            tracker.reset()  # unrelated frames: every one is localised afresh
        frames.append(frame_record(name, tracked))
        tally["hand" if tracked.prediction is not None else "no hand"] += 1
        if tracked.prediction is not None:
            hands.append((len(frames) - 1, index, tracked))
        if tracked.prediction is None:
            print(f"{name}: no hand")
        elif not args.no_overlays and not args.fit:  # with --fit the overlays come after the fit
            overlay = Path(args.out) / f"{frame_stem(name)}_overlay.png"
            _write_overlay(overlay, depth, camera, tracked, tracker.predictor)
            print(f"{name}: wrote {overlay}")
    return frames, tally, busy, hands


def _fit_hands(args, readers, camera, predictor, frames: list[dict], hands: list, sequence: bool) -> None:
    """The kinematic fit of every predicted hand, in place in ``frames``, with its mesh and overlay."""
    import time
    from pathlib import Path

    import numpy as np

    from handgraph.fitting.frames import FrameCrop, refine_fits, write_meshes
    from handgraph.fitting.mesh import hand_mesh
    from handgraph.fitting.result import fit_layout_joints, mirrored_model
    from handgraph.io.depth_images import frame_stem

    started = time.perf_counter()
    joints = np.stack([tracked.prediction.xyz for _, _, tracked in hands])
    mirrored = mirrored_model(args.left, camera.fx, camera.fy)
    fits = fit_layout_joints(joints, predictor.layout, mirrored, sequence, source="the predicted joints")
    solved = time.perf_counter()
    if not args.no_refine:

        def crop_of(k: int) -> FrameCrop:
            _, reader, tracked = hands[k]
            return FrameCrop(readers[reader][1](), camera, tracked.prediction.centre_xyz, predictor.cube_mm)

        fits = refine_fits(fits, crop_of, progress=len(hands) > 16)
    refined = time.perf_counter()
    out = Path(args.out)
    names = [readers[reader][0] for _, reader, _ in hands]
    paths = [out / f"{frame_stem(name)}_hand.{args.mesh_format}" for name in names]
    write_meshes(fits, paths, progress=len(hands) > 16)
    meshed = time.perf_counter()
    for k, (position, reader, tracked) in enumerate(hands):
        frames[position]["fit"] = fits.record(k, mesh=paths[k].name)
        if not args.no_overlays:
            overlay = out / f"{frame_stem(names[k])}_overlay.png"
            drawing = _fit_drawing(fits, k, camera, hand_mesh(fits.x[k], bool(fits.mirrored[k]), spacing_mm=4.0))
            _write_overlay(overlay, readers[reader][1](), camera, tracked, predictor, drawing)
            print(f"{names[k]}: wrote {overlay}")
    count = len(hands)
    print(
        f"fitted {count} hand(s): inverse kinematics {1000 * (solved - started) / count:.1f} ms/hand"
        + ("" if args.no_refine else f", refinement against the depth {1000 * (refined - solved) / count:.0f} ms/frame")
        + f", meshes {1000 * (meshed - refined) / count:.0f} ms/hand ({args.mesh_format})"
    )


def _fit_drawing(fits, k: int, camera, mesh):
    import numpy as np

    from handgraph.geometry.camera import xyz_to_uvd
    from handgraph.io.overlay import FitDrawing

    xyz = fits.xyz[k]
    return FitDrawing(
        uvd=xyz_to_uvd(xyz, camera), xyz=xyz, vertices=np.asarray(mesh.vertices), faces=np.asarray(mesh.faces),
        fx=camera.fx, fy=camera.fy, cx=camera.cx, cy=camera.cy, angles_deg=fits.record(k)["angles_deg"],
    )  # fmt: skip


def frame_record(name: str, tracked) -> dict:
    """One frame of predictions.json: its joints, or "hand": false."""
    prediction = tracked.prediction
    if prediction is None:
        return {"file": name, "hand": False}
    record = {
        "file": name,
        "hand": True,
        "found_by": tracked.source,
        "centre_xyz": prediction.centre_xyz.round(3).tolist(),
        "support": round(prediction.support, 3),
        "xyz": prediction.xyz.round(3).tolist(),
        "uvd": prediction.uvd.round(3).tolist(),
    }
    if prediction.score is not None:
        record["localizer_score"] = round(prediction.score, 4)
    return record


def _write_overlay(path, depth, camera, tracked, predictor, fit=None) -> None:
    from handgraph.geometry.camera import cube_side_px, xyz_to_uvd
    from handgraph.io.overlay import write_overlay

    prediction = tracked.prediction
    centre_uvd = xyz_to_uvd(prediction.centre_xyz, camera)
    box = cube_side_px(camera, predictor.cube_mm, prediction.centre_xyz[2])
    title = f"{path.stem.removesuffix('_overlay')}: {predictor.network.name}, crop {tracked.source}"
    write_overlay(path, depth, prediction.uvd, centre_uvd, box, predictor.layout, title, fit)
