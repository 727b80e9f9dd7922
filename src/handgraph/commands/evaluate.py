"""``handgraph evaluate``: score result files against ground truth with the community kit's protocol."""

from __future__ import annotations

import argparse
import textwrap

NAME = "evaluate"
HELP = "score hand pose results against ground truth (mean error, success rate, plots)"
DESCRIPTION = textwrap.dedent(
    """\
    Score 3D hand pose predictions with the protocol of the community evaluation kit: mean 3D joint error
    (mm, over frames and joints), mean per test sequence and per joint, median, and the success rate: the
    share of frames whose largest joint error is within a threshold (0-80 mm), with its area under the curve.
    Result files are read in the community format, one line per frame with J x (u, v, d) or J x (x, y, z);
    CRLF line ends, trailing blank lines and a leading image-name column are accepted. A result file with
    fewer frames than the ground truth is scored on the frames it covers, and the table says so."""
)
EPILOG = textwrap.dedent(
    """\
    datasets (joints scored, camera used for uvd -> xyz, sequences):
      nyu        14 joints, fx 588.03 fy -587.07 cx 320 cy 240 (y up), seq 1 = frames 0-2439, seq 2 = 2440-8251
      icvl       16 joints, fx 240.99 fy 240.96 cx 160 cy 120, seq 1 = lines 1-702, seq 2 = lines 703-1596
      msra       21 joints, fx = fy = 241.42 cx 160 cy 120 (y down, z positive), scored as one sequence
      hands2017  21 joints, fx 475.066 fy 475.066 cx 315.945 cy 245.287, scored as one sequence

    examples:
      handgraph evaluate --dataset nyu --gt nyu_test_groundtruth_label.txt \\
          ICCVW17_NYU_DeepPrior++.txt CVPR18_NYU_V2V_PoseNet.txt --names DeepPrior++ V2V-PoseNet \\
          --json nyu.json --plots plots/
      handgraph evaluate --dataset icvl --gt test_seq_1.txt CVWW15_ICVL_Prior-Refinement.txt
      handgraph evaluate --dataset nyu --gt nyu_test_groundtruth_label.txt CVPR18_NYU_HandPointNet_ori.mat
      handgraph evaluate --checkpoint runs/demo/model --data synthetic:test --json demo.json --plots runs/demo \\
          --predictions runs/demo/predictions.txt --overlays runs/demo/test_overlays.png

      handgraph evaluate --checkpoint checkpoints/hgt-synth --data nyu:test --root /data/nyu \
          --centers center_test_refined.txt --predictions ours.txt --compare CVPR18_NYU_V2V_PoseNet.txt

    a trained model (--checkpoint) is scored on the synthetic benchmark split --data names, with the same
    table, JSON and plots; --predictions writes its predictions in the community format (uvd in the frame
    pixels of the kinect preset's camera, one line per frame). With --data NAME:SPLIT --root DIR it is scored
    on a real dataset read in its published layout (see 'handgraph data check'): its canonical joints are
    mapped to the joints the dataset's protocol scores, and --predictions writes the dataset's result file."""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.datasets.protocol import PROTOCOLS

    parser.add_argument(
        "--dataset", choices=list(PROTOCOLS),
        help="the test set's protocol: which joints, which camera intrinsics, which sequences",
    )  # fmt: skip
    parser.add_argument(
        "--gt", metavar="FILE",
        help="ground truth: community-format text in --gt-format, or a .mat file of xyz in mm",
    )  # fmt: skip
    parser.add_argument(
        "predictions", nargs="*", metavar="PRED",
        help="result files to score: community-format text in --format, or .mat files of xyz in mm",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=["uvd", "xyz"], default="uvd", dest="prediction_format",
        help="coordinates in text result files: uvd = pixels and mm depth, turned into xyz with the dataset's "
        "camera; xyz = mm in the frame that camera defines (NYU: y up) (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--gt-format", choices=["uvd", "xyz"], default="uvd",
        help="coordinates in a text ground-truth file, as for --format (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--names", nargs="+", metavar="NAME",
        help="method names for the table, JSON and plots, one per PRED (default: the file names)",
    )  # fmt: skip
    parser.add_argument(
        "--mat-key", metavar="KEY",
        help="array to read from .mat files (default: the one array of shape (N, J, 3) or (N, 3J), "
        "or a known name such as xyz_estimation or joint_est_wld_xyz)",
    )  # fmt: skip
    parser.add_argument(
        "--json", metavar="FILE",
        help="write every figure as JSON: a list with one object per method (name, frames, mean_mm, "
        "sequence_mean_mm, success_rate, per_joint_mm, ...)",
    )  # fmt: skip
    parser.add_argument(
        "--plots", metavar="DIR",
        help="write success_curves.png (all methods on one figure) and per_joint_errors.png to this folder",
    )  # fmt: skip
    parser.add_argument("--checkpoint", metavar="DIR", help="score a trained model instead of result files")
    parser.add_argument(
        "--data",
        default="synthetic:test",
        metavar="SPLIT",
        help="with --checkpoint: synthetic:test, synthetic:validation, a scene family's test split "
        "(synthetic:test-egocentric, synthetic:test-holding, synthetic:test-surface, "
        "synthetic:test-egocentric-holding-sr300), or a real dataset's split with --root: "
        "nyu:test, icvl:test, msra:test=P0 .. msra:test=P8, hands2017:train (default: %(default)s)",
    )
    parser.add_argument("--root", metavar="DIR", help="with --data NAME:SPLIT: the dataset's folder, as published")
    parser.add_argument(
        "--centers", metavar="FILE_OR_labels",
        help="with a real dataset: crop centres, one 'x y z' line per frame in the dataset's world frame (NYU: "
        "y up), e.g. the refined centres most NYU results use; 'labels' takes the labels' centroid (an oracle); "
        "default: the learned localiser",
    )  # fmt: skip
    parser.add_argument(
        "--compare", nargs="+", default=[], metavar="RESULT",
        help="with a real dataset: published result files (community uvd format) to score in the same table",
    )  # fmt: skip
    parser.add_argument(
        "--predictions",
        dest="predictions_out",
        metavar="FILE",
        help="with --checkpoint: write its predictions in the community format",
    )
    parser.add_argument(
        "--overlays",
        metavar="FILE.png",
        help="with --checkpoint: a grid of test crops with true and predicted skeletons",
    )
    parser.add_argument("--frames", type=int, metavar="N", help="with --checkpoint: score only the first N frames")


def run(args: argparse.Namespace) -> int:
    from handgraph.errors import HandgraphError
    from handgraph.evaluation import evaluate_files, get_protocol

    if args.checkpoint:
        return _run_checkpoint(args)
    if args.dataset is None or args.gt is None or not args.predictions:
        raise HandgraphError("give --dataset, --gt and at least one PRED file, or --checkpoint to score a model")
    for option in ("predictions_out", "overlays", "frames"):
        if getattr(args, option) is not None:
            raise HandgraphError(f"--{option.replace('_out', '').replace('_', '-')} goes with --checkpoint")
    results = evaluate_files(
        dataset=args.dataset,
        ground_truth=args.gt,
        predictions=args.predictions,
        names=args.names,
        prediction_format=args.prediction_format,
        ground_truth_format=args.gt_format,
        mat_key=args.mat_key,
    )
    _report(results, get_protocol(args.dataset), args)
    return 0


def _report(results: list, protocol, args: argparse.Namespace, data: dict | None = None) -> None:
    """The table on stdout, and the JSON (with ``data``: what the figures are on, and where they come from)
    and plots when asked for."""
    from handgraph.evaluation import format_table, write_json, write_plots
    from handgraph.io.provenance import provenance

    print(format_table(results, protocol))
    if args.json:
        write_json(results, args.json, {**(data or {}), "written_by": provenance()})
        print(f"wrote {args.json}")
    if args.plots:
        for path in write_plots(results, protocol, args.plots):
            print(f"wrote {path}")


def _run_checkpoint(args: argparse.Namespace) -> int:
    from handgraph.errors import HandgraphError
    from handgraph.evaluation import get_protocol, score_method, write_joint_text
    from handgraph.evaluation.model_eval import parse_data, predict_split, write_test_overlays
    from handgraph.geometry.camera import xyz_to_uvd
    from handgraph.models.checkpoint import load_model
    from handgraph.models.contract import contract_of
    from handgraph.synth.splits import benchmark_split

    if args.gt or args.predictions or args.dataset not in (None, "synthetic"):
        raise HandgraphError("--checkpoint scores a model on --data; it takes no --gt, PRED or other --dataset")
    if args.frames is not None and args.frames < 1:
        raise HandgraphError(f"--frames must be positive, got {args.frames}")
    if not args.data.startswith("synthetic:"):
        return _run_checkpoint_on_dataset(args)
    if args.root or args.centers or args.compare:
        raise HandgraphError("--root, --centers and --compare go with a real dataset's --data, e.g. nyu:test")
    split = parse_data(args.data)
    model, meta = load_model(args.checkpoint)
    cube = contract_of(meta, f"{args.checkpoint}/checkpoint.json").cube_mm  # the model's own crop
    protocol = get_protocol("synthetic")
    result = predict_split(model, split, args.frames, cube_mm=cube)
    name = args.names[0] if args.names else f"{model.config.name} (step {meta['step']})"
    scored = score_method(
        name, str(args.checkpoint), result["predicted_xyz"], result["xyz"].astype("float64"), protocol
    )
    data = {"source": args.data, "benchmark_version": benchmark_split(split).version, "frames": len(result["xyz"]),
            "cube_mm": cube, "checkpoint": str(args.checkpoint)}  # fmt: skip
    _report([scored], protocol, args, data)
    if args.predictions_out:
        write_joint_text(args.predictions_out, xyz_to_uvd(result["predicted_xyz"], protocol.camera))
        print(f"wrote {args.predictions_out}")
    if args.overlays:
        write_test_overlays(result, model.layout, args.overlays)
        print(f"wrote {args.overlays}")
    return 0


def _run_checkpoint_on_dataset(args: argparse.Namespace) -> int:
    """A checkpoint on a real dataset's split: the table beside --compare files, the community result file."""
    from pathlib import Path

    import numpy as np

    from handgraph.datasets import open_split
    from handgraph.datasets.protocol import dataset_protocol
    from handgraph.errors import HandgraphError
    from handgraph.evaluation import score_method, write_joint_text
    from handgraph.evaluation.dataset_eval import compared_rows, ground_truth_xyz, predict_dataset
    from handgraph.evaluation.evaluate import load_xyz
    from handgraph.geometry.camera import uvd_to_xyz
    from handgraph.geometry.joint_map import mapping_notes
    from handgraph.geometry.skeleton import HAND
    from handgraph.inference.predictor import Predictor

    if args.root is None:
        raise HandgraphError(f"--data {args.data} needs --root DIR, the dataset's folder")
    if args.overlays or args.frames:
        raise HandgraphError("--overlays and --frames go with the synthetic splits")
    split = open_split(args.data, args.root)
    protocol = dataset_protocol(split)
    predictor = Predictor(args.checkpoint)
    if split.uvd is None:
        return _predict_unlabelled(args, split, predictor)
    compared = [load_xyz(path, protocol, "uvd", None) for path in args.compare]  # read before the long run
    lines = [compared_rows(path, len(xyz), split) for path, xyz in zip(args.compare, compared, strict=True)]
    for path, xyz, (_, rows) in zip(args.compare, compared, lines, strict=True):
        if not len(rows):
            first = int(split.published_index.min()) + 1
            print(f"note: {path} covers lines 1-{len(xyz)} of the test set's files, none of the frames this copy "
                  f"holds (from line {first}): left out of the table")  # fmt: skip
    predicted = predict_dataset(predictor, split, args.centers)
    truth = ground_truth_xyz(split)
    frame_numbers = split.published_index  # the sequences of a copy that holds part of the test set
    name = args.names[0] if args.names else f"{predictor.network.name} ({predicted.centre_source} centres)"
    ours = uvd_to_xyz(predicted.uvd, protocol.camera)
    results = [score_method(name, str(args.checkpoint), ours, truth, protocol, frame_numbers=frame_numbers)]
    for path, xyz, (taken, rows) in zip(args.compare, compared, lines, strict=True):
        if not len(rows):
            continue
        results.append(score_method(Path(path).stem, str(path), xyz[taken], truth, protocol, rows=rows,
                                    frame_numbers=None if frame_numbers is None else taken))  # fmt: skip
    cube = "the dataset's per frame" if predictor.cube_per_frame else predictor.cube_mm
    data = {"source": split.name, "root": str(split.root), "frames": len(split), "centres": predicted.centre_source,
            "cube_mm": cube, "checkpoint": str(args.checkpoint)}  # fmt: skip
    _report(results, protocol, args, data)
    for note in split.notes:
        print(f"note: {note}")
    if split.notes and split.published_index is not None and args.compare:
        print(f"note: the --compare files are scored on the {len(split)} frames this copy holds, by their lines in "
              "the published test set's order")  # fmt: skip
    if predictor.layout.name == HAND.name:
        for note in mapping_notes(protocol.layout):
            print(f"note: {note}")
    cube = "the dataset's per-frame" if predictor.cube_per_frame else f"the model's own {predictor.cube_mm:g} mm"
    print(f"note: crops of {cube} cube around {predicted.centre_source} centres"
          + (f"; the localiser said 'no hand' on {predicted.not_found} frame(s), its best guess was used"
             if predicted.not_found else "")
          + (f" ({predicted.blob_centres} of them held no depth there: the nearest blob's centre instead)"
             if predicted.blob_centres else ""))  # fmt: skip
    if args.predictions_out:
        write_joint_text(args.predictions_out, predicted.uvd)
        print(f"wrote {args.predictions_out}")
        index = split.published_index
        if index is not None and not np.array_equal(index, np.arange(len(split))):
            print(f"note: {args.predictions_out} holds this copy's {len(split)} frames in its order; in the "
                  f"published test set's files they are other lines (from line {index[0] + 1}), so score it "
                  "against this copy")  # fmt: skip
    return 0


def _predict_unlabelled(args: argparse.Namespace, split, predictor) -> int:
    """A split without public labels (HANDS2017's test frames): predictions only, one line per frame in the
    challenge's format, the frame's file name then 21 x (x, y, z) mm."""
    from handgraph.errors import HandgraphError
    from handgraph.evaluation.dataset_eval import predict_dataset
    from handgraph.io.files import atomic_write_text

    if not args.predictions_out or args.compare or args.json or args.plots or args.centers == "labels":
        raise HandgraphError(
            f"{split.name} has no public labels: it can only be predicted, with --predictions FILE (and --centers "
            "FILE or the localiser)"
        )
    predicted = predict_dataset(predictor, split, args.centers)
    lines = [path.name + "\t" + "\t".join(f"{value:.4f}" for value in joints.reshape(-1))
             for path, joints in zip(split.files, predicted.xyz, strict=True)]  # fmt: skip
    atomic_write_text(args.predictions_out, "\n".join(lines) + "\n")
    print(f"wrote {args.predictions_out}: {len(lines)} frames of {split.name}, no labels to score against")
    return 0
