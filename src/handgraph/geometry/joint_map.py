"""A model's canonical 21 joints as a dataset's scored joints, and the dataset's labels as its scored joints.

Canonical joints map onto a layout's joints through ``JointLayout.canonical`` (approximately: NYU's and ICVL's
landmarks are not anatomical joints, see ``layouts``). The landmarks with no canonical twin are filled as the
synthetic labels place them on the model (``synth.labels``), from the predicted joints:

- NYU ``palm_centre``: 90 % of the way from the wrist to the middle finger's MCP;
- NYU ``wrist_back``: 30 mm from the wrist towards the little finger's side (along little MCP - index MCP);
- ICVL ``palm``: 45 % of the way from the wrist to the middle MCP.

NumPy, or torch for training through the map; shapes (N, J, 3) in mm.
"""

from __future__ import annotations

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.arrays import array_module
from handgraph.geometry.layouts import NYU14_SUBSET
from handgraph.geometry.skeleton import HAND, JointLayout

_WRIST, _MIDDLE_MCP = HAND.index("wrist"), HAND.index("middle_mcp")
_INDEX_MCP, _LITTLE_MCP = HAND.index("index_mcp"), HAND.index("little_mcp")
FILLED = {
    "nyu14:palm_centre": "90 % of the way from the predicted wrist to the middle MCP",
    "nyu14:wrist_back": "30 mm from the predicted wrist towards the little finger's side",
    "icvl16:palm": "45 % of the way from the predicted wrist to the middle MCP",
}


def _filled_points(canonical):
    wrist, middle = canonical[:, _WRIST], canonical[:, _MIDDLE_MCP]
    across = canonical[:, _LITTLE_MCP] - canonical[:, _INDEX_MCP]
    across = across / ((across * across).sum(axis=-1)[:, None] ** 0.5 + 1e-9)
    return {
        "nyu14:palm_centre": wrist + 0.90 * (middle - wrist),
        "nyu14:wrist_back": wrist + 30.0 * across,
        "icvl16:palm": wrist + 0.45 * (middle - wrist),
    }


def canonical_to_layout(canonical, layout: JointLayout):
    """(N, 21, 3) canonical joints -> (N, J, 3) joints of ``layout``, its landmarks without a twin filled.
    NumPy arrays or torch tensors (differentiable: a canonical model learns from a dataset's labels through it)."""
    filled = _filled_points(canonical)
    columns = []
    for own, twin in enumerate(layout.canonical):
        key = f"{layout.name}:{layout.joint_names[own]}"
        if twin is not None:
            columns.append(canonical[:, twin])
        elif key in filled:
            columns.append(filled[key])
        else:
            raise HandgraphError(f"no way to fill {layout.name}'s {layout.joint_names[own]} from canonical joints")
    return array_module(canonical).stack(columns, axis=1)


def mapping_notes(layout: JointLayout) -> list[str]:
    """What a user should know about scoring canonical joints as ``layout``'s: approximate and filled joints."""
    notes = [layout.note] if layout.note else []
    for own, twin in enumerate(layout.canonical):
        key = f"{layout.name}:{layout.joint_names[own]}"
        if twin is None and key in FILLED:
            notes.append(f"{layout.joint_names[own]} has no canonical twin: filled as {FILLED[key]}")
    return notes


def scored_labels(labels: np.ndarray, layout_name: str) -> np.ndarray:
    """A dataset's labels (N, J, 3) as the joints its protocol scores: NYU's 36 -> the 14, others as they are."""
    return labels[:, list(NYU14_SUBSET)] if layout_name == "nyu36" else labels
