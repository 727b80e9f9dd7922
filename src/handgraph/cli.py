"""The ``handgraph`` command: one subcommand per job, each a thin layer over plain library functions."""

from __future__ import annotations

import argparse
import sys

from handgraph.commands import (
    adapt,
    average,
    data,
    evaluate,
    export,
    fit,
    live,
    predict,
    synth,
    train,
    train_localizer,
)
from handgraph.errors import HandgraphError
from handgraph.io.provenance import version

COMMANDS = (synth, train, evaluate, predict, fit, adapt, export, live, train_localizer, data, average)
"""Modules that each define NAME, HELP, add_arguments(parser) and run(args) -> exit code."""


class OneLineErrorParser(argparse.ArgumentParser):
    """Argument errors as one line that points at --help, instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="handgraph",
        description="3D hand pose estimation from depth images with graph neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"handgraph {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        subparser = subparsers.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            epilog=command.EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(subparser)
        subparser.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except HandgraphError as error:
        print(f"handgraph {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"handgraph {args.command}: interrupted", file=sys.stderr)
        return 130
