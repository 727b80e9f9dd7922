"""Tracking on labelled synthetic sequences: how well ``handgraph predict`` follows a moving hand.

The benchmark set is 14 sequences of ``synth.sequences`` (seed ``TEST_SEED``, two of each kind: steady, fast
flicks, leaving the view and coming back, behind a pole, the other hand passing in front, holding an object, and
holding one seen by a head-mounted camera over a table), 150 frames each at 30 frames/s from a RealSense SR305
with its sensor model. The shipped pose model and localiser run them the way ``predict`` does
(``inference.tracking.HandTracker``), at the full frame rate and with every 2nd, 5th and 10th frame (a slower
camera or a faster hand), in three ways:

- ``localise``: every frame localised afresh (``predict --no-track``);
- ``track``: the crop from the last frames' motion, the localiser when the hand is lost (``predict``);
- ``track + One Euro``: the same, smoothed by the One Euro filter (``predict --smooth``) with the parameters
  chosen on 7 other sequences (seed ``TUNING_SEED``, one of each kind): of a grid, the pair with the least
  jitter among those that add at most ``ERROR_ALLOWANCE_MM`` to the mean joint error of unsmoothed tracking.

Figures (``evaluation.tracking``): mean joint error, hands lost, frames to find a lost hand again, jitter,
false hands, the frames whose hand localising finds and tracking loses, and frames/s of the whole loop
(localising, cropping, both passes or tracking; one thread).
Written to bench/results/tracking.json; the sequences are kept in bench/runs/tracking/ as recordings.

    .venv/bin/python bench/tracking.py [--quick]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from _common import ROOT, arguments, print_table, write_result
from tqdm import tqdm

from handgraph.evaluation.tracking import found_frames, tracking_metrics
from handgraph.inference.predictor import Predictor
from handgraph.inference.tracking import KEEP_SCORE, HandTracker, OneEuroFilter
from handgraph.synth.sequences import KINDS, SequenceConfig, generate_sequence, read_sequence, write_sequence

TEST_SEED, TUNING_SEED = 4_000_037, 4_000_059
STRIDES = (1, 2, 5, 10)
MIN_CUTOFFS_HZ = (0.5, 1.0, 2.0, 4.0, 8.0)
BETAS_S_PER_MM = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
ERROR_ALLOWANCE_MM = 1.0
"""Smoothing lags: the chosen filter is the one with the least jitter among those that add at most this much to
the mean joint error of unsmoothed tracking on the tuning sequences."""
SEQUENCES = ROOT / "bench" / "runs" / "tracking"


def sequences(seed: int, count: int, config: SequenceConfig) -> list:
    """The sequences of ``seed``, rendered once and kept as recordings in ``SEQUENCES``."""
    kept = []
    for index in tqdm(range(count), desc=f"sequences of seed {seed}", unit="sequence"):
        path = SEQUENCES / f"{seed}_{config.frames}_{index:02d}_{config.kinds[index % len(config.kinds)]}.npy"
        if not path.is_file():
            write_sequence(generate_sequence(config, seed, index), path)
        kept.append(read_sequence(path))
    return kept


def run(predictor: Predictor, sequence, stride: int, mode: str, keep_score: float) -> tuple[np.ndarray, float]:
    """(predicted joints (T', 21, 3) with NaN where no hand was answered, seconds) over every ``stride``-th
    frame of ``sequence``; ``mode`` "localise" resets the tracker before every frame."""
    tracker = HandTracker(predictor, keep_score=keep_score)
    frames = range(0, len(sequence.raw), stride)
    predicted, seconds = np.full((len(frames), 21, 3), np.nan), 0.0
    for k, t in enumerate(frames):
        depth = sequence.raw[t].astype(np.float64) * sequence.depth_scale_mm
        if mode == "localise":
            tracker.reset()
        started = time.perf_counter()
        frame = tracker(depth, sequence.camera, t / sequence.fps)
        seconds += time.perf_counter() - started
        if frame.prediction is not None:
            predicted[k] = frame.prediction.xyz
    return predicted, seconds


def smoothed(predicted: np.ndarray, fps: float, min_cutoff: float, beta: float) -> np.ndarray:
    """The One Euro filter over a tracked sequence's answers, restarted where no hand was answered (as the
    tracker restarts it when the hand is lost; tracking itself follows the unsmoothed joints)."""
    smoother, out = OneEuroFilter(min_cutoff, beta), predicted.copy()
    for k, xyz in enumerate(predicted):
        if np.isnan(xyz).any():
            smoother.reset()
        else:
            out[k] = smoother(xyz, k / fps)
    return out


def choose_one_euro(predictor: Predictor, tuning: list, keep_score: float) -> tuple[dict, list]:
    """The grid's (min cut-off, beta) chosen on the tuning sequences at every stride (see ``ERROR_ALLOWANCE_MM``)."""
    tracked = [(run(predictor, sequence, stride, "track", keep_score)[0], sequence, stride)
               for sequence in tuning for stride in STRIDES]  # fmt: skip
    unsmoothed = tracking_metrics([(predicted, sequence.xyz[::stride], sequence.visible[::stride],
                                    sequence.fps / stride) for predicted, sequence, stride in tracked])  # fmt: skip
    grid = []
    for min_cutoff in MIN_CUTOFFS_HZ:
        for beta in BETAS_S_PER_MM:
            figures = tracking_metrics([
                (smoothed(predicted, sequence.fps / stride, min_cutoff, beta), sequence.xyz[::stride],
                 sequence.visible[::stride], sequence.fps / stride)
                for predicted, sequence, stride in tracked
            ])  # fmt: skip
            grid.append({"min_cutoff_hz": min_cutoff, "beta": beta, **figures})
    allowed = [row for row in grid if row["mean_mm"] <= unsmoothed["mean_mm"] + ERROR_ALLOWANCE_MM]
    best = min(allowed or grid, key=lambda row: row["jitter_m_s2"] if allowed else row["mean_mm"])
    chosen = {"min_cutoff_hz": best["min_cutoff_hz"], "beta": best["beta"], "allowance_mm": ERROR_ALLOWANCE_MM,
              "unsmoothed_mean_mm": unsmoothed["mean_mm"], "unsmoothed_jitter_m_s2": unsmoothed["jitter_m_s2"],
              "mean_mm": best["mean_mm"], "jitter_m_s2": best["jitter_m_s2"]}  # fmt: skip
    return chosen, grid


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--keep-score", type=float, default=KEEP_SCORE, metavar="K",
                        help=f"HandTracker's keep_score (default {KEEP_SCORE}; 1 keeps a hand only above the "
                             "localiser's threshold, as before the second threshold); another value writes "
                             "tracking_keep<K>.json")  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = SequenceConfig(frames=30 if args.quick else 150)
    count, tuning_count = (len(KINDS), 2) if args.quick else (2 * len(KINDS), len(KINDS))
    strides = (1, 5) if args.quick else STRIDES
    predictor = Predictor(threads=1)
    chosen, grid = choose_one_euro(predictor, sequences(TUNING_SEED, tuning_count, config), args.keep_score)
    print(f"One Euro filter chosen on the tuning sequences: min cut-off {chosen['min_cutoff_hz']} Hz, "
          f"beta {chosen['beta']} s/mm")  # fmt: skip
    test = sequences(TEST_SEED, count, config)
    rows, table, by_kind = [], [], {}
    for stride in strides:
        answers = {}  # mode -> [(predicted, truth, visible, fps)], seconds, frames
        for mode in ("localise", "track"):
            progress = tqdm(test, desc=f"{mode}, every {stride}", unit="sequence", leave=False)
            runs = [run(predictor, sequence, stride, mode, args.keep_score) for sequence in progress]
            pooled = [(predicted, sequence.xyz[::stride], sequence.visible[::stride], sequence.fps / stride)
                      for (predicted, _), sequence in zip(runs, test, strict=True)]  # fmt: skip
            answers[mode] = pooled, sum(spent for _, spent in runs), sum(len(predicted) for predicted, _ in runs)
        missed = 0  # frames whose hand the localiser finds and tracking loses
        for (localised, truth, visible, _), (tracked, *_) in zip(answers["localise"][0], answers["track"][0],
                                                                  strict=True):  # fmt: skip
            missed += int((found_frames(localised, truth, visible) & ~found_frames(tracked, truth, visible)).sum())
        pooled, seconds, frames = answers["track"]  # the filter smooths what tracking answered
        smooth = [(smoothed(predicted, fps, chosen["min_cutoff_hz"], chosen["beta"]), truth, visible, fps)
                  for predicted, truth, visible, fps in pooled]  # fmt: skip
        answers["track + One Euro"] = smooth, seconds, frames
        for mode, (pooled, seconds, frames) in answers.items():
            figures = tracking_metrics(pooled) | {"frames_per_s": frames / seconds}
            if mode != "localise":
                figures["lost_where_localised_percent"] = 100.0 * missed / figures["visible_frames"]
            rows.append({"stride": stride, "mode": mode, **figures})
            table.append([stride, mode, figures["mean_mm"], figures["lost_percent"], figures["frames_to_find_again"],
                          figures["jitter_m_s2"], figures["false_hand_percent"], figures["frames_per_s"]])  # fmt: skip
            if stride == 1:
                for kind in dict.fromkeys(sequence.kind for sequence in test):
                    mine = [entry for entry, sequence in zip(pooled, test, strict=True) if sequence.kind == kind]
                    by_kind.setdefault(mode, {})[kind] = tracking_metrics(mine)
    print_table(["every", "mode", "mean mm", "lost %", "frames to find", "jitter m/s2", "false %", "frames/s"], table)
    print_table(["kind", "mode", "mean mm", "lost %", "false %"],
                [[kind, mode, figures["mean_mm"], figures["lost_percent"], figures["false_hand_percent"]]
                 for mode, kinds in by_kind.items() for kind, figures in kinds.items()])  # fmt: skip
    settings = {"sequences": count, "tuning_sequences": tuning_count, "test_seed": TEST_SEED,
                "tuning_seed": TUNING_SEED, "sequence": config.to_dict(), "strides": list(strides), "threads": 1,
                "keep_score": args.keep_score, "checkpoint": str(Path(predictor.checkpoint).relative_to(ROOT)),
                "one_euro_grid": {"min_cutoff_hz": MIN_CUTOFFS_HZ, "beta": BETAS_S_PER_MM}}  # fmt: skip
    name = "tracking" if args.keep_score == KEEP_SCORE else f"tracking_keep{args.keep_score:g}"
    write_result(name, args.quick, settings, {"one_euro": chosen, "rows": rows,
                 "by_kind_every_frame": by_kind, "one_euro_grid": grid})  # fmt: skip


if __name__ == "__main__":
    main()
