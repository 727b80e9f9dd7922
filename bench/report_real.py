"""The sections of docs/benchmarks.md about real frames and data: the hand localiser, real against synthetic
frames, the crop cache (bench/report.py builds the page)."""

from __future__ import annotations

from pathlib import Path

from _markdown import missing, source, table


def localizer_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "## Hand localiser\n\n" + missing("localizer")
    synthetic, real, speed = data["synthetic"], data["real"], data["speed"]
    rows = [
        [name, f"{m['found_percent']:.1f}", f"{m['false_hand_percent']:.1f}", f"{m['median_error_mm']:.1f}",
         f"{m['p95_error_mm']:.1f}"]
        for name, m in (("learned localiser", synthetic["localizer"]), ("nearest blob", synthetic["blob"]))
    ]  # fmt: skip
    found = sum(frame["found"] for frame in real["frames"].values())
    nyu = real["nyu_joint_error_mm"]
    targets = data["targets"]
    timing = [
        [name.replace("_", " "), f"{entry['ms']:.2f}", f"{entry['frames_per_s']:.0f}"] for name, entry in speed.items()
    ]
    return "\n\n".join(
        [
            "## Hand localiser",
            f"The fixed synthetic whole-frame test split ({synthetic['frames']} scenes of `synth.scenes`: people, "
            "raised hands, arms over desks, walls, clutter at the hand's depth, frames without a hand; Kinect v1/v2 "
            'and RealSense SR300/SR305 sensor models). *Found*: "a hand" answered within 100 mm of a true hand '
            'centre; *false hand*: "a hand" on a frame without one; errors are 3D, over frames answered "a '
            'hand". The blob heuristic runs on the same canvases.',
            table(["method", "found %", "false hand %", "median error mm", "p95 error mm"], rows),
            f"Real frames (`../shared/data/real`), no centre given: the learned localiser finds the hand in "
            f"**{found} of {len(real['frames'])}**. On the NYU frame the shipped `hgt` is "
            f"{nyu['localizer']:.1f} mm from the labels (12 joints) with the localiser's centre, "
            f"{nyu['blob']:.1f} mm with the blob's and {nyu['refined_centre']:.1f} mm with the published refined "
            "centre.",
            "![localiser and blob on the real frames](figures/localizer_real_frames.png)",
            "Speed at batch 1 on one thread, networks in ONNX Runtime (targets: localiser "
            f"{targets['localizer_fps']:.0f} frames/s, decoded 640x480 frame to joints {targets['pipeline_fps']:.0f} "
            "frames/s):",
            table(["step", "ms", "frames/s"], timing),
            source("localizer", data, folder),
        ]
    )


def realism_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "## Real and synthetic frames\n\n" + missing("realism")
    rows = [[name, f"{s['missing_share'] * 100:.1f}", f"{s['roughness_mm']:.2f}"] for name, s in data["hands"].items()]
    return "\n\n".join(
        [
            "## Real and synthetic frames",
            "The real frames beside synthetic frames of the same camera, on the localiser's canvas and as the "
            "pose model's 128 x 128 crops. Over the hand's pixels in the crops: holes in and at the edge of the "
            "hand (% of hand and hole pixels), and roughness (median absolute second difference along rows: sensor "
            "noise, not the surface's tilt).",
            table(["source", "holes %", "roughness mm"], rows),
            "![real and synthetic frames](figures/real_vs_synthetic.png)",
            source("realism", data, folder),
        ]
    )


def cache_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "## Crop cache\n\n" + missing("cache")
    rows = [[name.replace("_", " "), f"{rate:.0f}"] for name, rate in data.items() if name.endswith("_per_s") or
            "_per_s_" in name]  # fmt: skip
    return "\n\n".join(
        [
            "## Crop cache",
            f"An NYU-layout copy of {data['settings']['frames']} synthetic 640x480 frames (RGB-packed PNGs and "
            "joint_data.mat): building its crop cache (decoding and cropping), serving crops from the cache as "
            "training reads them, and what training `hgt` on NYU's 14 joints consumes (batch 32, one thread).",
            table(["what", "frames/s"], rows),
            source("cache", data, folder),
        ]
    )
