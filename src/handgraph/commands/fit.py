"""``handgraph fit``: the kinematic hand fitted to joints from a file, any method's."""

from __future__ import annotations

import argparse
import textwrap

NAME = "fit"
HELP = "fit the kinematic hand to joints from a file: joint angles, a valid hand, its shape and a mesh per frame"
DESCRIPTION = textwrap.dedent(
    """\
    Fit handgraph's kinematic hand (26 degrees of freedom within anatomical joint limits, a global scale and 15
    bone lengths) to the joints of every frame of a file, by Levenberg-Marquardt from an analytic start, and
    write OUT/fit.json: per frame the joint angles in degrees named per finger joint, the fitted joints (a
    valid hand: constant bones, every angle within its limit), the residual per joint and the shape. Meshes
    (the closed surface of the fitted hand's round cones) and 3D views are written for the first frames.

    Inputs: a predictions.json of 'handgraph predict' (its layout, camera and tracking are read from it; with
    --refine each fit is also moved against the depth of its frame, read again from the file it names), or a
    result file of any method in the community format (.txt, one line of J x 3 numbers per frame, or .mat)
    with --dataset naming the protocol (joints, camera for uvd).

    A sequence (a tracked predictions.json, or --sequence) gets one shape for all of its frames (fitted
    once, then the pose of each frame); for a dataset's result file, one per test sequence of its protocol."""
)
EPILOG = textwrap.dedent(
    """\
    examples:
      handgraph predict --input ../shared/data/real/sr305/20210326-231615 --camera sr305 --depth-scale 0.125 \\
          --out runs/sr305 && handgraph fit --input runs/sr305/predictions.json --refine --out runs/sr305_fit
      handgraph fit --input ../shared/data/eval/results/nyu/CVPR18_NYU_V2V_PoseNet.txt --dataset nyu \\
          --sequence --out runs/v2v_fit

    Layouts need the wrist (ICVL's 16 joints have none, and cannot be fitted). A camera whose fx fy < 0 (NYU's
    y points up) gives a left-handed frame: the model is mirrored for it, as for --left."""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.datasets.protocol import PROTOCOLS

    parser.add_argument("--input", required=True, metavar="FILE", help="a predictions.json, or a result file")
    parser.add_argument(
        "--dataset", choices=list(PROTOCOLS),
        help="for a result file: the dataset whose protocol it follows (its joints and its camera)",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=("uvd", "xyz"), default="uvd", dest="joint_format",
        help="coordinates in a text result file (default: %(default)s; .mat files hold xyz)",
    )  # fmt: skip
    parser.add_argument("--mat-key", metavar="KEY", help="the array to read from a .mat file with several")
    parser.add_argument("--left", action="store_true", help="the joints are of a left hand")
    parser.add_argument(
        "--sequence", action=argparse.BooleanOptionalAction, default=None,
        help="one hand shape for all frames (default: for a tracked predictions.json)",
    )  # fmt: skip
    parser.add_argument(
        "--refine", action="store_true",
        help="predictions.json only: refine each fit against the depth of its frame (read again from its file)",
    )  # fmt: skip
    parser.add_argument(
        "--meshes",
        type=int,
        default=20,
        metavar="N",
        help="write the meshes of the first N frames (default: %(default)s)",
    )
    parser.add_argument(
        "--views", type=int, default=4, metavar="N",
        help="draw the first N frames' fits in 3D with their angles, OUT/<frame>_fit.png (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--mesh-format", choices=("ply", "obj", "glb"), default="ply", help="mesh file type")
    parser.add_argument("--out", default="fit", metavar="DIR", help="output folder (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from handgraph.errors import HandgraphError
    from handgraph.fitting.inputs import read_fit_input
    from handgraph.io.files import atomic_write_text

    for flag in ("meshes", "views"):
        if getattr(args, flag) < 0:
            raise HandgraphError(f"--{flag} must be 0 or more, got {getattr(args, flag)}")
    if args.refine and Path(args.input).suffix.lower() != ".json":
        raise HandgraphError("--refine needs a predictions.json, whose frames name their depth files")
    source = read_fit_input(args.input, args.dataset, args.joint_format, args.mat_key, args.left)
    sequence = source.tracked if args.sequence is None else args.sequence
    fits = _fit(source, sequence, args.refine)
    out = Path(args.out)
    frames = _write_meshes_and_views(args, source, fits, out)
    result = {
        "input": str(args.input),
        "layout": source.layout.name,
        "joints": list(source.layout.joint_names),
        "camera": None if source.camera is None else source.camera.to_dict(),
        "sequence": bool(sequence),
        "refined": bool(args.refine),
        "frames": frames,
    }
    atomic_write_text(out / "fit.json", json.dumps(result, indent=1) + "\n")
    residual = fits.residual_mm
    print(
        f"wrote {out / 'fit.json'}: {len(source.names)} frame(s) fitted to the {source.layout.name} layout, mean "
        f"residual {residual.mean():.2f} mm (median frame {float(_median_frame(residual)):.2f} mm)"
    )
    return 0


def _median_frame(residual):
    import numpy as np

    return np.median(residual.mean(axis=1))


def _fit(source, sequence: bool, refine: bool):
    """Inverse kinematics of every frame (one shape per sequence where asked), then the depth refinement."""
    import numpy as np
    import torch

    from handgraph.fitting.frames import refine_fits
    from handgraph.fitting.result import HandFits, fit_layout_joints

    pieces = []
    for start, stop in source.sequences if sequence else [(0, len(source.names))]:
        joints = source.joints[start:stop]
        pieces.append(fit_layout_joints(joints, source.layout, source.mirrored, sequence, source.path, progress=True))
    fits = HandFits(
        torch.cat([piece.x for piece in pieces]), torch.cat([piece.mirrored for piece in pieces]), source.layout,
        source.joints, np.zeros(len(source.names), dtype=bool),
    )  # fmt: skip
    return refine_fits(fits, source.crops) if refine else fits


def _write_meshes_and_views(args, source, fits, out) -> list[dict]:
    """fit.json's frames; the meshes and 3D views of the first frames as asked."""
    from handgraph.fitting.frames import write_meshes
    from handgraph.io.depth_images import frame_stem

    count = len(source.names)
    stems = [frame_stem(str(name) if source.key == "file" else f"{source.key}_{name:06d}") for name in source.names]
    paths = [out / f"{stem}_hand.{args.mesh_format}" if k < args.meshes else None for k, stem in enumerate(stems)]
    written = write_meshes(fits, paths, progress=min(count, args.meshes) > 16)
    frames = []
    for k, name in enumerate(source.names):
        mesh = None if written[k] is None else paths[k].name
        frames.append({source.key: name, "fit": fits.record(k, mesh=mesh)})
        if k < args.views:
            _write_view(out / f"{stems[k]}_fit.png", fits, k, source, name)
    return frames


def _write_view(path, fits, k: int, source, name: str) -> None:
    import numpy as np

    from handgraph.fitting.mesh import hand_mesh
    from handgraph.io.overlay import FitDrawing, write_fit_view

    mesh = hand_mesh(fits.x[k], bool(fits.mirrored[k]), spacing_mm=4.0)
    fy = -1.0 if source.camera is not None and source.camera.fy < 0 else 1.0
    drawing = FitDrawing(
        uvd=np.zeros_like(fits.xyz[k]), xyz=fits.xyz[k], vertices=np.asarray(mesh.vertices),
        faces=np.asarray(mesh.faces), fx=1.0, fy=fy, cx=0.0, cy=0.0, angles_deg=fits.record(k)["angles_deg"],
    )  # fmt: skip
    write_fit_view(path, drawing, fits.layout, f"{name}: fitted hand, residual {fits.residual_mm[k].mean():.1f} mm")
    print(f"wrote {path}")
