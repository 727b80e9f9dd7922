"""``handgraph data check``: what is in a copy of one of the field's datasets, and what is wrong with it."""

from __future__ import annotations

import argparse
import textwrap

NAME = "data"
HELP = "check a copy of NYU, ICVL, MSRA15 or HANDS2017 against the published counts, or your own recordings"
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

    examples:
      handgraph data check nyu --root /data/nyu_hand_dataset_v2
      handgraph data check msra --root /data/cvpr15_MSRAHandGestureDB"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from handgraph.datasets import READERS

    parser.add_argument("action", choices=("check",), help="what to do (check: report what is there)")
    parser.add_argument("dataset", choices=tuple(READERS), help="which dataset")
    parser.add_argument("--root", required=True, metavar="DIR", help="the dataset's folder, as published")


def run(args: argparse.Namespace) -> int:
    from handgraph.datasets import check_dataset

    report = check_dataset(args.dataset, args.root)
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
