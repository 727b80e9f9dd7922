"""The trained networks shipped with handgraph, as package data: they travel with every install (a wheel, the
repository's URL, an editable checkout), found through the package.

    POSE_MODEL   hgt-synth/   the hand graph transformer trained on synthetic hands (``handgraph predict``'s default)
    LOCALIZER    localizer/   the hand localiser that finds the hand in a whole frame

In the repository, ``checkpoints/hgt-synth`` and ``checkpoints/localizer`` are links to these folders.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from handgraph.errors import HandgraphError

POSE_MODEL = Path(str(files(__name__) / "hgt-synth"))
LOCALIZER = Path(str(files(__name__) / "localizer"))


def shipped(folder: Path) -> Path:
    """``folder`` (one of the above) if its checkpoint is there, else an error saying what is missing."""
    if not (folder / "checkpoint.json").is_file():
        raise HandgraphError(
            f"the shipped network is not at {folder}: this install of handgraph lacks its package data; "
            "reinstall it, or pass a checkpoint folder"
        )
    return folder
