"""Accuracy ablation: regress, heatmap, the field's a2j and awr, gcn_flat, sia_gcn and hgt trained alike and
scored on the synthetic test split, several seeds each.

Every run uses the same recipe (steps, batch, schedule, input size, right-hand synthetic frames drawn on the
fly); seed k sets both the initialisation and the training stream, so for a given seed all models see the
same frames. Each finished run is saved as bench/results/ablation_runs/<model>_seed<k>.json and skipped
next time, and an interrupted run resumes from its last checkpoint (bench/runs/ablation/), so the table can
be built up over several sittings. bench/results/ablation.json is rebuilt from all finished runs each time:
per model the mean error over seeds, the seed means and their spread, success at 10/20/40 mm, per-joint and
per-pose-kind errors, the error on the frontal views (palm or back within 60 degrees of facing the camera, as
in NYU, ICVL and MSRA), parameters and FLOPs per frame.

    .venv/bin/python bench/ablation.py [--quick] [--models hgt sia_gcn] [--seeds 0 1 2] [--steps 1800]

To find out what a part of a model is worth, train variants with the same recipe and a few config changes;
they are saved beside the runs under ablation_runs/variants/ and listed apart in ablation.json:

    .venv/bin/python bench/ablation.py --models sia_gcn --variant no-attention --set model.edge_attention=false
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from _common import ROOT, arguments, flops_per_frame, machine, print_table, results_folder, write_result

from handgraph.errors import HandgraphError
from handgraph.evaluation import get_protocol, score_method
from handgraph.evaluation.metrics import joint_errors
from handgraph.evaluation.model_eval import predict_split
from handgraph.io.files import atomic_write_text
from handgraph.io.provenance import changed_since, provenance
from handgraph.models import list_models
from handgraph.models.checkpoint import load_model
from handgraph.synth.splits import SPLITS, frontal_views, same_benchmark_version
from handgraph.training.config import load_config
from handgraph.training.loop import train
from handgraph.training.run import latest_checkpoint

FULL = {"steps": 1800, "test_frames": 2000, "eval_every": 300, "eval_frames": 500}
QUICK = {"steps": 12, "test_frames": 64, "eval_every": 6, "eval_frames": 32}


def _config(name: str, seed: int, settings: dict, overrides: list[str]):
    assignments = [
        f"model.name={name}",
        f"steps={settings['steps']}",
        f"seed={seed}",
        f"data.seed={seed}",
        f"eval_every={settings['eval_every']}",
        f"eval_frames={settings['eval_frames']}",
        f"checkpoint_every={max(settings['steps'] // 6, 1)}",
        "batch_size=32",
        "warmup_steps=100" if settings["steps"] >= 400 else "warmup_steps=2",
        *overrides,
    ]
    return load_config("ablation", assignments)


def _run(name: str, seed: int, settings: dict, out: Path, quick: bool, overrides: list[str]) -> dict:
    origin = provenance()  # each run file says which code made it: runs accumulate over sittings and commits
    started = time.perf_counter()
    config = _config(name, seed, settings, overrides)
    train(config, out, resume=latest_checkpoint(out) is not None, progress=not quick)
    wall_s = time.perf_counter() - started
    model, meta = load_model(out / "model")
    result = predict_split(model, "test", settings["test_frames"])
    truth = result["xyz"].astype(np.float64)
    scored = score_method(f"{name} seed {seed}", str(out), result["predicted_xyz"], truth, get_protocol("synthetic"))
    frame_errors = joint_errors(result["predicted_xyz"], truth).mean(axis=1)
    gestures = result["gesture"] >= 0
    frontal = frontal_views(result["pose"], result["centre_xyz"])
    history = json.loads((out / "history.json").read_text())
    return {
        "model": name,
        **origin,
        "changed_during_run": changed_since(origin["commit"]),
        "machine": machine(),  # training times compare only within a host: hosts differ by 1.5x
        "benchmark_version": SPLITS["test"].version,
        "overrides": overrides,
        "config": {**meta["train"], "model": meta["model"]},  # resolved: the model config as the model holds it
        "seed": seed,
        "steps": meta["step"],
        "wall_seconds_this_sitting": wall_s,
        "params": sum(p.numel() for p in model.parameters()),
        "flops_per_frame": flops_per_frame(model),
        "score": scored.to_dict(),
        "pose_kind_mean_mm": {
            "named gestures": float(frame_errors[gestures].mean()),
            "uniform poses": float(frame_errors[~gestures].mean()),
        },
        "frontal_mean_mm": float(frame_errors[frontal].mean()),
        "frontal_frames": int(frontal.sum()),
        "frame_errors_mm": frame_errors.round(3).tolist(),
        "validation_history": history,
    }


def _summary(run_files: list[Path]) -> dict:
    """Per model (or variant): means over its finished seeds, all of one synthetic benchmark version."""
    by_model: dict[str, list[dict]] = {}
    versions = {}
    for path in run_files:
        run = json.loads(path.read_text())
        by_model.setdefault(run.get("variant", run["model"]), []).append(run)
        versions[path.name] = run.get("benchmark_version")
    same_benchmark_version(versions)
    order = [name for name in list_models() if name in by_model] + sorted(set(by_model) - set(list_models()))
    models = {}
    for name in order:
        runs = sorted(by_model[name], key=lambda run: run["seed"])
        means = [run["score"]["mean_mm"] for run in runs]
        per_joint = np.mean([run["score"]["per_joint_mm"] for run in runs], axis=0)
        models[name] = {
            "mean_mm": float(np.mean(means)),
            "seed_means_mm": means,
            "seeds": [run["seed"] for run in runs],
            "seed_std_mm": float(np.std(means, ddof=1)) if len(means) > 1 else None,
            "median_mm": float(np.mean([run["score"]["median_mm"] for run in runs])),
            "success_rate": {
                key: float(np.mean([run["score"]["success_rate"][key] for run in runs]))
                for key in runs[0]["score"]["success_rate"]
            },
            "per_joint_mm": dict(zip(runs[0]["score"]["joint_names"], per_joint.tolist(), strict=True)),
            "pose_kind_mean_mm": {
                kind: float(np.mean([run["pose_kind_mean_mm"][kind] for run in runs]))
                for kind in runs[0]["pose_kind_mean_mm"]
            },
            "frontal_mean_mm": _mean_of_runs(runs, "frontal_mean_mm"),
            "params": runs[0]["params"],
            "flops_per_frame": runs[0]["flops_per_frame"],
            "steps": runs[0]["steps"],
            "model": runs[0]["model"],
            "overrides": runs[0].get("overrides", []),
            "benchmark_version": runs[0].get("benchmark_version"),
        }
    return models


def _mean_of_runs(runs: list[dict], key: str) -> float | None:
    """The mean of a figure over the runs that have it (runs older than the figure do not), None if none do."""
    values = [run[key] for run in runs if key in run]
    return float(np.mean(values)) if values else None


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--models", nargs="+", default=list_models(), choices=list_models())
    parser.add_argument("--seeds", nargs="+", type=int, default=None, help="default: 0 1 2 (quick: 0)")
    parser.add_argument("--steps", type=int, help=f"training steps per run (default {FULL['steps']})")
    parser.add_argument("--variant", help="name of a variant of the models, trained with the --set changes")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="config changes of the variant")
    args = parser.parse_args()
    if bool(args.variant) != bool(args.set):
        parser.error("--variant and --set go together: a variant needs changes, and changes need a name")
    try:  # check the changes before any training
        for name in args.models:
            _config(name, 0, FULL, args.set)
    except HandgraphError as error:
        parser.error(f"--set: {error}")
    settings = dict(QUICK if args.quick else FULL)
    if args.steps:
        settings["steps"] = args.steps
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    folder = results_folder(args.quick) / "ablation_runs"
    runs = ROOT / "bench" / "runs" / ("ablation_quick" if args.quick else "ablation")
    for seed in seeds:  # seed-major: one full comparison first, then more seeds
        for name in args.models:
            label = f"{name}-{args.variant}" if args.variant else name
            path = (folder / "variants" if args.variant else folder) / f"{label}_seed{seed}.json"
            if path.is_file():
                print(f"{label} seed {seed}: finished earlier ({path.relative_to(ROOT)})")
                continue
            print(f"{label} seed {seed}: training {settings['steps']} steps")
            run = _run(name, seed, settings, runs / f"{label}_seed{seed}", args.quick, args.set)
            if args.variant:
                run["variant"] = label
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(run, indent=1) + "\n")
            print(f"{label} seed {seed}: {run['score']['mean_mm']:.2f} mm on {run['score']['frames']} test frames")
    models = _summary(sorted(folder.glob("*_seed*.json")))
    variants = _summary(sorted((folder / "variants").glob("*_seed*.json")))
    same_benchmark_version({name: entry["benchmark_version"] for name, entry in (models | variants).items()})
    rows = [
        [
            name,
            len(entry["seed_means_mm"]),
            entry["mean_mm"],
            "-" if entry["seed_std_mm"] is None else f"{entry['seed_std_mm']:.2f}",
            *(f"{100 * entry['success_rate'][key]:.1f}" for key in ("10", "20", "40")),
            f"{entry['params']:,}",
            f"{entry['flops_per_frame'] / 1e6:.0f}",
        ]
        for name, entry in (models | variants).items()
    ]
    print(f"synthetic test split, {settings['test_frames']} frames, {settings['steps']} steps per run")
    print_table(["model", "seeds", "mean mm", "sd", "<=10%", "<=20%", "<=40%", "params", "MFLOP"], rows)
    write_result(
        "ablation",
        args.quick,
        {
            **settings,
            "batch_size": 32,
            "recipe": "handgraph train --config ablation with the steps above",
            "seeds": seeds,
        },
        {"models": models, "variants": variants},
    )


if __name__ == "__main__":
    main()
