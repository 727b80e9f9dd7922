"""Scene by scene family: the localiser against the blob, and the pose model raw and refined (issue 26).

1. The localiser on 300 fixed synthetic whole frames per family (``synth.scenes.SCENE_FAMILIES``: facing the
   camera, an arm over a desk, a hand on a person's arm, egocentric, holding an object, resting on a surface,
   no hand; stream ``localizer.train.TEST_SEED``): hands found (within 100 mm of a true hand), found within
   40 mm, false hands on frames without one, median centre error; the nearest-blob heuristic beside it on the
   same canvases.
2. The pose model on the synthetic test split and each family's (``synth.splits.FAMILY_SPLITS``), 300 frames
   each, crops centred on the true centre: the mean joint error raw and after Procrustes alignment (the best
   place, turn and scale: does the skeleton follow the pose?), over visible and hidden joints apart; then the
   same after the depth refinement of ``predict --fit`` (inverse kinematics to a valid hand, refined against
   the crop's depth); and the joint support (``predictor.joint_support``, which the tracker trusts at 0.5 and
   above): the share of frames it marks unsure and the error of sure and unsure frames.
3. Whole frames as a camera gives them: 100 frames per family (``--whole-frames``) rendered at 640 x 480
   pixels (focal length 480 px, an SR300's field of view) with the sensors' edge effects at full strength
   (``--edge-scale``: another strength, e.g. 0 for a sensor whose edges are clean),
   and run as ``predict`` runs them: the localiser on the frame resampled to its canvas, the blob on the frame
   itself, and the whole pipeline (localiser, pose model, the crop recentred on the predicted joints): its
   hand centre (the mean of the predicted joints) within 40 mm of the true one.

    .venv/bin/python bench/families.py [--quick] [--localizer DIR] [--checkpoint DIR] [--name NAME] [--only WHAT]

Writes bench/results/NAME.json and docs/figures/NAME.png (families by default).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from _common import ROOT, arguments, print_table, write_result

from handgraph.errors import HandgraphError
from handgraph.evaluation.model_eval import predict_split
from handgraph.fitting.frames import FrameCrop, refine_fits
from handgraph.fitting.result import fit_layout_joints
from handgraph.geometry.alignment import procrustes_aligned
from handgraph.geometry.camera import Intrinsics, uvd_to_xyz, xyz_to_uvd
from handgraph.geometry.skeleton import HAND
from handgraph.inference.localizing import Localizer
from handgraph.inference.predictor import Predictor, joint_support
from handgraph.localizer.metrics import centre_errors, localizer_metrics
from handgraph.localizer.train import TEST_SEED
from handgraph.models.checkpoint import load_model
from handgraph.models.contract import contract_of
from handgraph.preprocess.canvas import Canvas
from handgraph.preprocess.localize import localize_hand
from handgraph.synth.scenes import SCENE_FAMILIES, SceneConfig, generate_scenes, scene_family
from handgraph.synth.splits import FAMILY_SPLITS
from handgraph.weights import LOCALIZER, POSE_MODEL

MIN_SUPPORT = 0.5
"""The tracker's bar (``inference.tracking.HandTracker``): below it a frame's joints are not trusted."""
CLOSE_MM = 40.0
"""The held-out real frames' bar: the hand found within 40 mm."""


def _blob(depth: np.ndarray, camera: Intrinsics) -> tuple[np.ndarray, bool]:
    try:
        return localize_hand(depth.astype(np.float64), camera), True
    except HandgraphError:  # the heuristic's "no hand found"
        return np.zeros(3), False


def localizer_family(localizer: Localizer, family: str, count: int) -> tuple[dict, dict]:
    """The family's metrics for the localiser and the blob, and its first frames with their answers."""
    scenes = generate_scenes(scene_family(family, SceneConfig(canvas=localizer.canvas)), TEST_SEED, np.arange(count))
    camera = localizer.canvas.camera
    answers = np.concatenate([localizer.answer(scenes["depth"][k : k + 100]) for k in range(0, count, 100)])
    truth = scenes["hand_xyz"].astype(np.float64), scenes["hand_present"]
    blobs = [_blob(depth, camera) for depth in scenes["depth"]]
    learned = uvd_to_xyz(answers[:, :3].astype(np.float64), camera), answers[:, 3] >= localizer.config.threshold
    blob = np.array([found[0] for found in blobs]), np.array([found[1] for found in blobs])
    results = {name: _scored(*answer, *truth) for name, answer in (("localizer", learned), ("blob", blob))}
    blob_uv = [xyz_to_uvd(centre, camera)[:2] if found else None for centre, found in zip(*blob, strict=True)]
    shown = {
        "depth": scenes["depth"][:SHOWN],
        "truth_uvd": scenes["hand_uvd"][:SHOWN],
        "present": scenes["hand_present"][:SHOWN],
        "localizer_uv": answers[:SHOWN, :2],
        "localizer_found": learned[1][:SHOWN],
        "blob_uv": blob_uv[:SHOWN],
    }
    return results, shown


def _scored(centres: np.ndarray, is_hand: np.ndarray, hands: np.ndarray, present: np.ndarray) -> dict:
    """``localizer_metrics`` of the answers, and the share of frames with a hand found within ``CLOSE_MM``."""
    metrics = localizer_metrics(centres, is_hand, hands, present)
    with_hand = present.any(axis=1)
    close = is_hand & (centre_errors(centres, hands, present) <= CLOSE_MM)
    metrics["within_40mm_percent"] = 100.0 * close[with_hand].sum() / max(1, with_hand.sum())
    return metrics


def _print_scored(scored: dict[str, dict[str, dict]]) -> None:
    rows = [
        [family, name, m["found_percent"], m["within_40mm_percent"], m["false_hand_percent"], m["median_error_mm"]]
        for family, result in scored.items()
        for name, m in result.items()
    ]
    print_table(["family", "", "found %", "within 40 mm %", "false hands %", "median error mm"], rows)


SHOWN = 6
"""Frames per family in the figure."""
FRAME = Canvas(focal_px=480.0, width=640, height=480)
"""The camera whole frames are rendered on in part 3: a 640 x 480 depth camera with an SR300's field of view."""
FULL_EDGES = 1.0
"""Edge effects at full strength: the frame is at the sensor's own resolution (``SceneConfig.edge_scale``)."""
CHUNK = 50
"""Frames rendered at once (a 640 x 480 frame and its two hand layers take 5.5 MB)."""


def whole_frame_family(predictor: Predictor, family: str, count: int, edges: float) -> dict:
    """Part 3 for one family: the localiser, the blob and the whole pipeline on frames rendered at 640 x 480
    with edge effects at strength ``edges``."""
    config = scene_family(family, SceneConfig(canvas=FRAME, edge_scale=(edges, edges)))
    camera = FRAME.camera
    centres = {name: np.zeros((count, 3)) for name in ("localizer", "blob", "pipeline")}
    said = {name: np.zeros(count, dtype=bool) for name in centres}
    hands, present = np.zeros((count, 2, 3)), np.zeros((count, 2), dtype=bool)
    for start in range(0, count, CHUNK):
        scenes = generate_scenes(config, TEST_SEED, np.arange(start, min(count, start + CHUNK)))
        for offset, depth in enumerate(scenes["depth"]):
            k = start + offset
            hands[k], present[k] = scenes["hand_xyz"][offset], scenes["hand_present"][offset]
            centres["blob"][k], said["blob"][k] = _blob(depth, camera)
            detection = predictor.locate(depth, camera)
            if detection.found:
                centres["localizer"][k], said["localizer"][k] = detection.centre_xyz, True
                try:
                    prediction = predictor(depth, camera, centre_xyz=detection.centre_xyz, refine=True)
                except HandgraphError:  # an empty crop: predict says so instead of answering
                    continue
                centres["pipeline"][k], said["pipeline"][k] = prediction.xyz.mean(axis=0), True
    return {name: _scored(centre, said[name], hands, present) for name, centre in centres.items()}


def whole_frames(args, count: int) -> dict:
    predictor = Predictor(args.checkpoint, localizer=args.localizer)
    framed = {family: whole_frame_family(predictor, family, count, args.edge_scale) for family in SCENE_FAMILIES}
    print(f"whole 640 x 480 frames, edge effects at {args.edge_scale:g} (localiser on the resampled canvas; "
          "pipeline: localiser, pose, recentred)")  # fmt: skip
    _print_scored(framed)
    return framed


def families_figure(shown: dict[str, dict], path: Path) -> None:
    """One row per family: canvases with the true hand centres (green +), the localiser's answer (red x, when it
    says "a hand") and the blob's (magenta o)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from handgraph.io.files import atomic_writer
    from handgraph.io.overlay import depth_display

    figure, grid = plt.subplots(len(shown), SHOWN, figsize=(2.0 * SHOWN, 1.9 * len(shown)), squeeze=False)
    for row, (family, frames) in enumerate(shown.items()):
        for column in range(SHOWN):
            axes = grid[row, column]
            axes.set_xticks([])
            axes.set_yticks([])
            depth = frames["depth"][column].astype(np.float64)
            near = depth[depth > 0].min() if (depth > 0).any() else 0.0
            axes.imshow(depth_display(depth, near, near + 900.0), cmap="gray", vmin=0, vmax=1)
            for (u, v, _), present in zip(frames["truth_uvd"][column], frames["present"][column], strict=True):
                if present:
                    axes.plot(u, v, "+", color="#00ff00", markersize=10, markeredgewidth=2)
            if frames["localizer_found"][column]:
                axes.plot(*frames["localizer_uv"][column], "x", color="red", markersize=9, markeredgewidth=2)
            if frames["blob_uv"][column] is not None:
                axes.plot(*frames["blob_uv"][column], "o", color="#ff00ff", markersize=8, fillstyle="none")
            if column == 0:
                axes.set_ylabel(family, fontsize=9)
    figure.suptitle("true hands (green +), learned localiser (red x), nearest blob (magenta o)", fontsize=10)
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=80)
    plt.close(figure)


def _errors(predicted: np.ndarray, truth: np.ndarray, visible: np.ndarray) -> dict:
    raw = np.linalg.norm(predicted - truth, axis=-1)  # (N, 21)
    aligned = np.linalg.norm(procrustes_aligned(predicted, truth) - truth, axis=-1)
    return {
        "raw_mm": float(raw.mean()),
        "procrustes_mm": float(aligned.mean()),
        "raw_visible_mm": float(raw[visible].mean()) if visible.any() else float("nan"),
        "raw_hidden_mm": float(raw[~visible].mean()) if (~visible).any() else float("nan"),
        "procrustes_visible_mm": float(aligned[visible].mean()) if visible.any() else float("nan"),
        "procrustes_hidden_mm": float(aligned[~visible].mean()) if (~visible).any() else float("nan"),
    }


def pose_family(model, cube_mm: float, split: str, count: int) -> dict:
    result = predict_split(model, split, count=count, cube_mm=cube_mm)
    truth, raw, visible = result["xyz"].astype(np.float64), result["predicted_xyz"], result["visible"].astype(bool)
    fits = fit_layout_joints(raw, HAND)

    def crop_of(k: int) -> FrameCrop:
        fx, fy, cx, cy = result["intrinsics"][k]
        size = result["depth_mm"].shape[-1]
        camera = Intrinsics(fx=fx, fy=fy, cx=cx, cy=cy, width=size, height=size)
        return FrameCrop(result["depth_mm"][k].astype(np.float64), camera, result["centre_xyz"][k], cube_mm)

    refined = refine_fits(fits, crop_of, progress=False).canonical_xyz
    support = np.array([
        joint_support(result["depth_mm"][k].astype(np.float64), xyz_to_uvd(raw[k], crop_of(k).camera))
        for k in range(len(raw))
    ])  # fmt: skip
    frame_error = np.linalg.norm(raw - truth, axis=-1).mean(axis=1)
    sure = support >= MIN_SUPPORT
    return {
        "frames": len(truth),
        "hidden_joint_share": float(1.0 - visible.mean()),
        "network": _errors(raw, truth, visible),
        "refined": _errors(refined, truth, visible),
        "unsure_share": float(1.0 - sure.mean()),
        "sure_mm": float(frame_error[sure].mean()) if sure.any() else float("nan"),
        "unsure_mm": float(frame_error[~sure].mean()) if (~sure).any() else float("nan"),
    }


def localize(args, count: int) -> dict:
    localizer = Localizer(args.localizer)
    both = {family: localizer_family(localizer, family, count) for family in SCENE_FAMILIES}
    figure = ROOT / "docs" / "figures" / (f"{args.name}.png" if not args.quick else "quick_families.png")
    families_figure({family: shown for family, (_, shown) in both.items()}, figure)
    print(f"wrote {figure.relative_to(ROOT)}")
    located = {family: result for family, (result, _) in both.items()}
    _print_scored(located)
    return located


def pose(args, count: int) -> dict:
    model, meta = load_model(args.checkpoint)
    cube_mm = contract_of(meta, args.checkpoint).cube_mm
    posed = {split: pose_family(model, cube_mm, split, count) for split in ("test", *FAMILY_SPLITS)}
    rows = []
    for split, result in posed.items():
        for stage in ("network", "refined"):
            e = result[stage]
            rows.append([split, stage, e["raw_mm"], e["procrustes_mm"], e["raw_visible_mm"], e["raw_hidden_mm"],
                         e["procrustes_visible_mm"], e["procrustes_hidden_mm"]])  # fmt: skip
    print_table(["split", "", "mean mm", "Procrustes mm", "visible", "hidden", "PA visible", "PA hidden"], rows)
    print_table(
        ["split", "hidden joints %", "unsure frames %", "sure frames mm", "unsure frames mm"],
        [[split, 100 * r["hidden_joint_share"], 100 * r["unsure_share"], r["sure_mm"], r["unsure_mm"]]
         for split, r in posed.items()],
    )  # fmt: skip
    return posed


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--localizer", default=str(LOCALIZER), help="localiser folder (default: the shipped one)")
    parser.add_argument("--checkpoint", default=str(POSE_MODEL), help="pose model (default: the shipped one)")
    parser.add_argument("--name", default="families", help="result file and figure name (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=300, help="frames per family (default: %(default)s)")
    parser.add_argument(
        "--whole-frames", type=int, default=100, help="640 x 480 frames per family in part 3 (default: %(default)s)"
    )
    parser.add_argument(
        "--edge-scale", type=float, default=FULL_EDGES,
        help="strength of the sensors' edge effects in part 3's frames, 0 to 1 (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--only",
        choices=("localizer", "pose", "frames"),
        help="score only the localiser, the pose model or whole frames",
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    count = 24 if args.quick else args.frames
    located = localize(args, count) if args.only in (None, "localizer") else {}
    posed = pose(args, count) if args.only in (None, "pose") else {}
    framed = whole_frames(args, 12 if args.quick else args.whole_frames) if args.only in (None, "frames") else {}
    write_result(
        args.name,
        args.quick,
        {
            "frames_per_family": count,
            "whole_frames_per_family": 12 if args.quick else args.whole_frames,
            "localizer": _relative(args.localizer) if args.only != "pose" else None,
            "checkpoint": _relative(args.checkpoint) if args.only != "localizer" else None,
            "whole_frames": {"camera": FRAME.to_dict(), "edge_scale": args.edge_scale},
            "scene_families": SCENE_FAMILIES,
            "pose_splits": {name: split.config.to_dict() for name, split in FAMILY_SPLITS.items()},
        },
        {"localizer": located, "pose": posed, "whole_frames": framed},
    )


def _relative(path: str) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


if __name__ == "__main__":
    main()
