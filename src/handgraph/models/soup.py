"""Weight averages of pose checkpoints fine-tuned from one start (a "model soup").

Fine-tuning a model on new scenes tends to cost it on frames unlike any it was trained on; averaging the
fine-tuned weights with the start's keeps much of both (Wortsman et al., "Robust fine-tuning of zero-shot
models", CVPR 2022, WiSE-FT; "Model soups", ICML 2022). For checkpoints k = 1..K with weights w_k:

    theta = sum_k w_k theta_k,    w_k >= 0,  sum_k w_k = 1

tensor by tensor, batch-norm running statistics included, in float64 and stored in each tensor's own dtype.
Integer tensors (batch-norm's step counts) are not averaged: the first checkpoint's are kept.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from handgraph.errors import HandgraphError
from handgraph.models.checkpoint import load_model, read_checkpoint_meta, save_checkpoint
from handgraph.models.contract import contract_of

WEIGHT_SUM_TOLERANCE = 1e-9
"""Weights given as decimals (0.3, 0.7) sum to 1 within a few float64 ulps; far less than any meant error."""


def average_checkpoints(
    folders: list[str | os.PathLike], out: str | os.PathLike, weights: list[float] | None = None
) -> Path:
    """Write the weighted average of the pose checkpoints in ``folders`` (equal weights when None) to ``out``.
    Every checkpoint must hold the same model config and contract (``models.contract``); ``out`` records
    which checkpoints, with which weights and at which steps, it was averaged from."""
    if len(folders) < 2:
        raise HandgraphError(f"averaging needs two checkpoints or more, got {len(folders)}")
    weights = [1.0 / len(folders)] * len(folders) if weights is None else [float(w) for w in weights]
    if len(weights) != len(folders):
        raise HandgraphError(f"{len(weights)} weights for {len(folders)} checkpoints: give one per checkpoint")
    if min(weights) < 0 or not math.isclose(sum(weights), 1.0, abs_tol=WEIGHT_SUM_TOLERANCE):
        raise HandgraphError(f"averaging weights must be >= 0 and sum to 1, got {weights}")
    for folder in folders:
        if read_checkpoint_meta(folder)["model"].get("name") == "localizer":
            raise HandgraphError(f"{folder}: a hand localiser's checkpoint; only pose models can be averaged")
    models, metas = zip(*(load_model(folder) for folder in folders), strict=True)
    contracts = [contract_of(meta, folder) for meta, folder in zip(metas, folders, strict=True)]
    for folder, model, contract in zip(folders[1:], models[1:], contracts[1:], strict=True):
        if model.config != models[0].config or contract != contracts[0]:
            raise HandgraphError(
                f"{folder}: its model or contract differs from {folders[0]}'s; only checkpoints of one model "
                "(fine-tuned from one start) can be averaged"
            )
    states = [model.state_dict() for model in models]
    average = {}
    for name, first in states[0].items():
        if first.is_floating_point():
            total = sum(w * state[name].double() for w, state in zip(weights, states, strict=True))
            average[name] = total.to(first.dtype)
        else:
            average[name] = first
    model = models[0]
    model.load_state_dict(average)
    sources = [
        {"checkpoint": str(folder), "weight": w, "step": meta["step"]}
        for folder, w, meta in zip(folders, weights, metas, strict=True)
    ]
    step = max(meta["step"] for meta in metas)
    return save_checkpoint(out, model, step, {}, {"average_of": sources}, contract=contracts[0])
