"""The SIA-GCN layer, batched, against three other ways to compute or bound it.

- loop: the formula edge by edge (``layers.sia_gcn_reference.loop_forward``), one small convolution per edge;
- dense: the same layer over all N x N node pairs (``DenseSIAGCN``), kernels zero off the edges;
- floor: one depthwise grouped convolution of E c maps with E c kernels, the layer's convolution alone: no
  gather, no attention, no aggregation, timed in both memory layouts (NCHW and channels-last) and the faster
  one kept. No implementation of the layer can do less work.

Where a twentieth of the loop's time is less than the floor's, the 20x target cannot be met by any
implementation built on this machine's convolution kernels, and the table says so; the loop's rate of
convolution work (GFLOP/s) is set beside the machine's measured peak (a large float32 matrix product).

Forward and forward+backward, at the sizes the models use (21 nodes, 61 edges, 16 x 16 maps, k = 5; c = 4 in
sia_gcn, c = 1 in hgt) and larger (32 x 32 and 64 x 64 maps), at batch 1 and 64.
Targets: batched >= 20x faster than the loop, and within 2x of the floor. Writes
bench/results/sia_gcn_layer.json.

    .venv/bin/python bench/sia_gcn_layer.py [--quick]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from _common import arguments, peak_gflops, print_table, seconds_per_call, write_result

from handgraph.geometry.skeleton import graph_edges
from handgraph.layers.sia_gcn import SIAGCNLayer
from handgraph.layers.sia_gcn_reference import DenseSIAGCN, loop_forward

# (batch, channels, map side): the models' settings first (sia_gcn's c = 4, then hgt's c = 1).
FULL_SIZES = [
    (1, 4, 16),
    (64, 4, 16),
    (1, 1, 16),
    (64, 1, 16),
    (1, 4, 32),
    (64, 4, 32),
    (1, 1, 64),
    (64, 1, 64),
    (64, 4, 64),
]
QUICK_SIZES = [(1, 4, 16), (8, 4, 16), (2, 1, 32)]


def _floor(layer: SIAGCNLayer):
    """The layer's grouped convolution alone, on (B, E c, H, W) edge maps (in whatever layout they are)."""

    def run(maps: torch.Tensor) -> torch.Tensor:
        return F.conv2d(maps, layer.weight, padding=layer.kernel_size // 2, groups=maps.shape[1])

    return run


def _conv_flops(layer: SIAGCNLayer, x: torch.Tensor) -> float:
    """Forward multiply-adds x 2 of the layer's E c convolutions: the work every way of computing it shares."""
    batch, _, channels, height, width = x.shape
    return 2.0 * batch * layer.num_edges * channels * height * width * layer.kernel_size**2


def _timed(forward, x: torch.Tensor, backward: bool, budget_s: float) -> float:
    def call():
        if backward:
            inputs = x.detach().requires_grad_()
            forward(inputs).sum().backward()
        else:
            with torch.no_grad():
                forward(x)

    return seconds_per_call(call, budget_s, warmup=1)


def main() -> None:
    args = arguments(__doc__).parse_args()
    budget = 0.2 if args.quick else 2.0
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    threads = torch.get_num_threads()
    peak = peak_gflops(threads, budget_s=budget)
    edges = graph_edges()
    rows, results = [], []
    for batch, channels, side in sizes:
        torch.manual_seed(0)
        layer = SIAGCNLayer(channels, edges, 21, kernel_size=5)
        torch.nn.init.normal_(layer.score.weight)
        x = torch.randn(batch, 21, channels, side, side)
        edge_maps = torch.randn(batch, layer.num_edges * channels, side, side)
        ways = {
            "batched": (layer, x),
            "loop": (lambda inputs, layer=layer: loop_forward(layer, inputs), x),
            "dense": (DenseSIAGCN(layer), x),
            "floor_nchw": (_floor(layer), edge_maps),
            "floor_channels_last": (_floor(layer), edge_maps.contiguous(memory_format=torch.channels_last)),
        }
        for backward in (False, True):
            times = {name: _timed(way, inputs, backward, budget) for name, (way, inputs) in ways.items()}
            times["floor"] = min(times["floor_nchw"], times["floor_channels_last"])
            entry = {"batch": batch, "channels": channels, "side": side, "backward": backward}
            entry |= {f"{name}_ms": seconds * 1e3 for name, seconds in times.items()}
            entry["speedup_vs_loop"] = times["loop"] / times["batched"]
            entry["speedup_vs_dense"] = times["dense"] / times["batched"]
            entry["ratio_to_floor"] = times["batched"] / times["floor"]
            flops = _conv_flops(layer, x) * (3 if backward else 1)  # backward: twice the forward's work
            entry["loop_gflops"] = flops / times["loop"] / 1e9
            entry["twenty_x_possible"] = times["loop"] / 20 >= times["floor"]
            results.append(entry)
            pass_name = "fwd+bwd" if backward else "fwd"
            rows.append(
                [f"{batch}x21x{channels}x{side}x{side}", pass_name]
                + [times[name] * 1e3 for name in ("batched", "loop", "dense", "floor")]
                + [entry["speedup_vs_loop"], entry["speedup_vs_dense"], entry["ratio_to_floor"]]
                + [entry["loop_gflops"], "yes" if entry["twenty_x_possible"] else "no"]
            )
    print(f"SIA-GCN layer, 61 edges, k = 5, {threads} threads (ms per call, median; peak {peak:.0f} GFLOP/s)")
    headers = ["input", "pass", "batched", "loop", "dense", "floor", "x loop", "x dense", "/ floor"]
    headers += ["loop GF/s", "20x possible"]
    print_table(headers, rows)
    worst_speedup = min(entry["speedup_vs_loop"] for entry in results)
    worst_floor = max(entry["ratio_to_floor"] for entry in results)
    print(
        f"least speed-up over the loop {worst_speedup:.1f}x (target 20x); most time over the floor {worst_floor:.2f}x"
    )
    write_result(
        "sia_gcn_layer",
        args.quick,
        {
            "threads": threads,
            "kernel_size": 5,
            "edges": int(edges.shape[1]),
            "nodes": 21,
            "budget_s": budget,
            "peak_gflops": peak,
        },
        {"rows": results, "least_speedup_vs_loop": worst_speedup, "most_ratio_to_floor": worst_floor},
    )


if __name__ == "__main__":
    main()
