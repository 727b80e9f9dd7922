"""Build docs/benchmarks.md and its plots from bench/results/*.json (quick: bench/results/quick/benchmarks.md).

Every figure in the page is read from a JSON file named beside its table; the hand-written findings in
bench/findings.md are appended as they are.

    .venv/bin/python bench/report.py [--quick]
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _common import ROOT, arguments, results_folder  # noqa: E402
from _markdown import missing, source, table  # noqa: E402
from report_real import (  # noqa: E402
    adapt_section,
    cache_section,
    families_section,
    fitting_section,
    fuzz_section,
    localizer_section,
    realism_section,
    tracking_section,
)

from handgraph.io.files import atomic_write_text, atomic_writer  # noqa: E402
from handgraph.models import DEFAULT_MODEL, list_models  # noqa: E402

FINDINGS = ROOT / "bench" / "findings.md"


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _save(figure, path: Path) -> None:
    with atomic_writer(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def _throughput(folder: Path, name: str) -> tuple[str, str]:
    """A model's training samples/s (training.json) and frames/s at batch 1 on one thread in ONNX Runtime
    (inference.json), "-" where the file or the model is missing."""
    training, inference = _load(folder, "training"), _load(folder, "inference")
    rate = (training or {}).get("samples_per_s", {}).get(name)
    runs = (inference or {}).get("models", {}).get(name, {}).get("runs", [])
    fps = next((r["frames_per_s"] for r in runs if (r["backend"], r["threads"], r["batch"]) == ("onnx", 1, 1)), None)
    return ("-" if rate is None else f"{rate:.0f}"), ("-" if fps is None else f"{fps:.0f}")


def ablation_section(data: dict | None, folder: Path, figures: Path) -> str:
    if data is None:
        return "## Accuracy ablation\n\n" + missing("ablation")
    models = data["models"]
    settings = data["settings"]
    rows = []
    for name, entry in models.items():
        spread = "-" if entry["seed_std_mm"] is None else f"{entry['seed_std_mm']:.2f}"
        seeds = ", ".join(f"{value:.2f}" for value in entry["seed_means_mm"])
        rates = [f"{100 * entry['success_rate'][key]:.1f}" for key in ("10", "20", "40")]
        rows.append(
            [
                f"`{name}`",
                f"**{entry['mean_mm']:.2f}**",
                spread,
                seeds,
                *rates,
                f"{entry['pose_kind_mean_mm']['named gestures']:.2f}",
                f"{entry['pose_kind_mean_mm']['uniform poses']:.2f}",
                "-" if entry.get("frontal_mean_mm") is None else f"{entry['frontal_mean_mm']:.2f}",
                f"{entry['params']:,}",
                f"{entry['flops_per_frame'] / 1e6:.0f}",
                *_throughput(folder, entry["model"]),
            ]
        )
    headers = ["model", "mean mm", "sd over seeds", "seed means", "<=10 mm %", "<=20 mm %", "<=40 mm %"]
    headers += ["gestures mm", "uniform poses mm", "frontal views mm", "params", "MFLOP/frame"]
    headers += ["train samples/s", "frames/s"]
    parts = [
        "## Accuracy ablation",
        f"Every model trained with the same recipe ({settings['steps']} steps of batch 32 at 128x128, AdamW with "
        f"warm-up and cosine decay, right-hand synthetic frames on the fly; seed k sets the initialisation and the "
        f"training stream), scored on the first {settings['test_frames']} frames of the synthetic test split: mean "
        "3D joint error over seeds, its standard deviation across seeds, and the share of frames whose largest "
        "joint error is within 10/20/40 mm. 'gestures' and 'uniform poses' split the test frames by how their pose "
        "was drawn (perturbed named gestures, or uniform within the joint limits); 'frontal views' are the frames "
        "whose palm or back is within 60 degrees of facing the camera, as in NYU, ICVL and MSRA (- for runs made "
        "before that figure was recorded). 'train samples/s' is `training.json`'s rate (2 threads), 'frames/s' "
        "`inference.json`'s network rate at batch 1 on one thread in ONNX Runtime.",
        table(headers, rows),
        _not_yet_run(models),
        _verdict(models, data.get("variants") or {}),
        *_variants(models, data.get("variants") or {}),
        source("ablation", data, folder),
        _run_commits(folder),
    ]
    _success_plot(folder, models, figures / "ablation_success.png")
    _per_joint_plot(models, figures / "ablation_per_joint.png")
    _time_to_accuracy_plot(folder, models, figures / "ablation_time_to_accuracy.png")
    parts.append(
        "![success curves](figures/ablation_success.png)\n\n![per-joint errors](figures/ablation_per_joint.png)"
        "\n\n![validation error against training time](figures/ablation_time_to_accuracy.png)"
    )
    return "\n\n".join(parts)


def _run_commits(folder: Path) -> str:
    """Which commits trained the runs the table is built from: each run file records its own."""
    commits: dict[str, list[str]] = {}
    for path in sorted((folder / "ablation_runs").glob("*.json")):
        commit = (json.loads(path.read_text()).get("commit") or "unrecorded")[:7]
        commits.setdefault(commit, []).append(path.stem)
    listed = "; ".join(f"commit {commit}: {', '.join(runs)}" for commit, runs in commits.items())
    return f"_Runs (`{(folder / 'ablation_runs').relative_to(ROOT)}/`, one file each): {listed}._"


def _not_yet_run(models: dict) -> str:
    """Which models of ``list_models()`` have no run at this benchmark version yet."""
    missing_models = [name for name in list_models() if name not in models]
    if not missing_models:
        return ""
    names = ", ".join(f"`{name}`" for name in missing_models)
    return (
        f"Not yet run at this benchmark version: {names} (`.venv/bin/python bench/ablation.py --models ...`; "
        "the runs of the first version are in `bench/results/history/ablation_v1/`)."
    )


def _variants(models: dict, variants: dict) -> list[str]:
    """The table of variants (a model with a few config changes), beside their model on the same seeds."""
    if not variants:
        return []
    rows = []
    for name, entry in variants.items():
        base = models.get(entry["model"])
        shared = [seed for seed in entry["seeds"] if base and seed in base["seeds"]]
        base_mean = np.mean([base["seed_means_mm"][base["seeds"].index(seed)] for seed in shared]) if shared else None
        rows.append(
            [
                f"`{name}`",
                " ".join(f"`{change}`" for change in entry["overrides"]),
                f"**{entry['mean_mm']:.2f}**",
                "-" if entry["seed_std_mm"] is None else f"{entry['seed_std_mm']:.2f}",
                ", ".join(str(seed) for seed in entry["seeds"]),
                "-" if base_mean is None else f"{base_mean:.2f}",
            ]
        )
    headers = ["variant", "changes", "mean mm", "sd over seeds", "seeds", "its model, same seeds, mm"]
    return [
        "Variants: a model trained with the same recipe and the changes listed, to see what a part is worth.",
        table(headers, rows),
    ]


MAX_DEFAULT_SPREAD_MM = 0.8
"""The standard deviation over three seeds that the default model's training may have (issue 15)."""


def _verdict(models: dict, variants: dict) -> str:
    def spread(name: str) -> float:
        return models[name]["seed_std_mm"] or 0.0

    lines = []
    if DEFAULT_MODEL in models:
        others = [name for name in models if name != DEFAULT_MODEL]
        beaten = [
            name
            for name in others
            if models[DEFAULT_MODEL]["mean_mm"] + max(spread(DEFAULT_MODEL), spread(name)) < models[name]["mean_mm"]
        ]
        verdict = "holds" if len(beaten) == len(others) else "does not hold"
        seeds = min(len(entry["seed_means_mm"]) for entry in models.values())
        absent = [name for name in list_models() if name not in models]
        if seeds < 2:
            verdict += " so far, with one seed per model and no spread yet to compare with"
        elif absent or seeds < 3:
            verdict += f" so far, with {seeds} seeds of some model" if seeds < 3 else " so far"
            verdict += f" and {', '.join(absent)} not yet run" if absent else ""
        lines.append(
            f"- Goal 1, `hgt` lower than every other model by more than the seed spread: **{verdict}** "
            f"(beaten by more than the spread: {', '.join(beaten) or 'none'})."
        )
        if len(models[DEFAULT_MODEL]["seed_means_mm"]) >= 3:
            stable = spread(DEFAULT_MODEL) <= MAX_DEFAULT_SPREAD_MM
            lines.append(
                f"- `hgt`'s spread over seeds at most {MAX_DEFAULT_SPREAD_MM} mm: "
                f"**{'holds' if stable else 'does not hold'}** ({spread(DEFAULT_MODEL):.2f} mm)."
            )
    if {"sia_gcn", "gcn_flat", "heatmap"} <= models.keys():
        lower = all(models["sia_gcn"]["mean_mm"] < models[name]["mean_mm"] for name in ("gcn_flat", "heatmap"))
        lines.append(
            f"- Goal 2, `sia_gcn` lower than `gcn_flat` and `heatmap`: **{'holds' if lower else 'does not hold'}**."
        )
        meeting = [
            f"`{name}` ({entry['mean_mm']:.2f} mm, {len(entry['seeds'])} seeds)"
            for name, entry in variants.items()
            if entry["model"] == "sia_gcn"
            and len(entry["seeds"]) >= len(models["gcn_flat"]["seeds"])
            and all(entry["mean_mm"] < models[other]["mean_mm"] for other in ("gcn_flat", "heatmap"))
        ]
        if meeting:
            lines.append(f"  Variants of `sia_gcn` for which it holds, on as many seeds: {', '.join(meeting)}.")
    return "\n".join(lines)


def _success_plot(folder: Path, models: dict, path: Path) -> None:
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for name in models:
        runs = [json.loads(p.read_text()) for p in sorted((folder / "ablation_runs").glob(f"{name}_seed*.json"))]
        thresholds = np.array([float(key) for key in runs[0]["score"]["success_rate"]])
        rates = np.mean([list(run["score"]["success_rate"].values()) for run in runs], axis=0)
        axes.plot(thresholds, 100 * rates, label=f"{name} ({models[name]['mean_mm']:.1f} mm)")
    axes.set_xlabel("maximum allowed distance to GT (mm)")
    axes.set_ylabel("fraction of frames within distance (%)")
    axes.set_title("Synthetic test split: success rate, mean over seeds")
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)


def _time_to_accuracy_plot(folder: Path, models: dict, path: Path) -> None:
    """Validation error against training seconds, every model's seeds averaged step by step."""
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for name in models:
        runs = [json.loads(p.read_text()) for p in sorted((folder / "ablation_runs").glob(f"{name}_seed*.json"))]
        histories = [run["validation_history"] for run in runs if run.get("validation_history")]
        if not histories:
            continue
        points = min(len(history) for history in histories)
        seconds = np.mean([[entry["train_seconds"] for entry in h[:points]] for h in histories], axis=0)
        errors = np.mean([[entry["mean_mm"] for entry in h[:points]] for h in histories], axis=0)
        axes.plot(seconds / 60, errors, marker="o", markersize=3, label=name)
    axes.set_xlabel("training time (minutes, 2 threads)")
    axes.set_ylabel("validation mean joint error (mm)")
    axes.set_title("Time to accuracy, mean over seeds")
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)


def _per_joint_plot(models: dict, path: Path) -> None:
    names = list(next(iter(models.values()))["per_joint_mm"])
    figure, axes = plt.subplots(figsize=(12, 3.8))
    width = 0.8 / len(models)
    for k, (model, entry) in enumerate(models.items()):
        values = [entry["per_joint_mm"][joint] for joint in names]
        axes.bar(np.arange(len(names)) + k * width, values, width, label=model)
    axes.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=60, ha="right", fontsize=8)
    axes.set_ylabel("mean error (mm)")
    axes.set_title("Per-joint mean error, mean over seeds")
    axes.legend(ncol=len(models), fontsize=8)
    _save(figure, path)


def refinement_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "### Where the accuracy comes from\n\n" + missing("refinement")
    rows = [
        [
            f"`{label}`" + _measured_apart(entry, data),
            ", ".join(str(seed) for seed in entry["seeds"]),
            f"{entry['initial_mm']:.2f}",
            f"{entry['refined_mm']:.2f}",
            f"{entry['output_mm']:.2f}",
            f"**{entry['graph_gain_mm']:.2f}**",
            f"{entry['transformer_gain_mm']:.2f}",
        ]
        for label, entry in data["runs"].items()
    ]
    headers = ["run", "seeds", "initial heatmaps mm", "refined heatmaps mm", "output mm", "graph layers gain mm"]
    headers.append("transformer gain mm")
    return "\n\n".join(
        [
            "### Where the accuracy comes from",
            f"The ablation's trained graph models decoded three ways on the first {data['settings']['frames']} test "
            "frames (`bench/refinement.py`): the model's own first estimate (integral regression; for `hgt`, the "
            "dense vote its heatmaps weigh) from the backbone's initial heatmaps, the same from the heatmaps the "
            "graph layers refined, and the model's output (the graph transformer's, for `hgt`). The gains are "
            "what the graph layers add to that first estimate, and what the transformer adds to it; means over "
            "the seeds decoded (the runs whose checkpoints this machine still had).",
            *(
                []
                if data.get("commit")
                else [
                    "These are the runs of benchmark version 1, made before result files named their commit, with "
                    "`hgt`'s first estimate by integral regression; the script is rerun once every version-2 run "
                    "of the table above is done."
                ]
            ),
            table(headers, rows),
            *_block_table(data),
            source("refinement", data, folder),
        ]
    )


def _measured_apart(entry: dict, data: dict) -> str:
    """ " (measured at <commit>, N frames)" for a run kept from an earlier refinement run, else ""."""
    measured = entry.get("measured")
    if not measured or measured["commit"] == data.get("commit"):
        return ""
    return f" (measured at {str(measured['commit'])[:7]}, {measured['frames']} frames)"


def _block_table(data: dict) -> list[str]:
    """hgt_interleaved's error after each block, as a sentence and a table; nothing without such runs."""
    runs = {label: entry for label, entry in data["runs"].items() if "blocks_mm" in entry}
    if not runs:
        return []
    blocks = max(len(entry["blocks_mm"]) for entry in runs.values())
    rows = [
        [f"`{label}`", what, *(f"{value:.2f}" for value in entry[key])]
        for label, entry in runs.items()
        for key, what in (("blocks_maps_mm", "vote under the block's maps"), ("blocks_mm", "block's joints"))
    ]
    return [
        "`hgt_interleaved` refines maps and tokens together, so its error goes block by block: the dense vote "
        "under each block's maps, and the block's joints (that vote corrected from the block's tokens; the "
        "last block's are the output). In the table above its refined heatmaps are the last block's maps.",
        table(["run", "decoded", *(f"block {k + 1} mm" for k in range(blocks))], rows),
    ]


def layer_section(data: dict | None, folder: Path, figures: Path) -> str:
    if data is None:
        return "## SIA-GCN layer\n\n" + missing("sia_gcn_layer")
    rows = [
        [
            f"{r['batch']} x 21 x {r['channels']} x {r['side']}x{r['side']}",
            "fwd+bwd" if r["backward"] else "fwd",
            f"{r['batched_ms']:.3g}",
            f"{r['loop_ms']:.3g}",
            f"{r['dense_ms']:.3g}",
            f"{r['floor_ms']:.3g}",
            f"{r['speedup_vs_loop']:.1f}x",
            f"{r['speedup_vs_dense']:.1f}x",
            f"{r['ratio_to_floor']:.2f}x",
            "yes" if r["twenty_x_possible"] else "no",
        ]
        for r in data["rows"]
    ]
    headers = ["input (B x N x c x H x W)", "pass", "batched ms", "loop ms", "dense ms", "floor ms"]
    headers += ["vs loop", "vs dense", "batched / floor", "20x possible"]
    figure, axes = plt.subplots(figsize=(9, 3.8))
    labels = [f"{r['batch']}x{r['channels']}x{r['side']}{' bwd' if r['backward'] else ''}" for r in data["rows"]]
    for k, way in enumerate(("batched", "loop", "dense", "floor")):
        axes.bar(np.arange(len(labels)) + 0.2 * k, [r[f"{way}_ms"] for r in data["rows"]], 0.2, label=way)
    axes.set_yscale("log")
    axes.set_xticks(np.arange(len(labels)) + 0.3, labels, rotation=45, ha="right", fontsize=8)
    axes.set_ylabel("ms per call (log)")
    axes.set_title("SIA-GCN layer: batched against loop, dense and the grouped-convolution floor")
    axes.legend()
    _save(figure, figures / "sia_gcn_layer.png")
    threads = data["settings"]["threads"]
    return "\n\n".join(
        [
            "## SIA-GCN layer",
            f"One layer on the hand graph (21 nodes, 61 directed edges, k = 5, attention on), {threads} threads, "
            "median ms per call. loop: the formula edge by edge; dense: all N x N node pairs with zero kernels off "
            "the edges; floor: the layer's grouped convolution alone, the faster of NCHW and channels-last. "
            "Targets: at least 20x faster than the loop, within 2x of the floor. '20x possible' is no where a "
            "twentieth of the loop's time is less than the floor's: there the loop's convolutions already run "
            "nearly as fast as the machine's best single grouped convolution, and no implementation on these "
            "kernels can be 20 times faster.",
            table(headers, rows),
            f"Least speed-up over the loop: **{data['least_speedup_vs_loop']:.1f}x**; most time over the floor: "
            f"**{data['most_ratio_to_floor']:.2f}x**.",
            source("sia_gcn_layer", data, folder),
            "![layer timings](figures/sia_gcn_layer.png)",
        ]
    )


def inference_section(data: dict | None, folder: Path, figures: Path) -> str:
    if data is None:
        return "## Inference\n\n" + missing("inference")
    rows = []
    for name, entry in data["models"].items():
        for run in entry["runs"]:
            rows.append(
                [
                    f"`{name}`",
                    run["backend"],
                    run["threads"],
                    run["batch"],
                    f"{run['ms_per_batch']:.2f}",
                    f"{run['frames_per_s']:.0f}",
                    f"{100 * run['share_of_peak']:.1f}%",
                ]
            )
    flops = [[f"`{n}`", f"{e['flops_per_frame'] / 1e6:.0f}", f"{e['params']:,}"] for n, e in data["models"].items()]
    figure, axes = plt.subplots(figsize=(8, 3.8))
    names = list(data["models"])
    settings = [("eager", 1), ("onnx", 1), ("eager", 2), ("onnx", 2)]
    for k, (backend, threads) in enumerate(settings):
        values = [
            next(r["frames_per_s"] for r in data["models"][n]["runs"] if (r["backend"], r["threads"], r["batch"]) ==
                 (backend, threads, 1))
            for n in names
        ]  # fmt: skip
        axes.bar(np.arange(len(names)) + 0.2 * k, values, 0.2, label=f"{backend}, {threads} thread(s)")
    if "target_fps" in data:
        axes.axhline(data["target_fps"], color="black", linestyle="--", linewidth=1, label="target (default model)")
    axes.set_xticks(np.arange(len(names)) + 0.3, names)
    axes.set_ylabel("frames/s at batch 1")
    axes.set_title("End-to-end latency as frames per second, batch 1")
    axes.legend(fontsize=8)
    _save(figure, figures / "inference.png")
    peaks = data["peak_gflops"]
    parts = [
        "## Inference",
        "End to end per frame: crop a 640x480 frame around a given centre, normalise, run the network, decode to mm "
        f"(localisation excluded). Batch 1 latency and batch {data['settings']['batches'][-1]} throughput; 'of "
        f"peak' is the model's FLOPs per second over this machine's float32 matrix-product rate measured in the "
        f"same run ({peaks['1']:.0f} GFLOP/s on 1 thread, {peaks['2']:.0f} on 2).",
        table(["model", "backend", "threads", "batch", "ms per batch", "frames/s", "of peak"], rows),
        table(["model", "MFLOP per frame", "parameters"], flops),
    ]
    if "default_batch1_1thread_fps" in data:
        fps = data["default_batch1_1thread_fps"]
        verdict = "meets" if fps >= data["target_fps"] else "misses"
        parts.append(
            f"Default model (`{data['default_model']}`), batch 1, one thread: **{fps:.0f} frames/s**, {verdict} the "
            f"target of {data['target_fps']:.0f}."
        )
    parts += [source("inference", data, folder), "![inference](figures/inference.png)"]
    return "\n\n".join(parts)


def synth_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "## Data\n\n" + missing("synth")
    rendered = [[label, f"{rate:.0f}"] for label, rate in data["rendered_frames_per_s"].items()]
    consumed = [
        [f"`{name}`", *(f"{rate:.0f}" for rate in rates.values()), "yes" if data["generator_ahead"][name] else "**no**"]
        for name, rates in data["consumed_frames_per_s"].items()
    ]
    threads = list(next(iter(data["consumed_frames_per_s"].values())))
    exact = data["exactness"]
    return "\n\n".join(
        [
            "## Data",
            "Synthetic frames rendered per second (shards written to disk included), against frames consumed per "
            "second by training each model (optimiser steps on a fixed batch of 32). With 2 cores, one DataLoader "
            "worker renders while training uses the other, so the generator stays ahead when one worker renders "
            "faster than the model trains on one thread.",
            table(["setting", "frames/s"], rendered),
            table(["model", *(f"trains, {t} thread(s)" for t in threads), "generator ahead"], consumed),
            f"Ray caster against the sphere-traced reference on {data['settings']['exactness_hands']} random hands: "
            f"largest depth difference {exact['largest_mm']:.2e} mm, {exact['hit_miss_disagreements']} of "
            f"{exact['hand_pixels']} hand pixels hit or missed differently.",
            source("synth", data, folder),
        ]
    )


def _reached(value: float | None, bold: bool = False) -> str:
    if value is None:
        return "-"
    return f"**{value:.2f}**" if bold else f"{value:.2f}"


def training_section(data: dict | None, folder: Path, figures: Path) -> str:
    if data is None:
        return "## Training\n\n" + missing("training")
    rates = [[f"`{name}`", f"{rate:.1f}"] for name, rate in data["samples_per_s"].items()]
    parts = [
        "## Training",
        f"Samples per second of `handgraph train`'s loop ({data['settings']['steps_per_rate']} steps, batch 32, "
        "128x128, frames drawn on the fly by one worker).",
        table(["model", "samples/s"], rates),
    ]
    designs = {name: entry for name, entry in data["time_to_accuracy"].items() if entry["seeds"]}
    if designs:
        budgets = data["settings"]["budgets_min"]
        rows = []
        for name, accuracy in designs.items():
            rows += [
                [f"`{name}`", seed, e.get("cpu", "not recorded"), *(_reached(e["reached_mm"][str(b)]) for b in budgets)]
                for seed, e in accuracy["seeds"].items()
            ]
            mean = accuracy["mean_reached_mm"]
            rows.append([f"`{name}`", "mean", "", *(_reached(mean[str(b)], bold=True) for b in budgets)])
        parts += [
            "Time to accuracy of the two hand graph transformer designs: validation mean joint error (mm, 500 "
            "frames) reached after minutes of training (evaluations excluded), from the ablation's runs (1800 "
            "steps of batch 32 each; a run that ended before a budget counts with its last evaluation). Minutes "
            "compare only on one host: the 2-core hosts met differ by 1.5x, and runs before the ablation recorded "
            "its host say 'not recorded'.",
            table(["model", "seed", "cpu", *(f"{b} min" for b in budgets)], rows),
        ]
        figure, axes = plt.subplots(figsize=(6.4, 4.0))
        for (name, accuracy), colour in zip(designs.items(), ("tab:blue", "tab:orange", "tab:green"), strict=False):
            for k, entry in enumerate(accuracy["seeds"].values()):
                history = entry["history"]
                minutes = [h["train_seconds"] / 60 for h in history]
                axes.plot(minutes, [h["mean_mm"] for h in history], "o-", color=colour, markersize=3, alpha=0.8,
                          label=name if k == 0 else None)  # fmt: skip
        axes.set_xlabel("minutes of training (2 threads)")
        axes.set_ylabel("validation mean error (mm)")
        axes.set_title("Time to accuracy, every seed")
        axes.legend()
        axes.grid(alpha=0.3)
        _save(figure, figures / "time_to_accuracy.png")
        parts.append("![time to accuracy](figures/time_to_accuracy.png)")
    parts.append(source("training", data, folder))
    return "\n\n".join(parts)


def main() -> None:
    args = arguments(__doc__).parse_args()
    folder = results_folder(args.quick)
    page = folder / "benchmarks.md" if args.quick else ROOT / "docs" / "benchmarks.md"
    figures = page.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    sections = [
        "# Benchmarks",
        "Generated by `bench/report.py` from the JSON files in `bench/results/` (`make bench`; `make bench QUICK=1` "
        "checks the scripts in minutes and writes to `bench/results/quick/` instead). Do not edit by hand: edit "
        "`bench/findings.md`, which is appended below.",
        ablation_section(_load(folder, "ablation"), folder, figures),
        refinement_section(_load(folder, "refinement"), folder),
        layer_section(_load(folder, "sia_gcn_layer"), folder, figures),
        inference_section(_load(folder, "inference"), folder, figures),
        synth_section(_load(folder, "synth"), folder),
        training_section(_load(folder, "training"), folder, figures),
        localizer_section(_load(folder, "localizer"), folder),
        tracking_section(_load(folder, "tracking"), folder),
        realism_section(_load(folder, "realism"), folder),
        families_section(_load(folder, "families"), _load(folder, "families_before"), folder),
        cache_section(_load(folder, "cache"), folder),
        fitting_section(_load(folder, "fitting"), folder, figures),
        adapt_section(_load(folder, "adapt"), folder),
        fuzz_section(_load(folder, "fuzz"), folder),
    ]
    if FINDINGS.is_file():
        sections.append(FINDINGS.read_text().strip())
    atomic_write_text(page, "\n\n".join(sections) + "\n")
    print(f"wrote {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
