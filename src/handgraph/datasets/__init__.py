"""The field's real datasets read as published: NYU, ICVL, MSRA15, HANDS2017; and your own recordings.

``open_split("nyu:test", root)`` returns a :class:`~handgraph.datasets.split.DatasetSplit`; ``check_dataset``
is what ``handgraph data check`` prints. A split is ``NAME:SPLIT`` or ``NAME:SPLIT=FOLD`` (``msra:test=P0``,
``icvl:train=all``).
"""

from __future__ import annotations

import os
from pathlib import Path

from handgraph.datasets import hands2017, icvl, msra, nyu, own
from handgraph.datasets.split import CheckReport, DatasetSplit
from handgraph.errors import HandgraphError

READERS = {"nyu": nyu, "icvl": icvl, "msra": msra, "hands2017": hands2017, "own": own}


def _reader(name: str):
    if name not in READERS:
        raise HandgraphError(f"unknown dataset {name!r}; known: {', '.join(READERS)}")
    return READERS[name]


def _root(root: str | os.PathLike) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise HandgraphError(f"{root}: no such folder")
    return root


def open_split(spec: str, root: str | os.PathLike) -> DatasetSplit:
    """The frames of ``spec`` (e.g. ``nyu:test``, ``msra:test=P0``) in the dataset folder ``root``."""
    name, separator, rest = spec.partition(":")
    if not separator or not rest:
        raise HandgraphError(f"{spec!r}: expected NAME:SPLIT, e.g. nyu:test, icvl:train, msra:test=P0")
    split, _, fold = rest.partition("=")
    return _reader(name).read_split(_root(root), split, fold or None)


def check_dataset(name: str, root: str | os.PathLike) -> CheckReport:
    """What is in a copy of dataset ``name`` at ``root`` against the published counts, and what is wrong."""
    return _reader(name).check(_root(root))


__all__ = ["READERS", "CheckReport", "DatasetSplit", "check_dataset", "open_split"]
