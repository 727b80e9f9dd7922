"""What kinematic fitting costs and what it adds (issue 14).

1. Speed, one thread: inverse kinematics of one hand (the shipped model's joints on synthetic test frames, one
   call each) and of a batch of 1000 hands; the depth refinement per frame, in batches of 16.
2. Accuracy on the synthetic test split: the shipped hgt's joints (raw), the inverse-kinematics fit to them
   (a valid hand: its bones constant, its angles within their limits) and that fit refined against the
   frame's depth, each against the true joints; and how far the raw joints are from any valid hand
   (bone-length spread and angles beyond limits are what the fit removes).
3. The real NYU frame: the same three against its labels (the 12 NYU joints with a canonical twin), the crop
   centred by the localiser.

    .venv/bin/python bench/fitting.py [--quick] [--frames 2000]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from _common import ROOT, arguments, print_table, seconds_per_call, write_result

from handgraph.evaluation.model_eval import predict_split
from handgraph.fitting import ik
from handgraph.fitting.frames import FrameCrop, refine_fits
from handgraph.fitting.result import fit_layout_joints, mirrored_model
from handgraph.fitting.targets import canonical_targets
from handgraph.geometry.camera import Intrinsics, camera_preset, uvd_to_xyz
from handgraph.geometry.layouts import NYU14
from handgraph.geometry.skeleton import HAND
from handgraph.inference.predictor import Predictor
from handgraph.io.depth_images import read_depth
from handgraph.models.checkpoint import load_model
from handgraph.weights import POSE_MODEL as DEFAULT_CHECKPOINT

SHARED = ROOT.parent / "shared" / "data" / "real"


def _mean_error(xyz: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(xyz - truth, axis=-1).mean())


def ik_speed(joints: np.ndarray, budget_s: float) -> dict:
    """Milliseconds for one hand, hands/s for a batch of 1000, one thread."""
    observed, weights = canonical_targets(joints, HAND)
    left = torch.zeros(len(observed), dtype=torch.float64)
    singles = iter(range(10**9))

    def one() -> None:
        k = next(singles) % len(observed)
        ik.fit_joints(observed[k : k + 1], weights[k : k + 1], left[k : k + 1])

    batch = torch.arange(1000) % len(observed)
    batched = seconds_per_call(lambda: ik.fit_joints(observed[batch], weights[batch], left[batch]), budget_s, 1)
    return {"single_ms": 1000 * seconds_per_call(one, budget_s, warmup=3), "batched_hands_per_s": 1000 / batched}


def synthetic_accuracy(frames: int) -> dict:
    """Raw, fitted and refined joints of the shipped model on the synthetic test split."""
    model, meta = load_model(DEFAULT_CHECKPOINT)
    result = predict_split(model, "test", count=frames)
    truth, raw = result["xyz"].astype(np.float64), result["predicted_xyz"]
    started = time.perf_counter()
    fits = fit_layout_joints(raw, HAND)
    ik_s = time.perf_counter() - started

    def crop_of(k: int) -> FrameCrop:
        fx, fy, cx, cy = result["intrinsics"][k]
        size = result["depth_mm"].shape[-1]
        camera = Intrinsics(fx=fx, fy=fy, cx=cx, cy=cy, width=size, height=size)
        return FrameCrop(result["depth_mm"][k].astype(np.float64), camera, result["centre_xyz"][k], 250.0)

    started = time.perf_counter()
    refined = refine_fits(fits, crop_of)
    refine_s = time.perf_counter() - started
    bones = _bone_spread(raw)
    per_joint = {
        name: np.linalg.norm(xyz - truth, axis=-1).mean(0).round(3).tolist()
        for name, xyz in (("raw", raw), ("fitted", fits.canonical_xyz), ("refined", refined.canonical_xyz))
    }
    return {
        "frames": frames,
        "per_joint_mm": per_joint,
        "raw_mm": _mean_error(raw, truth),
        "fitted_mm": _mean_error(fits.canonical_xyz, truth),
        "refined_mm": _mean_error(refined.canonical_xyz, truth),
        "refined_better_share": float(
            np.mean(
                np.linalg.norm(refined.canonical_xyz - truth, axis=-1).mean(1)
                < np.linalg.norm(fits.canonical_xyz - truth, axis=-1).mean(1)
            )
        ),
        "fit_residual_mm": float(fits.residual_mm.mean()),
        "raw_bone_length_sd_mm": bones,
        "fitted_angles_at_a_limit_share": float(np.mean(np.isclose(_limits_distance(fits), 0.0, atol=1e-6))),
        "ik_ms_per_hand_batched": 1000 * ik_s / frames,
        "refine_ms_per_frame": 1000 * refine_s / frames,
    }


def _bone_spread(raw: np.ndarray) -> float:
    """How much the raw joints' bone lengths vary between frames beyond the hands' own sizes: the mean over
    bones of the standard deviation of (bone length / hand's palm length), times the mean palm length."""
    children = np.arange(1, 21)
    parents = np.array(HAND.parents)[children]
    lengths = np.linalg.norm(raw[:, children] - raw[:, parents], axis=-1)  # (N, 20)
    palm = np.linalg.norm(raw[:, 9] - raw[:, 0], axis=-1)  # wrist to middle MCP
    return float((lengths / palm[:, None]).std(0).mean() * palm.mean())


def _limits_distance(fits) -> np.ndarray:
    from handgraph.geometry.anatomy import JOINT_LIMITS_DEG

    angles = fits.angles_deg
    return np.minimum(np.abs(angles - JOINT_LIMITS_DEG[..., 0]), np.abs(angles - JOINT_LIMITS_DEG[..., 1]))


def nyu_frame() -> dict:
    """Raw, fitted and refined on the real NYU frame, 12 joints against its labels."""
    camera = camera_preset("nyu")
    depth = read_depth(SHARED / "nyu/depth_1_0000001.png")
    truth = uvd_to_xyz(
        np.loadtxt(SHARED.parent / "eval/groundtruth/nyu/nyu_test_groundtruth_label.txt", max_rows=1).reshape(14, 3),
        camera,
    )
    pairs = NYU14.canonical_pairs()
    nyu, canonical = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    predictor = Predictor()
    prediction = predictor(depth, camera)
    fits = fit_layout_joints(prediction.xyz[None], HAND, mirrored_model(False, camera.fx, camera.fy))
    started = time.perf_counter()
    refined = refine_fits(
        fits, lambda k: FrameCrop(depth, camera, prediction.centre_xyz, predictor.cube_mm), progress=False
    )
    seconds = time.perf_counter() - started
    errors = {
        name: _mean_error(xyz[canonical], truth[nyu])
        for name, xyz in (
            ("raw_mm", prediction.xyz),
            ("fitted_mm", fits.canonical_xyz[0]),
            ("refined_mm", refined.canonical_xyz[0]),
        )
    }
    return {**errors, "refine_ms": 1000 * seconds, "angles_deg": refined.record(0)["angles_deg"]}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--frames", type=int, default=2000, help="synthetic test frames (default: %(default)s, all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    frames = 32 if args.quick else args.frames
    synthetic = synthetic_accuracy(frames)
    model, _ = load_model(DEFAULT_CHECKPOINT)
    joints = predict_split(model, "test", count=64)["predicted_xyz"]
    speed = ik_speed(joints, 0.5 if args.quick else 5.0)
    nyu = nyu_frame()
    print_table(
        ["", "raw", "fitted", "refined", "refine ms/frame"],
        [
            [f"synthetic test ({frames} frames), mm", synthetic["raw_mm"], synthetic["fitted_mm"],
             synthetic["refined_mm"], synthetic["refine_ms_per_frame"]],
            ["NYU frame (12 joints), mm", nyu["raw_mm"], nyu["fitted_mm"], nyu["refined_mm"], nyu["refine_ms"]],
        ],
    )  # fmt: skip
    print(
        f"inverse kinematics, one thread: {speed['single_ms']:.2f} ms for one hand (target < 10), "
        f"{speed['batched_hands_per_s']:.0f} hands/s in batches of 1000 (target >= 200)"
    )
    write_result(
        "fitting",
        args.quick,
        {"synthetic_frames": frames, "threads": 1, "checkpoint": str(Path(DEFAULT_CHECKPOINT).relative_to(ROOT))},
        {"synthetic": synthetic, "nyu_frame": nyu, "ik_speed": speed},
    )


if __name__ == "__main__":
    main()
