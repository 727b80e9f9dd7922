"""``handgraph data check`` (what is in a copy of a dataset, and what is wrong with it) and ``handgraph data
cache`` (a split cropped once, for training)."""

from __future__ import annotations

import argparse
import textwrap

NAME = "data"
HELP = "check a copy of NYU, ICVL, MSRA15, HANDS2017 or your own recordings; crop a split once for training"
DESCRIPTION = textwrap.dedent(
    """\
    handgraph data check NAME --root DIR reads the dataset's label files in their original layout, counts its
    frames, labels, subjects and sequences against the published counts, and names every missing or malformed
    file (an unreadable label line, a frame that is missing, a PNG of the wrong kind or size, an MSRA .bin whose
    header promises more pixels than the file holds). It reads each frame's header, not its pixels. The exit
    code is 0 only when the copy is usable for training and scoring."""
)
EPILOG = textwrap.dedent(
    """\
    layouts expected under --root:
      nyu        train/ and test/, each with joint_data.mat and depth_1_0000001.png ...
      icvl       Training/labels.txt, Training/Depth/..., Testing/test_seq_{1,2}.txt, Testing/Depth/...
      msra       P0 ... P8, each with 17 gesture folders of NNNNNN_depth.bin and joint.txt
      hands2017  training/Training_Annotation.txt, training/images/image_D00000001.png ..., frame/images/
      own        camera.json, labels.txt and the frames it names (see handgraph.datasets.own for the format)

    handgraph data cache SPLIT --root DIR --out CACHE crops every frame of a labelled split once (around the
    labels' centroid, or a centres file; the dataset's own cube per frame unless --cube), into checksummed shards
    that 'handgraph train --set data.shards=CACHE model.layout=...' reads; it is reused while its inputs (the
    frame files, labels and centres) are unchanged and rebuilt when they change, and resumes when interrupted.

    examples:
      handgraph data check nyu --root /data/nyu_hand_dataset_v2
      handgraph data cache nyu:train --root /data/nyu_hand_dataset_v2 --out caches/nyu_train
      handgraph data check msra --root /data/cvpr15_MSRAHandGestureDB"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=("check", "cache"),
        help="check: report what is there; cache: crop a labelled split once, for training",
    )  # fmt: skip
    parser.add_argument(
        "target", metavar="NAME_OR_SPLIT",
        help="check: a dataset (nyu, icvl, msra, hands2017, own); cache: a split (nyu:train, msra:train=P0, ...)",
    )  # fmt: skip
    parser.add_argument("--root", required=True, metavar="DIR", help="the dataset's folder, as published")
    parser.add_argument("--out", metavar="DIR", help="cache: the cache's folder")
    parser.add_argument(
        "--centers", default="labels", metavar="FILE_OR_labels",
        help="cache: crop centres, 'labels' (the labels' centroid; default) or a file of one 'x y z' line per frame",
    )  # fmt: skip
    parser.add_argument("--size", type=int, default=128, help="cache: crop side in pixels (default: %(default)s)")
    parser.add_argument("--cube", type=float, metavar="MM", help="cache: cube side (default: the dataset's per frame)")
    parser.add_argument("--workers", type=int, metavar="N", help="cache: processes cropping (default: all cores)")


def run(args: argparse.Namespace) -> int:
    if args.action == "cache":
        return _cache(args)
    return _check(args)


def _cache(args: argparse.Namespace) -> int:
    import time

    from handgraph.datasets.cache import build_crop_cache
    from handgraph.errors import HandgraphError

    if args.out is None:
        raise HandgraphError("data cache needs --out DIR, the cache's folder")
    started = time.perf_counter()
    manifest = build_crop_cache(args.target, args.root, args.out, args.centers, args.size, args.cube,
                                workers=args.workers)  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"{args.out}: {manifest['count']} crops of {manifest['config']['split']} ({manifest['layout']} joints), "
          f"{args.size}x{args.size}, in {seconds:.1f} s; train with --set data.shards={args.out} "
          f"model.layout={manifest['layout']}")  # fmt: skip
    return 0


def _check(args: argparse.Namespace) -> int:
    from handgraph.datasets import check_dataset
    from handgraph.errors import HandgraphError

    for option in ("out", "cube", "workers"):
        if getattr(args, option) is not None:
            raise HandgraphError(f"--{option} goes with data cache")
    report = check_dataset(args.target, args.root)
    width = max(len(row[0]) for row in report.rows) if report.rows else 10
    print(f"{report.dataset} at {report.root}")
    print(f"{'':{width}}  {'here':>18}  {'published':>10}")
    for what, found, published in report.rows:
        print(f"{what:{width}}  {found:>18}  {published:>10}")
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"problem: {problem}")
    verdict = "usable" if report.usable else "NOT usable: fix the problems above"
    print(f"{report.dataset}: {verdict} ({len(report.problems)} problem(s))")
    return 0 if report.usable else 1
