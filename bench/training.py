"""Training speed of every model, and time to accuracy of the two hand graph transformer designs.

Samples per second: ``handgraph train``'s own loop (frames drawn on the fly by one DataLoader worker, AdamW,
batch 32, 128x128) for a fixed number of steps per model, timed up to the final evaluation.
Time to accuracy: the validation error (first 500 frames of the validation split) that the ablation runs
(bench/ablation.py) of ``hgt`` and ``hgt_interleaved`` had reached after 2, 5, 10 and 15 minutes of
training, evaluations excluded; run the ablation first. A run that ended before a budget counts with its
last evaluation. Writes bench/results/training.json.

    .venv/bin/python bench/training.py [--quick]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from _common import arguments, print_table, results_folder, write_result

from handgraph.models import DEFAULT_MODEL, list_models
from handgraph.training.config import load_config
from handgraph.training.loop import train

BUDGETS_MIN = (2, 5, 10, 15)
DESIGNS = tuple(dict.fromkeys([DEFAULT_MODEL, "hgt", "hgt_interleaved"]))
"""The models whose time to accuracy is compared: the default and both hand graph transformer designs."""


def samples_per_second(name: str, steps: int) -> float:
    config = load_config("ablation", [f"model.name={name}", f"steps={steps}", f"eval_every={steps}", "eval_frames=8"])
    with tempfile.TemporaryDirectory() as folder:
        train(config, Path(folder) / "run", progress=False)
        history = json.loads((Path(folder) / "run" / "history.json").read_text())
    return steps * config.batch_size / history[-1]["train_seconds"]


def time_to_accuracy(name: str, quick: bool) -> dict:
    """Per seed of the model's ablation runs: per budget, the validation error then, and the history."""
    runs = sorted((results_folder(quick) / "ablation_runs").glob(f"{name}_seed*.json"))
    table = {}
    for path in runs:
        run = json.loads(path.read_text())
        history = run["validation_history"]
        reached = {}
        for budget in BUDGETS_MIN:
            within = [entry for entry in history if entry["train_seconds"] <= 60 * budget]
            reached[str(budget)] = within[-1]["mean_mm"] if within else None
        host = run.get("machine", {}).get("cpu", "not recorded")  # minutes compare only within a host
        table[str(run["seed"])] = {"reached_mm": reached, "history": history, "cpu": host}
    return table


def _mean_reached(accuracy: dict) -> dict:
    """Per budget, the mean over seeds (None where a seed's run had not been evaluated by then)."""
    means = {}
    for budget in BUDGETS_MIN:
        values = [entry["reached_mm"][str(budget)] for entry in accuracy.values()]
        means[str(budget)] = float(np.mean(values)) if values and None not in values else None
    return means


def main() -> None:
    args = arguments(__doc__).parse_args()
    steps = 4 if args.quick else 150
    rates = {name: samples_per_second(name, steps) for name in list_models()}
    print(f"training samples per second, handgraph train's loop ({steps} steps, batch 32, 128x128, frames on the fly)")
    print_table(["model", "samples/s"], [[name, f"{rate:.1f}"] for name, rate in rates.items()])
    accuracy = {name: time_to_accuracy(name, args.quick) for name in DESIGNS}
    for name, seeds in accuracy.items():
        if not seeds:
            print(f"no {name} ablation runs yet: run bench/ablation.py --models {name} for its time to accuracy")
            continue
        rows = []
        for seed, entry in seeds.items():
            reached = entry["reached_mm"]
            values = ("-" if reached[str(b)] is None else f"{reached[str(b)]:.2f}" for b in BUDGETS_MIN)
            rows.append([seed, entry["cpu"], *values])
        print(f"{name}: validation mean joint error (mm) after minutes of training, per ablation seed")
        print_table(["seed", "cpu", *(f"{b} min" for b in BUDGETS_MIN)], rows)
    write_result(
        "training",
        args.quick,
        {"steps_per_rate": steps, "batch_size": 32, "input_size": 128, "budgets_min": list(BUDGETS_MIN)},
        {
            "samples_per_s": rates,
            "default_model": DEFAULT_MODEL,
            "time_to_accuracy": {
                name: {"mean_reached_mm": _mean_reached(seeds), "seeds": seeds} for name, seeds in accuracy.items()
            },
        },
    )


if __name__ == "__main__":
    main()
