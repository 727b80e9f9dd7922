"""Where the graph models' accuracy comes from: every trained ablation run of gcn_flat, sia_gcn, hgt and
hgt_interleaved (and their variants) decoded three ways on the same test frames.

- initial: the first estimate from the backbone's heatmaps, before any graph layer (integral regression, or
  for hgt's vote the dense vote weighted by them);
- refined: the same from the heatmaps the graph layers refined (gcn_flat's and sia_gcn's output, hgt's first
  estimate);
- output: the model's prediction (for hgt, the graph transformer's decoding).

initial - refined is what the graph layers on the heatmaps add to the model's own first estimate; refined -
output what the transformer adds. hgt_interleaved refines maps and tokens together, so its figures go block by
block instead: after block l, the vote under the block's maps alone (``blocks_maps_mm``) and the block's
joints with the tokens' correction (``blocks_mm``; the last is the output). Its "refined" is the last block's
vote. Reads the trained runs of bench/ablation.py (bench/runs/ablation/, or
ablation_quick with --quick), so run the ablation first. Writes bench/results/refinement.json.

Trained runs are large and stay on the machine that trained them. The runs of the models not decoded this time
(not in --models, or with no trained run here) keep their figures from the previous refinement.json, each run
with the commit, command and frame count that measured it (``measured``), so the table can grow model by model.

    .venv/bin/python bench/refinement.py [--quick] [--frames 2000] [--models hgt hgt_interleaved]
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch
from _common import ROOT, STARTED, arguments, print_table, results_folder, write_result
from tqdm import tqdm

from handgraph.evaluation.metrics import joint_errors
from handgraph.evaluation.model_eval import split_batches
from handgraph.models import PoseModel
from handgraph.models.checkpoint import load_model
from handgraph.models.hgt import HandGraphTransformer
from handgraph.models.hgt_interleaved import InterleavedHandGraphTransformer
from handgraph.models.integral import integral_uvd
from handgraph.preprocess.crop import crop_uvd_to_xyz, normalized_to_uvd

GRAPH_MODELS = ("gcn_flat", "sia_gcn", "hgt", "hgt_interleaved")
RUN_NAME = re.compile(r"^(?P<label>(?P<model>[a-z_]+)(-[\w.-]+)?)_seed(?P<seed>\d+)$")


def _estimates(model: PoseModel, depth: torch.Tensor, output: dict) -> dict[str, torch.Tensor | list[torch.Tensor]]:
    """(B, J, 3) normalised uvd estimates from the initial and the refined heatmaps, as the model decodes its
    own first estimate, and for hgt_interleaved every block's."""
    if isinstance(model, InterleavedHandGraphTransformer):
        blocks = output["block_estimates"]
        return {"initial": output["estimate"], "refined": blocks[-1], "blocks_maps": blocks,
                "blocks": output["block_uvd_norm"]}  # fmt: skip
    initial, refined = _first_estimates(model, depth, [output["heatmaps"][0], output["heatmaps"][-1]])
    return {"initial": initial, "refined": refined}


def _first_estimates(model: PoseModel, depth: torch.Tensor, heatmaps: list[torch.Tensor]) -> list[torch.Tensor]:
    """The first estimate (B, J, 3) normalised uvd from each of ``heatmaps``, as the model decodes its own."""
    if isinstance(model, HandGraphTransformer):
        body = model.body(depth)
        return [model.first_estimate(depth, body, logits)[0] for logits in heatmaps]
    depth_maps = model.body(depth)["depth_maps"] if hasattr(model, "body") else model.head(model.backbone(depth))[1]
    return [integral_uvd(logits, depth_maps)[0] for logits in heatmaps]


def _xyz(uvd_norm: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    return crop_uvd_to_xyz(normalized_to_uvd(uvd_norm, crop, size), crop)  # (B, J, 3) mm


@torch.no_grad()
def decode_three_ways(model: PoseModel, frames: int, batch_size: int = 50) -> dict[str, float | list[float]]:
    """Mean joint error (mm) on the first ``frames`` test frames, from the initial and refined heatmaps and
    from the model's output; for hgt_interleaved also after every block (lists, block 1 first)."""
    model.eval()
    size = model.config.input_size
    errors: dict[str, list[np.ndarray]] = {}
    for batch, inputs in split_batches("test", size, count=frames, batch_size=batch_size):
        output = model(inputs["depth"], inputs["crop"])
        decoded = {**_estimates(model, inputs["depth"], output), "output": output["uvd_norm"]}
        truth = batch["xyz"].astype(np.float64)
        for key, uvd in decoded.items():
            per_block = uvd if isinstance(uvd, list) else [uvd]
            frame_errors = [
                joint_errors(_xyz(u, inputs["crop"], size).double().numpy(), truth).mean(axis=1) for u in per_block
            ]
            errors.setdefault(f"{key}_mm", []).append(np.stack(frame_errors))  # (blocks, B)
    means = {key: np.concatenate(values, axis=1).mean(axis=1) for key, values in errors.items()}
    return {
        key: [float(m) for m in value] if key.startswith("blocks") else float(value[0]) for key, value in means.items()
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--frames", type=int, help="test frames per run (default 2000, quick 64)")
    parser.add_argument("--models", nargs="+", choices=GRAPH_MODELS, default=list(GRAPH_MODELS),
                        help="the models whose trained runs to decode (default: all graph models)")  # fmt: skip
    args = parser.parse_args()
    frames = args.frames or (64 if args.quick else 2000)
    runs_folder = ROOT / "bench" / "runs" / ("ablation_quick" if args.quick else "ablation")
    found = sorted(path.parents[1] for path in runs_folder.glob("*/model/checkpoint.json"))
    runs = [(RUN_NAME.match(folder.name), folder) for folder in found]
    runs = [(match, folder) for match, folder in runs if match and match["model"] in args.models]
    if not runs:
        parser.error(f"no trained {', '.join(args.models)} runs under {runs_folder}: run bench/ablation.py first")
    measured = {key: STARTED[key] for key in ("commit", "uncommitted_changes", "command")} | {"frames": frames}
    figures: dict[str, dict] = {}
    for match, folder in tqdm(runs, desc="runs", unit="run"):
        model, _ = load_model(folder / "model")
        entry = figures.setdefault(
            match["label"], {"model": match["model"], "seeds": [], "per_seed": [], "measured": measured}
        )
        entry["seeds"].append(int(match["seed"]))
        entry["per_seed"].append(decode_three_ways(model, frames))
    for entry in figures.values():
        _summarise(entry)
    kept = _earlier_runs(results_folder(args.quick) / "refinement.json", set(figures))
    every = {**kept, **figures}
    rows, block_rows = [], []
    for label, entry in every.items():
        name = label if label in figures else f"{label} (at {entry['measured']['commit'][:7]})"
        seeds = " ".join(str(seed) for seed in entry["seeds"])
        values = (entry[key] for key in ("initial_mm", "refined_mm", "output_mm", "graph_gain_mm"))
        rows.append([name, seeds, *(f"{value:.2f}" for value in values)])
        for key in ("blocks_maps_mm", "blocks_mm"):
            if key in entry:
                block_rows.append([name, key.removesuffix("_mm"), *(f"{value:.2f}" for value in entry[key])])
    print(f"synthetic test split, first {frames} frames, mean joint error (mm) over the seeds")
    print_table(["run", "seeds", "initial", "refined", "output", "graph layers gain"], rows)
    if block_rows:
        print("after each block (blocks_maps: the vote under the block's maps; blocks: with the tokens' correction)")
        width = max(len(row) for row in block_rows) - 2
        print_table(["run", "decoded", *(f"block {k + 1}" for k in range(width))], block_rows)
    if kept:
        print("(at <commit>): kept from the previous refinement.json, measured then; their trained runs are not here")
    settings = {"frames": frames, "runs_folder": str(runs_folder.relative_to(ROOT))}
    write_result("refinement", args.quick, settings, {"runs": every})


def _summarise(entry: dict) -> None:
    """A run's means over its seeds, in place: the three decodings, every block's, and the gains."""
    for key in ("initial_mm", "refined_mm", "output_mm"):
        entry[key] = float(np.mean([seed[key] for seed in entry["per_seed"]]))
    for key in ("blocks_maps_mm", "blocks_mm"):
        if key in entry["per_seed"][0]:
            entry[key] = [float(value) for value in np.mean([seed[key] for seed in entry["per_seed"]], axis=0)]
    entry["graph_gain_mm"] = entry["initial_mm"] - entry["refined_mm"]
    entry["transformer_gain_mm"] = entry["refined_mm"] - entry["output_mm"]


def _earlier_runs(path: Path, decoded: set[str]) -> dict[str, dict]:
    """The runs of an earlier refinement.json not decoded now, each with what measured it (``measured``: from
    the run itself, or from the file's own commit and command for a file older than the field)."""
    if not path.exists():
        return {}
    earlier = json.loads(path.read_text())
    own = {key: earlier.get(key) for key in ("commit", "uncommitted_changes", "command")}
    own["frames"] = earlier["settings"]["frames"]
    return {
        label: {**entry, "measured": entry.get("measured", own)}
        for label, entry in earlier["runs"].items()
        if label not in decoded
    }


if __name__ == "__main__":
    main()
