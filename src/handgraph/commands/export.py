"""``handgraph export``: a checkpoint to an ONNX file that ONNX Runtime (or any ONNX runtime) can run."""

from __future__ import annotations

import argparse
import textwrap

NAME = "export"
HELP = "export a checkpoint to ONNX (dynamic batch) and check it against PyTorch"
DESCRIPTION = textwrap.dedent(
    """\
    Export a trained model with torch's ONNX exporter (torch.export based). The graph takes
    depth (B, 1, S, S), the normalised crop, and crop (B, 6) = fx, fy, cx, cy, centre_z, cube_mm, and returns
    uvd (B, J, 3) in crop pixels and mm and xyz (B, J, 3) in mm; B is dynamic. The checkpoint's model config,
    step and crop cube are stored in the file's metadata, so 'handgraph predict --backend onnx' needs nothing
    else. After writing, ONNX Runtime is run on random inputs and its xyz compared with PyTorch's.

    With --localizer the hand localiser is exported instead: depth (B, 1, H', W'), the frame on its canvas in
    mm, to centre (B, 4) = canvas u, v, depth mm and score, its config (canvas, threshold) in the metadata."""
)
EPILOG = textwrap.dedent(
    """\
    examples:
      handgraph export --onnx runs/hgt.onnx
      handgraph export --checkpoint runs/demo/model --onnx runs/demo/model/model.onnx
      handgraph predict --backend onnx --checkpoint runs/hgt.onnx --input frame.png --camera nyu
      handgraph export --localizer checkpoints/localizer --onnx checkpoints/localizer/localizer.onnx"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", metavar="DIR", help="checkpoint folder (default: the shipped checkpoints/hgt-synth)"
    )
    parser.add_argument(
        "--localizer", nargs="?", const="", metavar="DIR",
        help="export a hand localiser checkpoint folder instead (default: the shipped checkpoints/localizer)",
    )  # fmt: skip
    parser.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    parser.add_argument("--opset", type=int, metavar="N", help="ONNX opset (default: the exporter's)")
    parser.add_argument("--no-check", action="store_true", help="skip the comparison with PyTorch")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from handgraph.errors import HandgraphError
    from handgraph.inference.export import compare_with_onnx, export_onnx
    from handgraph.models.checkpoint import load_model
    from handgraph.models.contract import contract_of
    from handgraph.weights import POSE_MODEL, shipped

    path = Path(args.onnx)
    if path.suffix != ".onnx":
        raise HandgraphError(f"--onnx {path}: expected a file name ending in .onnx")
    if args.localizer is not None:
        return _export_localizer(Path(args.localizer) if args.localizer else None, path, args.no_check)
    checkpoint = Path(args.checkpoint) if args.checkpoint else shipped(POSE_MODEL)
    model, meta = load_model(checkpoint)
    metadata = {
        "format": "handgraph-onnx",
        "version": 1,
        "model": meta["model"],
        "contract": contract_of(meta, checkpoint / "checkpoint.json").to_dict(),
        "step": meta.get("step"),
        "metrics": meta.get("metrics"),
        "checkpoint": str(checkpoint),
    }
    export_onnx(model, path, metadata, args.opset)
    print(f"wrote {path} ({model.config.name}, step {meta.get('step')}, {path.stat().st_size / 1e6:.1f} MB)")
    if args.no_check:
        return 0
    agreement = compare_with_onnx(model, path)
    print(
        f"ONNX Runtime vs PyTorch on 4 random crops: largest xyz difference {agreement.difference_mm:.2e} mm "
        f"(float32 rounding allows {agreement.bound_mm:.1e})"
    )
    if not agreement.holds:
        raise HandgraphError(
            f"{path}: ONNX Runtime differs from PyTorch by {agreement.difference_mm:.3g} mm, more than float32 "
            f"rounding allows ({agreement.bound_mm:.2g} mm)"
        )
    return 0


def _export_localizer(folder, path, skip_check: bool) -> int:
    import numpy as np

    from handgraph.errors import HandgraphError
    from handgraph.geometry.numerics import within
    from handgraph.inference.export import export_localizer
    from handgraph.inference.localizing import Localizer, agreement_bound
    from handgraph.localizer.network import load_localizer_network
    from handgraph.weights import LOCALIZER, shipped

    folder = folder or shipped(LOCALIZER)
    network, meta = load_localizer_network(folder)
    export_localizer(network, path)
    print(f"wrote {path} (hand localizer, step {meta.get('step')}, {path.stat().st_size / 1e6:.2f} MB)")
    if skip_check:
        return 0
    canvas = network.config.canvas
    rng = np.random.default_rng(0)
    shape = (4, canvas.height, canvas.width)
    canvases = rng.uniform(300.0, 2000.0, shape) * (rng.uniform(size=shape) > 0.2)  # with holes
    expected, got = Localizer(folder).run_canvas(canvases), Localizer(path, "onnx").run_canvas(canvases)
    holds, ratio = within(got, expected, agreement_bound(expected))
    difference = np.abs(got - expected).max(axis=0)
    print(
        "ONNX Runtime vs PyTorch on 4 random canvases: largest difference in u, v (canvas pixels), depth (mm) "
        f"and score {', '.join(f'{value:.1e}' for value in difference)}, {ratio:.2f} of what float32 rounding allows"
    )
    if not holds:
        raise HandgraphError(
            f"{path}: ONNX Runtime differs from PyTorch by more than float32 rounding allows ({ratio:.3g} times)"
        )
    return 0
