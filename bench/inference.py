"""Inference speed of every model, end to end per frame: crop a 640x480 frame around a given hand centre,
normalise, run the network, decode to mm (localisation is not included).

Latency at batch 1 and throughput at batch 64, with 1 and 2 threads, in PyTorch eager and in ONNX Runtime
(the model exported by ``handgraph.inference.export``); FLOPs per frame (torch's FlopCounterMode, multiply-add = 2)
and the share of this machine's float32 matrix-product rate, measured in the same run, that each setting
reaches. Target for the default model: at least 200 frames/s at batch 1 on one thread.
Writes bench/results/inference.json.

    .venv/bin/python bench/inference.py [--quick] [--models hgt ...]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import arguments, flops_per_frame, peak_gflops, print_table, seconds_per_call, write_result

from handgraph.inference.export import export_onnx
from handgraph.inference.networks import load_network
from handgraph.models import DEFAULT_MODEL, create_model, list_models
from handgraph.preprocess.crop import frame_crops, intrinsics_tensor
from handgraph.synth.sensor import sensor_preset

TARGET_FPS = 200.0


def _frames(batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``batch`` 640x480 frames with a disc of 'hand' at 600 mm in front of a 1500 mm wall, their camera
    (B, 4) and hand centres (B, 3)."""
    camera = sensor_preset("kinect").camera  # Kinect v1, y down
    rows, columns = np.mgrid[0:480, 0:640]
    disc = np.hypot(rows - 240, columns - 320) < 70
    frame = torch.tensor(np.where(disc, 600.0, 1500.0), dtype=torch.float32)
    intrinsics = intrinsics_tensor(camera).expand(batch, 4).contiguous()
    centres = torch.tensor([[0.0, 0.0, 600.0]]).expand(batch, 3).contiguous()
    return frame.expand(batch, 480, 640).contiguous(), intrinsics, centres


def _pipeline(network, size: int):
    def run(frames, intrinsics, centres):
        return network(*frame_crops(frames, intrinsics, centres, 250.0, size))

    return run


def _eager(model):
    def network(depth, crop):
        return model(depth, crop)["xyz"]

    return network


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--models", nargs="+", default=list_models(), choices=list_models())
    args = parser.parse_args()
    budget = 0.3 if args.quick else 3.0
    batches = (1, 8) if args.quick else (1, 64)
    peaks = {threads: peak_gflops(threads, 1024 if args.quick else 2048, budget) for threads in (1, 2)}
    print(f"float32 matrix product: {peaks[1]:.1f} GFLOP/s on 1 thread, {peaks[2]:.1f} on 2")
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            torch.manual_seed(0)
            model = create_model(name).eval()
            size = model.config.input_size
            flops = flops_per_frame(model)
            path = export_onnx(model, Path(folder) / f"{name}.onnx", {"model": model.config.to_dict()})
            entry = {"flops_per_frame": flops, "params": sum(p.numel() for p in model.parameters()), "runs": []}
            for backend in ("eager", "onnx"):
                for threads in (1, 2):
                    torch.set_num_threads(threads)
                    network = _eager(model) if backend == "eager" else load_network(path, "onnx", threads)
                    run = _pipeline(network, size)
                    for batch in batches:
                        inputs = _frames(batch)
                        with torch.no_grad():
                            seconds = seconds_per_call(lambda run=run, inputs=inputs: run(*inputs), budget)
                        fps = batch / seconds
                        share = flops * fps / 1e9 / peaks[threads]
                        entry["runs"].append(
                            {
                                "backend": backend,
                                "threads": threads,
                                "batch": batch,
                                "ms_per_batch": seconds * 1e3,
                                "frames_per_s": fps,
                                "share_of_peak": share,
                            }
                        )
                        rows.append([name, backend, threads, batch, seconds * 1e3, fps, f"{100 * share:.1f}%"])
            results[name] = entry
    torch.set_num_threads(2)
    print("end to end per frame (crop, network, decode); ms per batch, median")
    print_table(["model", "backend", "threads", "batch", "ms", "frames/s", "of peak"], rows)
    for name, entry in results.items():
        print(f"  {name}: {entry['flops_per_frame'] / 1e6:.0f} MFLOP per frame, {entry['params']:,} parameters")
    summary = {}
    if DEFAULT_MODEL in results:
        single = [
            run["frames_per_s"] for run in results[DEFAULT_MODEL]["runs"] if run["threads"] == 1 and run["batch"] == 1
        ]
        summary = {"default_model": DEFAULT_MODEL, "default_batch1_1thread_fps": max(single), "target_fps": TARGET_FPS}
        verdict = "meets" if max(single) >= TARGET_FPS else "misses"
        print(f"{DEFAULT_MODEL}, batch 1, 1 thread: {max(single):.0f} frames/s, {verdict} the {TARGET_FPS:.0f} target")
    write_result(
        "inference",
        args.quick,
        {"budget_s": budget, "batches": list(batches), "crop_cube_mm": 250.0, "frame": "640x480"},
        {"peak_gflops": {str(k): v for k, v in peaks.items()}, "models": results, **summary},
    )


if __name__ == "__main__":
    main()
