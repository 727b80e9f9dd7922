"""The sections of docs/benchmarks.md about real frames and data: the hand localiser, real against synthetic
frames, the crop cache, kinematic fitting, adapting to a camera (bench/report.py builds the page)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _markdown import missing, source, table  # noqa: E402

from handgraph.geometry.skeleton import HAND  # noqa: E402


def _around_sentence(nyu: dict) -> str:
    if "around_localizer" not in nyu:  # results written before it was measured
        return ""
    around = nyu["around_localizer"]
    return (
        f" One frame's error hangs on where its crop is cut: from 25 centres within 8 pixels of the localiser's "
        f"it is {around['mean']:.1f} mm on average (median {around['median']:.1f}, {around['min']:.1f} to "
        f"{around['max']:.1f})."
    )


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
            "centre." + _around_sentence(nyu),
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


def fitting_section(data: dict | None, folder: Path, figures: Path) -> str:
    if data is None:
        return "## Kinematic fitting\n\n" + missing("fitting")
    synthetic, nyu, speed = data["synthetic"], data["nyu_frame"], data["ik_speed"]
    _fitting_plot(synthetic, figures / "fitting_per_joint.png")
    rows = [
        [f"synthetic test split, {synthetic['frames']} frames", f"{synthetic['raw_mm']:.2f}",
         f"{synthetic['fitted_mm']:.2f}", f"{synthetic['refined_mm']:.2f}", f"{synthetic['refine_ms_per_frame']:.0f}"],
        ["real NYU frame, 12 joints", f"{nyu['raw_mm']:.2f}", f"{nyu['fitted_mm']:.2f}", f"{nyu['refined_mm']:.2f}",
         f"{nyu['refine_ms']:.0f}"],
    ]  # fmt: skip
    return "\n\n".join(
        [
            "## Kinematic fitting",
            "The shipped `hgt`'s joints (*raw*), the kinematic hand fitted to them by inverse kinematics (*fitted*: "
            "constant bones, every angle within its limit) and that fit refined against the frame's depth "
            "(*refined*), each against the true joints. One thread; the refinement runs in batches of 16 frames "
            "(`handgraph.fitting.refine`).",
            table(["frames", "raw mm", "fitted mm", "refined mm", "refinement ms/frame"], rows),
            f"The fit itself moves the raw joints by {synthetic['fit_residual_mm']:.1f} mm on average (its residual) "
            f"and {100 * synthetic['refined_better_share']:.0f} % of the synthetic frames end nearer the truth after "
            f"the refinement. Raw bone lengths vary by {synthetic['raw_bone_length_sd_mm']:.1f} mm between frames "
            "beyond the hands' own sizes; a fit's do not vary within a hand.",
            f"Inverse kinematics on one thread: **{speed['single_ms']:.1f} ms** for one hand (target under 10 ms) and "
            f"**{speed['batched_hands_per_s']:.0f} hands/s** in batches of 1000 (target at least 200).",
            "![per-joint error, raw, fitted and refined](figures/fitting_per_joint.png)",
            source("fitting", data, folder),
        ]
    )


def _fitting_plot(synthetic: dict, path: Path) -> None:
    figure, axes = plt.subplots(figsize=(12, 3.8))
    width = 0.27
    for k, (name, values) in enumerate(synthetic["per_joint_mm"].items()):
        axes.bar(np.arange(21) + k * width, values, width, label=f"{name} ({np.mean(values):.1f} mm)")
    axes.set_xticks(np.arange(21) + width, HAND.joint_names, rotation=60, ha="right", fontsize=8)
    axes.set_ylabel("mean error (mm)")
    axes.set_title(
        f"Synthetic test split ({synthetic['frames']} frames): per-joint error of hgt's joints, fitted, refined"
    )
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def fuzz_section(data: dict | None, folder: Path) -> str:
    """The long fuzz run: inputs per reader, how each was answered, and every kind of failure."""
    if data is None:
        return "## Reliability: the readers fuzzed\n\n" + missing("fuzz")
    rows = [
        [name, f"{r['inputs']:,}", f"{r['refused']:,}", f"{r['accepted']:,}", str(r["failures"]), f"{r['seconds']:.0f}"]
        for name, r in data["readers"].items()
    ]
    totals = data["totals"]
    kinds = [
        f"- {name}: {failure['count']} x {kind}: {failure['message'][:160]}"
        for name, r in data["readers"].items()
        for kind, failure in r["kinds"].items()
    ]
    return "\n\n".join(
        [
            "## Reliability: the readers fuzzed",
            "Every reader a command calls, through that function, fed random bytes, valid files truncated, "
            "bit-flipped or overwritten, numbers replaced by extreme values, huge dimensions and valid files of "
            "the other readers (`bench/fuzz.py`, `tests/fuzz/`). Refused: a one-line error naming the file; "
            "accepted: a result the reader's check finds possible; failures: anything else.",
            table(["reader", "inputs", "refused", "accepted", "failures", "seconds"], rows),
            f"In all {totals['inputs']:,} inputs, {totals['failures']} failures."
            + ("" if not kinds else "\n\n" + "\n".join(kinds)),
            source("fuzz", data, folder),
        ]
    )


def tracking_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "## Tracking\n\n" + missing("tracking")
    settings, chosen = data["settings"], data["one_euro"]

    def cell(value, digits: int = 1) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    rows = [[row["stride"], row["mode"], cell(row["mean_mm"]), cell(row["lost_percent"]),
             cell(row["frames_to_find_again"]), cell(row["jitter_m_s2"], 2), cell(row["false_hand_percent"]),
             cell(row.get("lost_where_localised_percent")), cell(row["frames_per_s"], 0)]
            for row in data["rows"]]  # fmt: skip
    if "by_kind_every_frame" in data:  # lost % and mean joint error per kind
        kinds = data["by_kind_every_frame"]
        kind_names = list(next(iter(kinds.values())))
        kind_rows = [[mode, *(f"{cell(kinds[mode][kind]['lost_percent'])} / {cell(kinds[mode][kind]['mean_mm'])}"
                              for kind in kind_names)] for mode in kinds]  # fmt: skip
        kind_caption = "By kind of sequence at the full frame rate, hands lost % / mean joint error mm:"
    else:  # results written before the mean error was kept per kind
        kinds = data["lost_percent_by_kind_every_frame"]
        kind_names = list(next(iter(kinds.values())))
        kind_rows = [[mode, *(cell(kinds[mode][kind]) for kind in kind_names)] for mode in kinds]
        kind_caption = "Hands lost at the full frame rate, by kind of sequence (%):"
    sequence = settings["sequence"]
    return "\n\n".join(
        [
            "## Tracking",
            f"{settings['sequences']} labelled synthetic sequences (`synth.sequences`, seed {settings['test_seed']}: "
            f"{', '.join(kind_names)}), {sequence['frames']} frames each at {sequence['fps']:g} frames/s from a "
            f"{sequence['sensor']} with its sensor model, run by the shipped networks as `handgraph predict` runs a "
            "sequence, with every frame and with every 2nd, 5th and 10th (a slower camera or a faster hand). "
            "`localise`: every frame found afresh (`--no-track`); `track`: the crop from the hand's motion, the "
            "localiser when it is lost (the default); `track + One Euro`: smoothed (`--smooth`) with the "
            f"parameters chosen on {settings['tuning_sequences']} other sequences (seed {settings['tuning_seed']}), "
            "of a grid, the pair with the least jitter among those that add at most "
            f"{chosen['allowance_mm']:g} mm to unsmoothed tracking's mean joint error: min cut-off "
            f"{chosen['min_cutoff_hz']:g} Hz, beta "
            f"{chosen['beta']:g} s/mm. A visible hand is lost when no hand is answered or its centre is more than "
            "100 mm off; the mean joint error is over the frames where it was found; frames to find again is the "
            "mean length of a run of lost frames; jitter is the mean distance between the predicted and the true "
            "joint acceleration; false hands are answers on frames where the hand is not visible; the next column "
            "counts the visible frames whose hand localising every frame finds and tracking loses; frames/s is the "
            f"whole loop on {settings['threads']} thread.",
            table(
                [
                    "every",
                    "mode",
                    "mean mm",
                    "lost %",
                    "frames to find again",
                    "jitter m/s²",
                    "false hands %",
                    "lost, localising finds it %",
                    "frames/s",
                ],
                rows,
            ),  # fmt: skip
            kind_caption,
            table(["mode", *kind_names], kind_rows),
            source("tracking", data, folder),
        ]
    )


def families_section(data: dict | None, before: dict | None, folder: Path) -> str:
    """Scene families (bench/families.py): now, and with the networks shipped before they were trained on them
    (``families_before.json``) when that was measured."""
    if data is None:
        return "## Scene families\n\n" + missing("families")
    parts = [
        "## Scene families",
        "Each kind of scene apart (`bench/families.py`). The localiser on "
        f"{data['settings']['frames_per_family']} fixed synthetic whole frames per family (`synth.scenes."
        "SCENE_FAMILIES`) with the nearest-blob heuristic on the same canvases: found (within 100 mm of a true "
        "hand), found within 40 mm, false hands on the frames without a visible hand, median centre error. The pose "
        "model on each family's test split (`synthetic:test`, `synthetic:test-egocentric`, ...; crops centred on "
        "the true centre): the mean joint error raw and after Procrustes alignment (PA: the best place, turn and "
        "scale), over visible and hidden joints, from the network and after the depth refinement of "
        "`predict --fit`; and the joint support, which the tracker trusts at 0.5: the share of frames below it and "
        "the mean error of frames above and below. Then whole frames as a camera gives them (when measured): "
        "rendered at 640 x 480 with the sensors' edge effects at full strength, the localiser on the frame "
        "resampled to its canvas as `predict` runs it, the blob on the frame itself, and the whole pipeline "
        "(localiser, pose model, the crop recentred on the predicted joints), whose hand centre is the mean of "
        "its joints.",
    ]
    for label, result, name in (("Now", data, "families"), ("Before (the networks shipped earlier)", before,
                                                              "families_before")):  # fmt: skip
        if result is None:
            continue
        parts.append(f"### {label}")
        parts.extend(_families_tables(result))
        parts.append(source(name, result, folder))
    parts.append("![scene families](figures/families.png)")
    return "\n\n".join(parts)


def _families_tables(figures: dict) -> list[str]:
    def cell(value: float) -> str:
        return "-" if value != value else f"{value:.1f}"  # NaN: nothing to count

    tables = []
    if figures.get("localizer"):
        rows = [[family, name, cell(m["found_percent"]), cell(m["within_40mm_percent"]),
                 cell(m["false_hand_percent"]), cell(m["median_error_mm"])]
                for family, result in figures["localizer"].items() for name, m in result.items()]  # fmt: skip
        tables.append(table(["family", "", "found %", "within 40 mm %", "false hands %", "median error mm"], rows))
    if figures.get("pose"):
        rows = [[split, stage, *(cell(e[key]) for key in ("raw_mm", "procrustes_mm", "raw_visible_mm",
                 "raw_hidden_mm", "procrustes_visible_mm", "procrustes_hidden_mm"))]
                for split, result in figures["pose"].items() for stage, e in
                (("network", result["network"]), ("refined", result["refined"]))]  # fmt: skip
        tables.append(table(["split", "", "mean mm", "PA mm", "visible", "hidden", "PA visible", "PA hidden"], rows))
        rows = [[split, cell(100 * r["hidden_joint_share"]), cell(100 * r["unsure_share"]), cell(r["sure_mm"]),
                 cell(r["unsure_mm"])] for split, r in figures["pose"].items()]  # fmt: skip
        tables.append(table(["split", "hidden joints %", "unsure frames %", "sure frames mm", "unsure frames mm"],
                            rows))  # fmt: skip
    if figures.get("whole_frames"):
        count = figures["settings"].get("whole_frames_per_family", "?")
        edges = figures["settings"]["whole_frames"]["edge_scale"]  # one strength, or a (low, high) range
        edges = "-".join(f"{e:g}" for e in dict.fromkeys(edges)) if isinstance(edges, list) else f"{edges:g}"
        rows = [[family, name, cell(m["found_percent"]), cell(m["within_40mm_percent"]),
                 cell(m["false_hand_percent"]), cell(m["median_error_mm"])]
                for family, result in figures["whole_frames"].items() for name, m in result.items()]  # fmt: skip
        tables.append(f"Whole 640 x 480 frames, {count} per family, edge effects at strength {edges}:")
        tables.append(table(["family", "", "found %", "within 40 mm %", "false hands %", "median error mm"], rows))
    return tables


def adapt_section(data: dict | None, folder: Path) -> str:
    if data is None:
        return "## Adapting to a camera without labels\n\n" + missing("adapt")
    settings, shift = data["settings"], data["domain_shift"]
    sizes = [key for key in shift if key.isdigit()]

    def pair(before: float, after: float, digits: int = 2) -> str:
        return f"{before:.{digits}f} → {after:.{digits}f}"

    rows = []
    for size in sizes:
        result = shift[size]
        for name, caption in (("test_sequences", "other sequences"), ("adaptation_frames", "its own frames")):
            scored = result[name]
            rows.append([size, caption, scored["scored_frames"],
                         pair(100 * scored["found_before"], 100 * scored["found_after"], 1),
                         pair(scored["before"]["raw_mm"], scored["after"]["raw_mm"]),
                         pair(scored["before"]["procrustes_mm"], scored["after"]["procrustes_mm"]),
                         pair(shift["shipped_synthetic_test_mm"], result["synthetic_test_mm"]),
                         f"{result['minutes']:.1f}"])  # fmt: skip

    def both(errors: dict) -> str:
        return f"{errors['raw_mm']:.2f} / {errors['procrustes_mm']:.2f}"

    label_rows = []
    for size in sizes:
        labels = shift[size]["pseudo_labels"]
        label_rows.append([size, labels["hands"], labels["used"], both(labels["network_all"]),
                           both(labels["pseudo_labels_all"]), both(labels["network_used"]),
                           both(labels["pseudo_labels_used"])])  # fmt: skip
    measure_rows = []
    real = {"sr305": "real SR305 sequence, 11 frames", "nyu_frame": "real NYU frame"}
    for name, result in [*((f"synthetic, {size} frames", shift[size]) for size in sizes),
                         *((caption, data[key]) for key, caption in real.items() if key in data)]:  # fmt: skip
        before, after = result["measures_before"], result["measures_after"]
        measure_rows.append([name, pair(before["used"], after["used"], 0),
                             pair(before["residual_mm"], after["residual_mm"]),
                             pair(100 * before["explained"], 100 * after["explained"], 1),
                             pair(100 * before["support"], 100 * after["support"], 0),
                             pair(before["moved_mm"], after["moved_mm"], 1)])  # fmt: skip
    shifted, config = settings["shift"], settings["config"]
    parts = [
        "## Adapting to a camera without labels",
        f"`handgraph adapt` with its defaults ({config['rounds']} rounds of {config['steps']} steps, batches of "
        f"{config['batch_size']} of which {100 * config['real_fraction']:.0f} % pseudo-labelled crops) on "
        f"unlabelled frames of a domain the shipped model never saw: synthetic sequences from a "
        f"{shifted['sensor']} (time of flight), hands {shifted['hand_scale'][0]:g}-{shifted['hand_scale'][1]:g} "
        f"times the average (the shipped model saw 0.8-1.2), {', '.join(shifted['kinds'])}, "
        f"{shifted['distance_mm'][0]:g}-{shifted['distance_mm'][1]:g} mm away, {shifted['frames']} frames each "
        f"(seed {settings['adaptation_seed']}). The labels are hidden from the command. Scored as `predict` runs "
        f"(tracking) on {settings['test_sequences']} other sequences of the same domain (seed "
        f"{settings['test_seed']}) and on the adaptation frames themselves, over the visible frames where both "
        "models found the hand; the synthetic test split checks what the model knew "
        f"({settings['test_frames']} frames). Minutes on this machine, labelling and training.",
        table(
            [
                "frames",
                "scored on",
                "scored frames",
                "hands found %",
                "raw mm",
                "Procrustes mm",
                "synthetic test mm",
                "minutes",
            ],
            rows,
        ),  # fmt: skip
        "The first round's pseudo-labels against the hidden labels, raw / after Procrustes alignment (mm): the "
        "network's joints and the refined kinematic hand's, over all the hands found and over those the rule "
        "let teach:",
        table(
            ["frames", "hands", "used", "network, all", "pseudo-labels, all", "network, used", "pseudo-labels, used"],
            label_rows,
        ),  # fmt: skip
        "The label-free measures before → after (medians over the hands found): frames used by the rule, the "
        "fitted hand's distance from the observed depth, the share of its surface the camera confirms, the "
        "share of the network's joints on the surface, how far the refinement moved them. The real SR305 "
        "sequence (11 frames) and the real NYU frame were adapted on themselves.",
        table(["frames", "used", "depth residual mm", "confirmed %", "support %", "moved mm"], measure_rows),
    ]
    if "nyu_frame" in data:
        nyu = data["nyu_frame"]
        parts.append(f"The NYU frame's 12 joints with a canonical twin, from the localiser's centre: "
                     f"{nyu['before_mm']:.2f} mm with the shipped model, {nyu['after_mm']:.2f} mm adapted on the "
                     "frame itself (test-time adaptation on one frame, `--min-frames 1`).")  # fmt: skip
    if "sr305" in data:
        parts.append(
            "The real SR305 frame 100, shipped and adapted (on the sequence's 11 frames):\n\n"
            "![shipped](figures/adapt_sr305_shipped.png)\n![adapted](figures/adapt_sr305_adapted.png)"
        )
    parts.append(source("adapt", data, folder))
    return "\n\n".join(parts)
