"""Where the graph models' accuracy comes from: every trained ablation run of gcn_flat, sia_gcn and hgt (and
their variants) decoded three ways on the same test frames.

- initial: the first estimate from the backbone's heatmaps, before any graph layer (integral regression, or
  for hgt's vote the dense vote weighted by them);
- refined: the same from the heatmaps the graph layers refined (gcn_flat's and sia_gcn's output, hgt's first
  estimate);
- output: the model's prediction (for hgt, the graph transformer's decoding).

initial - refined is what the graph layers on the heatmaps add to the model's own first estimate; refined -
output what the transformer adds. Reads the trained runs of bench/ablation.py (bench/runs/ablation/, or
ablation_quick with --quick), so run the ablation first. Writes bench/results/refinement.json.

    .venv/bin/python bench/refinement.py [--quick] [--frames 2000]
"""

from __future__ import annotations

import re

import numpy as np
import torch
from _common import ROOT, arguments, print_table, write_result
from tqdm import tqdm

from handgraph.evaluation.metrics import joint_errors
from handgraph.evaluation.model_eval import split_batches
from handgraph.models import PoseModel
from handgraph.models.checkpoint import load_model
from handgraph.models.hgt import HandGraphTransformer
from handgraph.models.integral import integral_uvd
from handgraph.preprocess.crop import crop_uvd_to_xyz, normalized_to_uvd

GRAPH_MODELS = ("gcn_flat", "sia_gcn", "hgt")
RUN_NAME = re.compile(r"^(?P<label>(?P<model>[a-z_]+)(-[\w.-]+)?)_seed(?P<seed>\d+)$")


def _estimates(model: PoseModel, depth: torch.Tensor, heatmaps: list[torch.Tensor]) -> list[torch.Tensor]:
    """The first estimate (B, J, 3) normalised uvd from each of ``heatmaps``, as the model decodes its own."""
    if isinstance(model, HandGraphTransformer):
        body = model.body(depth)
        return [model.first_estimate(depth, body, logits)[0] for logits in heatmaps]
    depth_maps = model.body(depth)["depth_maps"] if hasattr(model, "body") else model.head(model.backbone(depth))[1]
    return [integral_uvd(logits, depth_maps)[0] for logits in heatmaps]


def _xyz(uvd_norm: torch.Tensor, crop: torch.Tensor, size: int) -> torch.Tensor:
    return crop_uvd_to_xyz(normalized_to_uvd(uvd_norm, crop, size), crop)  # (B, J, 3) mm


@torch.no_grad()
def decode_three_ways(model: PoseModel, frames: int, batch_size: int = 50) -> dict[str, float]:
    """Mean joint error (mm) on the first ``frames`` test frames, from the initial and refined heatmaps and
    from the model's output."""
    model.eval()
    size = model.config.input_size
    errors: dict[str, list[np.ndarray]] = {"initial_mm": [], "refined_mm": [], "output_mm": []}
    for batch, inputs in split_batches("test", size, count=frames, batch_size=batch_size):
        output = model(inputs["depth"], inputs["crop"])
        initial, refined = _estimates(model, inputs["depth"], [output["heatmaps"][0], output["heatmaps"][-1]])
        for key, xyz in (
            ("initial_mm", _xyz(initial, inputs["crop"], size)),
            ("refined_mm", _xyz(refined, inputs["crop"], size)),
            ("output_mm", output["xyz"]),
        ):
            errors[key].append(joint_errors(xyz.double().numpy(), batch["xyz"].astype(np.float64)).mean(axis=1))
    return {key: float(np.concatenate(values).mean()) for key, values in errors.items()}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--frames", type=int, help="test frames per run (default 2000, quick 64)")
    args = parser.parse_args()
    frames = args.frames or (64 if args.quick else 2000)
    runs_folder = ROOT / "bench" / "runs" / ("ablation_quick" if args.quick else "ablation")
    found = sorted(path.parents[1] for path in runs_folder.glob("*/model/checkpoint.json"))
    runs = [(RUN_NAME.match(folder.name), folder) for folder in found]
    runs = [(match, folder) for match, folder in runs if match and match["model"] in GRAPH_MODELS]
    if not runs:
        parser.error(f"no trained gcn_flat, sia_gcn or hgt runs under {runs_folder}: run bench/ablation.py first")
    figures: dict[str, dict] = {}
    for match, folder in tqdm(runs, desc="runs", unit="run"):
        model, _ = load_model(folder / "model")
        entry = figures.setdefault(match["label"], {"model": match["model"], "seeds": [], "per_seed": []})
        entry["seeds"].append(int(match["seed"]))
        entry["per_seed"].append(decode_three_ways(model, frames))
    rows = []
    for label, entry in figures.items():
        for key in ("initial_mm", "refined_mm", "output_mm"):
            entry[key] = float(np.mean([seed[key] for seed in entry["per_seed"]]))
        entry["graph_gain_mm"] = entry["initial_mm"] - entry["refined_mm"]
        entry["transformer_gain_mm"] = entry["refined_mm"] - entry["output_mm"]
        seeds = " ".join(str(seed) for seed in entry["seeds"])
        values = (entry[key] for key in ("initial_mm", "refined_mm", "output_mm", "graph_gain_mm"))
        rows.append([label, seeds, *(f"{value:.2f}" for value in values)])
    print(f"synthetic test split, first {frames} frames, mean joint error (mm) over the seeds")
    print_table(["run", "seeds", "initial", "refined", "output", "graph layers gain"], rows)
    settings = {"frames": frames, "runs_folder": str(runs_folder.relative_to(ROOT))}
    write_result("refinement", args.quick, settings, {"runs": figures})


if __name__ == "__main__":
    main()
