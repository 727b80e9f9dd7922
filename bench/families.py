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
   the crop's depth).

    .venv/bin/python bench/families.py [--quick] [--localizer DIR] [--checkpoint DIR] [--name NAME]

Writes bench/results/NAME.json (families.json by default).
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
from handgraph.geometry.camera import Intrinsics, uvd_to_xyz
from handgraph.geometry.skeleton import HAND
from handgraph.inference.localizing import Localizer
from handgraph.localizer.metrics import centre_errors, localizer_metrics
from handgraph.localizer.train import TEST_SEED
from handgraph.models.checkpoint import load_model
from handgraph.models.contract import contract_of
from handgraph.preprocess.localize import localize_hand
from handgraph.synth.scenes import SCENE_FAMILIES, SceneConfig, generate_scenes, scene_family
from handgraph.synth.splits import FAMILY_SPLITS
from handgraph.weights import LOCALIZER, POSE_MODEL

CLOSE_MM = 40.0
"""The held-out real frames' bar: the hand found within 40 mm."""


def _blob(depth: np.ndarray, camera: Intrinsics) -> tuple[np.ndarray, bool]:
    try:
        return localize_hand(depth.astype(np.float64), camera), True
    except HandgraphError:  # the heuristic's "no hand found"
        return np.zeros(3), False


def localizer_family(localizer: Localizer, family: str, count: int) -> dict:
    scenes = generate_scenes(scene_family(family, SceneConfig(canvas=localizer.canvas)), TEST_SEED, np.arange(count))
    camera = localizer.canvas.camera
    answers = np.concatenate([localizer.answer(scenes["depth"][k : k + 100]) for k in range(0, count, 100)])
    truth = scenes["hand_xyz"].astype(np.float64), scenes["hand_present"]
    results = {}
    blobs = [_blob(depth, camera) for depth in scenes["depth"]]
    for name, centres, is_hand in (
        (
            "localizer",
            uvd_to_xyz(answers[:, :3].astype(np.float64), camera),
            answers[:, 3] >= localizer.config.threshold,
        ),
        ("blob", np.array([blob[0] for blob in blobs]), np.array([blob[1] for blob in blobs])),
    ):
        metrics = localizer_metrics(centres, is_hand, *truth)
        with_hand = truth[1].any(axis=1)
        close = is_hand & (centre_errors(centres, *truth) <= CLOSE_MM)
        metrics["within_40mm_percent"] = 100.0 * close[with_hand].sum() / max(1, with_hand.sum())
        results[name] = metrics
    return results


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
    return {
        "frames": len(truth),
        "hidden_joint_share": float(1.0 - visible.mean()),
        "network": _errors(raw, truth, visible),
        "refined": _errors(refined, truth, visible),
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--localizer", default=str(LOCALIZER), help="localiser folder (default: the shipped one)")
    parser.add_argument("--checkpoint", default=str(POSE_MODEL), help="pose model (default: the shipped one)")
    parser.add_argument("--name", default="families", help="result file name (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=300, help="frames per family (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    count = 24 if args.quick else args.frames
    localizer = Localizer(args.localizer)
    located = {family: localizer_family(localizer, family, count) for family in SCENE_FAMILIES}
    rows = []
    for family, result in located.items():
        for name in ("localizer", "blob"):
            m = result[name]
            rows.append([family, name, m["found_percent"], m["within_40mm_percent"], m["false_hand_percent"],
                         m["median_error_mm"]])  # fmt: skip
    print_table(["family", "", "found %", "within 40 mm %", "false hands %", "median error mm"], rows)

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
    write_result(
        args.name,
        args.quick,
        {
            "frames_per_family": count,
            "localizer": _relative(args.localizer),
            "checkpoint": _relative(args.checkpoint),
            "scene_families": SCENE_FAMILIES,
            "pose_splits": {name: split.config.to_dict() for name, split in FAMILY_SPLITS.items()},
        },
        {"localizer": located, "pose": posed},
    )


def _relative(path: str) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


if __name__ == "__main__":
    main()
