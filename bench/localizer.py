"""The hand localiser: how well it finds hands, against the blob heuristic, and how fast the whole predictor is.

1. Accuracy on the fixed synthetic whole-frame test split (2000 scenes of ``synth.scenes``, seed
   ``localizer.train.TEST_SEED``): hands found (a hand answered within 100 mm of a true hand centre), false
   hands on frames without one, and the centre error (median and 95th percentile, mm), for the shipped
   localiser and for the nearest-blob heuristic run on the same canvases (the blob's own camera).
2. Every real frame in ../shared/data/real (the NYU frame, the RealSense SR305 sequence): is the hand found
   with no centre given, where, and for the NYU frame the error of the shipped pose model's joints against
   the frame's labels (the 12 NYU joints with a canonical twin) with the localiser's centre, the blob's, and
   the published refined centre, and over 25 centres within 8 pixels of the localiser's (one frame's error
   hangs on where its crop is cut).
3. Speed at batch 1 on one thread: the localiser's network in ONNX Runtime (target 500 frames/s), the
   localiser from a decoded 640x480 frame, the blob heuristic, and the predictor from a decoded 640x480
   frame to joints with localisation and both passes (target 150 frames/s), all in ONNX Runtime; and a
   tracked frame (one pass, no localiser).

Writes bench/results/localizer.json.

    .venv/bin/python bench/localizer.py [--quick]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import ROOT, arguments, print_table, seconds_per_call, write_result

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, camera_preset, uvd_to_xyz
from handgraph.geometry.layouts import NYU14
from handgraph.inference.export import export_localizer, export_onnx
from handgraph.inference.localizing import Localizer
from handgraph.inference.predictor import Predictor
from handgraph.io.depth_images import depth_files, read_depth
from handgraph.localizer.metrics import localizer_metrics
from handgraph.localizer.network import load_localizer_network
from handgraph.localizer.train import TEST_SEED
from handgraph.models.checkpoint import load_model
from handgraph.models.contract import contract_of
from handgraph.preprocess.localize import localize_hand
from handgraph.synth.scenes import SceneConfig, generate_scenes
from handgraph.weights import LOCALIZER as DEFAULT_LOCALIZER
from handgraph.weights import POSE_MODEL

SHARED = ROOT.parent / "shared" / "data" / "real"
SR305 = camera_preset("sr305")
TARGET_LOCALIZER_FPS, TARGET_PIPELINE_FPS = 500.0, 150.0


def synthetic_accuracy(localizer: Localizer, count: int) -> dict:
    scenes = generate_scenes(SceneConfig(canvas=localizer.canvas), TEST_SEED, np.arange(count))
    camera = localizer.canvas.camera
    answers = np.concatenate([localizer.answer(scenes["depth"][k : k + 100]) for k in range(0, count, 100)])
    learned = uvd_to_xyz(answers[:, :3].astype(np.float64), camera), answers[:, 3] >= localizer.config.threshold
    blob_centres, blob_found = [], []
    for depth in scenes["depth"]:
        try:
            blob_centres.append(localize_hand(depth.astype(np.float64), camera))
            blob_found.append(True)
        except HandgraphError:  # the heuristic's "no hand found"
            blob_centres.append(np.zeros(3))
            blob_found.append(False)
    truth = scenes["hand_xyz"].astype(np.float64), scenes["hand_present"]
    return {
        "frames": count,
        "localizer": localizer_metrics(*learned, *truth),
        "blob": localizer_metrics(np.array(blob_centres), np.array(blob_found), *truth),
    }


def real_frames(localizer: Localizer, predictor: Predictor) -> dict:
    frames = [("nyu/depth_1_0000001.png", camera_preset("nyu"), 1.0)]
    frames += [
        (f"sr305/20210326-231615/{path.name}", SR305, 0.125) for path in depth_files(SHARED / "sr305/20210326-231615")
    ]
    found = {}
    for name, camera, scale in frames:
        depth = read_depth(SHARED / name, scale)
        detection = localizer(depth, camera)
        blob = predictor_blob_centre(depth, camera)
        found[name] = {
            "found": bool(detection.found),
            "score": round(detection.score, 4),
            "centre_uvd": None if detection.centre_uvd is None else np.round(detection.centre_uvd, 1).tolist(),
            "blob_centre_uvd": None if blob is None else np.round(blob, 1).tolist(),
        }
    return {"frames": found, "nyu_joint_error_mm": nyu_joint_errors(predictor)}


def real_frames_figure(real: dict, path: Path) -> None:
    """Every real frame with the localiser's centre (cross) and the blob's (circle)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from handgraph.io.files import atomic_writer
    from handgraph.io.overlay import depth_display

    names = list(real["frames"])
    figure, axes = plt.subplots(3, 4, figsize=(16, 9.4))
    for axes_k, name in zip(axes.ravel(), names, strict=False):
        entry = real["frames"][name]
        depth = read_depth(SHARED / name, 1.0 if name.startswith("nyu") else 0.125)
        axes_k.imshow(depth_display(depth, 400.0, 2100.0), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes_k.set_facecolor("black")
        if entry["centre_uvd"] is not None:
            marker = "+" if entry["found"] else "x"
            axes_k.plot(*entry["centre_uvd"][:2], marker, color="#ff3030", markersize=22, markeredgewidth=3)
        if entry["blob_centre_uvd"] is not None:
            axes_k.plot(*entry["blob_centre_uvd"][:2], "o", color="#ff00ff", markersize=9)
        verdict = "hand" if entry["found"] else "no hand"
        axes_k.set_title(f"{name}: {verdict} ({entry['score']:.2f})", fontsize=9)
        axes_k.set_xticks([])
        axes_k.set_yticks([])
    for extra in axes.ravel()[len(names) :]:
        extra.set_axis_off()
    figure.suptitle("learned localiser (red cross, score) and nearest blob (magenta circle), no centre given")
    figure.tight_layout()
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=70)
    plt.close(figure)


def predictor_blob_centre(depth: np.ndarray, camera: Intrinsics) -> np.ndarray | None:
    from handgraph.geometry.camera import xyz_to_uvd

    try:
        return xyz_to_uvd(localize_hand(depth, camera), camera)
    except HandgraphError:  # "no hand found"
        return None


def nyu_joint_errors(predictor: Predictor) -> dict:
    """The shipped pose model on the NYU frame: mean error on the 12 joints with a canonical twin, per centre."""
    camera = camera_preset("nyu")
    depth = read_depth(SHARED / "nyu/depth_1_0000001.png")
    truth_uvd = np.loadtxt(SHARED.parent / "eval/groundtruth/nyu/nyu_test_groundtruth_label.txt", max_rows=1)
    truth = uvd_to_xyz(truth_uvd.reshape(14, 3), camera)
    pairs = NYU14.canonical_pairs()
    nyu, canonical = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    refined = np.loadtxt(SHARED / "nyu/center_test_refined.txt", max_rows=1)
    blob = Predictor(predictor.checkpoint, localizer="blob")
    errors = {}
    for name, prediction in (
        ("localizer", predictor(depth, camera)),
        ("blob", blob(depth, camera)),
        ("refined_centre", predictor(depth, camera, refined, refine=True)),
    ):
        errors[name] = float(np.linalg.norm(prediction.xyz[canonical] - truth[nyu], axis=-1).mean())
    errors["around_localizer"] = _around(predictor, depth, camera, truth[nyu], canonical)
    return errors


def _around(predictor: Predictor, depth: np.ndarray, camera: Intrinsics, truth: np.ndarray, joints: list) -> dict:
    """One frame's error hangs on its centre: the same from 25 centres 0, 4 and 8 pixels around the localiser's
    (a 5 x 5 grid in u, v, its depth kept), both passes, the spread of the answers."""
    centre_uvd = predictor.locate(depth, camera).centre_uvd
    errors = []
    for du in (-8, -4, 0, 4, 8):
        for dv in (-8, -4, 0, 4, 8):
            centre = uvd_to_xyz(centre_uvd + np.array([du, dv, 0.0]), camera)
            prediction = predictor(depth, camera, centre, refine=True)
            errors.append(np.linalg.norm(prediction.xyz[joints] - truth, axis=-1).mean())
    errors = np.array(errors)
    return {
        "mean": float(errors.mean()),
        "median": float(np.median(errors)),
        "min": float(errors.min()),
        "max": float(errors.max()),
    }


def speed(budget_s: float) -> dict:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as exported:
        return _speed(Path(exported), budget_s)


def _speed(folder: Path, budget_s: float) -> dict:
    """The timings, with the shipped networks exported to ONNX into ``folder``."""
    network, _ = load_localizer_network(DEFAULT_LOCALIZER)
    onnx_localizer = Localizer(export_localizer(network, folder / "localizer.onnx"), "onnx", threads=1)
    model, meta = load_model(POSE_MODEL)
    export_onnx(
        model, folder / "model.onnx", {"model": meta["model"], "contract": contract_of(meta, POSE_MODEL).to_dict()}
    )
    predictor = Predictor(folder / "model.onnx", backend="onnx", threads=1, localizer=folder / "localizer.onnx")
    depth = read_depth(SHARED / "nyu/depth_1_0000001.png")
    camera = camera_preset("nyu")
    canvas = onnx_localizer.canvas_of(depth, camera)[None]
    centre = predictor(depth, camera).xyz.mean(axis=0)
    seconds = {
        "localizer_network": seconds_per_call(lambda: onnx_localizer.run_canvas(canvas), budget_s),
        "localizer_from_frame": seconds_per_call(lambda: onnx_localizer(depth, camera), budget_s),
        "blob_from_frame": seconds_per_call(lambda: localize_hand(depth, camera), budget_s),
        "predict_from_frame": seconds_per_call(lambda: predictor(depth, camera), budget_s),
        "tracked_frame": seconds_per_call(lambda: predictor(depth, camera, centre, refine=False), budget_s),
    }
    return {name: {"ms": 1e3 * value, "frames_per_s": 1.0 / value} for name, value in seconds.items()}


def main() -> None:
    args = arguments(__doc__).parse_args()
    localizer = Localizer()
    predictor = Predictor()
    count = 200 if args.quick else 2000
    accuracy = synthetic_accuracy(localizer, count)
    real = real_frames(localizer, predictor)
    timings = speed(0.5 if args.quick else 5.0)
    figures = (ROOT / "bench/results/quick/figures") if args.quick else (ROOT / "docs/figures")
    figures.mkdir(parents=True, exist_ok=True)
    real_frames_figure(real, figures / "localizer_real_frames.png")
    rows = [
        [name, f"{m['found_percent']:.1f}", f"{m['false_hand_percent']:.1f}", m["median_error_mm"], m["p95_error_mm"]]
        for name, m in (("localizer", accuracy["localizer"]), ("blob", accuracy["blob"]))
    ]
    print(f"synthetic whole-frame test split, {count} frames")
    print_table(["method", "found %", "false hand %", "median mm", "p95 mm"], rows)
    found = sum(frame["found"] for frame in real["frames"].values())
    print(f"real frames: hand found in {found} of {len(real['frames'])}")
    nyu = real["nyu_joint_error_mm"]
    print("NYU frame joint error (12 joints):", {k: round(v, 2) for k, v in nyu.items() if k != "around_localizer"})
    print(
        "  from 25 centres within 8 px of the localiser's:",
        {k: round(v, 2) for k, v in nyu["around_localizer"].items()},
    )
    print_table(["batch 1, 1 thread", "ms", "frames/s"], [[k, v["ms"], v["frames_per_s"]] for k, v in timings.items()])
    write_result(
        "localizer",
        args.quick,
        {"test_seed": TEST_SEED, "frames": count, "localizer": str(DEFAULT_LOCALIZER.relative_to(ROOT))},
        {
            "synthetic": accuracy,
            "real": real,
            "speed": timings,
            "targets": {"localizer_fps": TARGET_LOCALIZER_FPS, "pipeline_fps": TARGET_PIPELINE_FPS},
        },
    )


if __name__ == "__main__":
    main()
