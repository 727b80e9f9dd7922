"""Adapting to a camera without labels (``handgraph adapt``): what it gains where labels exist but are hidden
from it, what it costs, and what it does on the real frames.

Part 1, a domain shift (``SHIFT``): sequences of ``synth.sequences`` seen by a Kinect v2 (a time-of-flight camera
the shipped model never saw), of hands 15-30 % larger than the largest it saw (``hand_scale``), steady, holding
an object, crossed by the other hand and passing behind a pole, 650-950 mm away, 100 frames each at 30 frames/s.
``handgraph adapt`` (its defaults) runs on the unlabelled frames of ``ADAPTATION_SEED``'s sequences, 100, 1000
and 10,000 frames (``--frames``); the shipped model and the adapted one then run as ``predict`` runs (tracking)
on ``TEST_SEED``'s sequences, and on the adaptation frames themselves (adapting on the frames to be scored is
the use the command is for; there they are read from the adaptation's first and last labelling passes, which
track them so). Figures per set: hands found among the visible ones, mean joint error raw and after
Procrustes alignment over the visible frames where both models found the hand; the pseudo-labels' own error,
all of them and those the rule used; the synthetic test split (``--test-frames`` of its 2000); the minutes
adapting took. The selection rule was chosen on the sequences of seed 9_100, none of these.

Part 2, the real frames: the SR305 sequence of ``../shared/data/real`` (11 frames; adapted with
``--min-frames 5``): the label-free measures before and after, and the overlays of both models; the NYU frame
(one frame, adapted on itself, ``--min-frames 1``): its error on the 12 joints with a canonical twin before and
after, and the measures.

    .venv/bin/python bench/adapt.py [--quick] [--frames 100 1000 10000] [--only shift|real] [--resume]

Writes bench/results/adapt.json; the sequences and adapted models are kept in bench/runs/adapt/.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from _common import ROOT, arguments, print_table, results_folder, write_result
from tqdm import tqdm

from handgraph.adaptation import AdaptConfig, adapt
from handgraph.adaptation.pseudo_labels import PseudoLabels
from handgraph.adaptation.selection import select_frames
from handgraph.evaluation import metrics
from handgraph.evaluation.model_eval import predict_split
from handgraph.geometry.alignment import procrustes_aligned
from handgraph.geometry.camera import camera_preset, uvd_to_xyz
from handgraph.geometry.layouts import get_layout
from handgraph.inference.prediction import predict_frames
from handgraph.inference.predictor import Predictor
from handgraph.inference.tracking import HandTracker
from handgraph.models.checkpoint import load_model
from handgraph.synth.sequences import SequenceConfig, generate_sequence, read_sequence, write_sequence
from handgraph.weights import POSE_MODEL

SHIFT = SequenceConfig(sensor="kinect2", frames=100, distance_mm=(650.0, 950.0),
                       kinds=("steady", "holding", "crossing", "occluded"), hand_scale=(1.15, 1.3))  # fmt: skip
ADAPTATION_SEED, TEST_SEED = 9_200, 9_300
TEST_SEQUENCES = 8
FOLDER = ROOT / "bench" / "runs" / "adapt"
SHARED = ROOT.parent / "shared" / "data" / "real"


def recordings(seed: int, count: int, config: SequenceConfig) -> list[Path]:
    """Sequences ``0..count-1`` of ``seed``, rendered once and kept as recordings."""
    paths = []
    for index in tqdm(range(count), desc=f"sequences of seed {seed}", unit="sequence"):
        path = FOLDER / "sequences" / f"{seed}_{config.frames}_{index:03d}.npy"
        if not path.is_file():
            write_sequence(generate_sequence(config, seed, index), path)
        paths.append(path)
    return paths


def tracked(checkpoint: Path, paths: list[Path]) -> dict[str, np.ndarray]:
    """The model run as ``predict`` runs on every sequence: (T, 21, 3) joints (NaN where no hand), the truth and
    which frames show the hand."""
    predictor = Predictor(checkpoint)
    joints, truth, visible = [], [], []
    for path in tqdm(paths, desc=f"tracking with {checkpoint.name}", unit="sequence"):
        sequence = read_sequence(path)
        tracker = HandTracker(predictor)
        for t, raw in enumerate(sequence.raw):
            result = tracker(raw * sequence.depth_scale_mm, sequence.camera, t / sequence.fps)
            joints.append(np.full((21, 3), np.nan) if result.prediction is None else result.prediction.xyz)
        truth.append(sequence.xyz)
        visible.append(sequence.visible)
    return {"xyz": np.stack(joints), "truth": np.concatenate(truth), "visible": np.concatenate(visible)}


def errors(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    raw = np.linalg.norm(predicted - truth, axis=-1).mean(axis=1)
    aligned = np.linalg.norm(procrustes_aligned(predicted, truth) - truth, axis=-1).mean(axis=1)
    return {"raw_mm": float(raw.mean()), "procrustes_mm": float(aligned.mean())}


def compared(before: dict, after: dict) -> dict:
    """Both models on the frames with the hand in view, each error over the frames where both found it."""
    visible = before["visible"]
    found = {name: ~np.isnan(run["xyz"][:, 0, 0]) for name, run in (("before", before), ("after", after))}
    both = visible & found["before"] & found["after"]
    return {
        "visible_frames": int(visible.sum()),
        "found_before": float(found["before"][visible].mean()),
        "found_after": float(found["after"][visible].mean()),
        "scored_frames": int(both.sum()),
        "before": errors(before["xyz"][both], before["truth"][both]),
        "after": errors(after["xyz"][both], after["truth"][both]),
    }


def adapted(paths: list[Path], out: Path, config: AdaptConfig, resume: bool) -> dict:
    """``adapt`` on ``paths`` into ``out``: started afresh, or with ``resume`` an interrupted run with the same
    settings resumed (a finished one read back). The state's ``seconds`` add up every run's time; a state
    older than them cannot say how long it took, and starts afresh."""
    state_path = out / "adapt.json"
    state = json.loads(state_path.read_text()) if resume and state_path.is_file() else None
    if state is None or "seconds" not in state or state["request"]["config"] != json.loads(json.dumps(asdict(config))):
        shutil.rmtree(out, ignore_errors=True)
    elif "model" in state:
        return state
    return adapt([str(path) for path in paths], out, config=config, log=print)


def hidden_truth(paths: list[Path]) -> dict:
    """Every frame of the sequences, read once: its name as ``adapt`` gives it, (N, 21, 3) joints and whether the
    hand is in view."""
    names, truth, visible = [], [], []
    for path in paths:
        sequence = read_sequence(path)
        names += [f"{path}[{t}]" for t in range(len(sequence.raw))]
        truth.append(sequence.xyz)
        visible.append(sequence.visible)
    return {"names": names, "truth": np.concatenate(truth), "visible": np.concatenate(visible)}


def labelled_runs(out: Path, truth: dict) -> tuple[dict, dict]:
    """Both models run as ``predict`` runs on the adaptation frames, read from the adaptation's own passes: the
    first round's labelling tracked every sequence with the start model (the shipped one), the last labelling
    (``after.npz``) with the adapted one. Same arrays as ``tracked`` gives, without tracking them twice more."""
    runs = []
    for labels in (PseudoLabels.load(out / "round_1" / "labels.npz"), PseudoLabels.load(out / "after.npz")):
        found = dict(zip(labels.names, labels.network_xyz, strict=True))
        xyz = np.stack([found.get(name, np.full((21, 3), np.nan)) for name in truth["names"]])
        runs.append({"xyz": xyz, "truth": truth["truth"], "visible": truth["visible"]})
    return runs[0], runs[1]


def label_quality(out: Path, truth: dict, config: AdaptConfig) -> dict:
    """The first round's pseudo-labels against the hidden truth: all of them, and those the rule used."""
    labels = PseudoLabels.load(out / "round_1" / "labels.npz")
    row = {name: index for index, name in enumerate(truth["names"])}
    true = truth["truth"][[row[name] for name in labels.names]]
    used = select_frames(labels.measures(), config.selection)
    return {
        "hands": len(labels),
        "used": int(used.sum()),
        "network_all": errors(labels.network_xyz, true),
        "pseudo_labels_all": errors(labels.xyz, true),
        "network_used": errors(labels.network_xyz[used], true[used]),
        "pseudo_labels_used": errors(labels.xyz[used], true[used]),
    }


def synthetic_test(checkpoint: Path, frames: int) -> float:
    model, _ = load_model(checkpoint)
    result = predict_split(model, "test", frames)
    return metrics.mean_joint_error(metrics.joint_errors(result["predicted_xyz"], result["xyz"]))


def domain_shift(args, config: AdaptConfig) -> dict:
    test = recordings(TEST_SEED, 2 if args.quick else TEST_SEQUENCES, SHIFT)
    shipped_test = tracked(POSE_MODEL, test)
    shipped_synthetic = synthetic_test(POSE_MODEL, args.test_frames)
    results = {"shipped_synthetic_test_mm": shipped_synthetic}
    for count in args.frames:
        paths = recordings(ADAPTATION_SEED, max(1, count // SHIFT.frames), SHIFT)
        out = FOLDER / f"adapted_{count}"
        state = adapted(paths, out, config, args.resume)
        model, truth = out / "model", hidden_truth(paths)
        results[str(count)] = {
            "frames": count,
            "minutes": state["seconds"] / 60,
            "rounds": state["rounds"],
            "measures_before": state["before"],
            "measures_after": state["after"],
            "pseudo_labels": label_quality(out, truth, config),
            "test_sequences": compared(shipped_test, tracked(model, test)),
            "adaptation_frames": compared(*labelled_runs(out, truth)),
            "synthetic_test_mm": synthetic_test(model, args.test_frames),
        }
        _print_shift(count, results[str(count)], shipped_synthetic)
    return results


def _print_shift(count: int, result: dict, shipped_synthetic: float) -> None:
    rows = []
    for name in ("test_sequences", "adaptation_frames"):
        scored = result[name]
        found = f"{100 * scored['found_before']:.1f} -> {100 * scored['found_after']:.1f}"
        rows.append([name, scored["scored_frames"], found,
                     f"{scored['before']['raw_mm']:.2f} -> {scored['after']['raw_mm']:.2f}",
                     f"{scored['before']['procrustes_mm']:.2f} -> {scored['after']['procrustes_mm']:.2f}"])  # fmt: skip
    print(f"adapted on {count} frames in {result['minutes']:.1f} min; synthetic test {shipped_synthetic:.2f} -> "
          f"{result['synthetic_test_mm']:.2f} mm")  # fmt: skip
    print_table(["frames", "scored", "found %", "raw mm", "Procrustes mm"], rows)


def nyu_frame(config: AdaptConfig) -> dict:
    """The real NYU frame adapted on itself: its 12 joints' error before and after, and the measures."""
    frame = SHARED / "nyu" / "depth_1_0000001.png"
    camera = camera_preset("nyu")
    labels = ROOT.parent / "shared" / "data" / "eval" / "groundtruth" / "nyu" / "nyu_test_groundtruth_label.txt"
    truth = uvd_to_xyz(np.loadtxt(labels, max_rows=1).reshape(14, 3), camera)
    pairs = get_layout("nyu14").canonical_pairs()
    nyu, canonical = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    out = FOLDER / "adapted_nyu"
    shutil.rmtree(out, ignore_errors=True)
    state = adapt([str(frame)], out, camera="nyu", config=replace(config, min_frames=1), log=print)
    scored = {}
    for name, checkpoint in (("before", POSE_MODEL), ("after", out / "model")):
        predicted = predict_frames(frame, "nyu", checkpoint=checkpoint, overlays=False)["frames"][0]
        xyz = np.asarray(predicted["xyz"])
        scored[f"{name}_mm"] = float(np.linalg.norm(xyz[canonical] - truth[nyu], axis=-1).mean())
    return {**scored, "measures_before": state["before"], "measures_after": state["after"]}


def sr305_sequence(config: AdaptConfig, figures: Path) -> dict:
    """The real SR305 frames adapted on themselves: the measures before and after, and both models' overlays."""
    frames = SHARED / "sr305" / "20210326-231615"
    out = FOLDER / "adapted_sr305"
    shutil.rmtree(out, ignore_errors=True)
    state = adapt([str(frames)], out, camera="sr305", depth_scale_mm=0.125, config=replace(config, min_frames=5),
                  log=print)  # fmt: skip
    for name, checkpoint in (("shipped", POSE_MODEL), ("adapted", out / "model")):
        overlays = FOLDER / f"sr305_{name}"
        predict_frames(frames, "sr305", checkpoint=checkpoint, depth_scale=0.125, out=overlays)
        figures.mkdir(parents=True, exist_ok=True)
        shutil.copy(overlays / "100_overlay.png", figures / f"adapt_sr305_{name}.png")
    return {"measures_before": state["before"], "measures_after": state["after"], "rounds": state["rounds"]}


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 1000, 10000], help="adaptation set sizes")
    parser.add_argument("--test-frames", type=int, default=2000, help="frames of the synthetic test split")
    parser.add_argument("--only", choices=("shift", "real"), help="run one part")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="resume the adaptations an interrupted run left in bench/runs/adapt (else started anew)",
    )
    args = parser.parse_args()
    config = AdaptConfig()
    if args.quick:
        args.frames, args.test_frames = [100], 64
        config = AdaptConfig(rounds=1, steps=4, eval_frames=16)
    figures = {}
    if args.only in (None, "shift"):
        figures["domain_shift"] = domain_shift(args, config)
    if args.only in (None, "real"):
        page = ROOT / "docs" if not args.quick else results_folder(True)  # where report.py writes the page
        figures["sr305"] = sr305_sequence(config, page / "figures")
        figures["nyu_frame"] = nyu_frame(config)
        nyu = figures["nyu_frame"]
        print(f"NYU frame, 12 joints: {nyu['before_mm']:.2f} -> {nyu['after_mm']:.2f} mm")
    settings = {"shift": SHIFT.to_dict(), "adaptation_seed": ADAPTATION_SEED, "test_seed": TEST_SEED,
                "test_sequences": TEST_SEQUENCES, "config": asdict(config),
                "frames": args.frames, "test_frames": args.test_frames, "only": args.only}  # fmt: skip
    write_result("adapt" if args.only is None else f"adapt_{args.only}", args.quick, settings, figures)


if __name__ == "__main__":
    main()
