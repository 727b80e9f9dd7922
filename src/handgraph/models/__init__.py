"""The model factory: ``create_model(name, **overrides)`` and ``list_models()``.

Every model takes (depth (B, C, S, S) in [-1, 1], crop (B, 6)) and returns a dict with ``uvd_norm``, ``uvd``,
``xyz`` (B, J, 3) and its supervised ``heatmaps`` (see ``models.base.PoseModel``). ``a2j`` and ``awr`` are the
field's anchor and dense-vote designs, implemented from their papers as peers of handgraph's own.
"""

from __future__ import annotations

from collections.abc import Callable

from handgraph.errors import HandgraphError
from handgraph.models.a2j import A2JModel
from handgraph.models.awr import AWRModel
from handgraph.models.base import PoseModel
from handgraph.models.config import ModelConfig
from handgraph.models.gcn_flat import FlatGCNModel
from handgraph.models.heatmap import HeatmapModel
from handgraph.models.hgt import HandGraphTransformer
from handgraph.models.hgt_interleaved import InterleavedHandGraphTransformer
from handgraph.models.regress import RegressionModel
from handgraph.models.sia_gcn import SIAGCNModel

MODELS: dict[str, Callable[[ModelConfig], PoseModel]] = {
    "regress": RegressionModel,
    "heatmap": HeatmapModel,
    "a2j": A2JModel,
    "awr": AWRModel,
    "gcn_flat": FlatGCNModel,
    "sia_gcn": SIAGCNModel,
    "hgt": HandGraphTransformer,
    "hgt_interleaved": InterleavedHandGraphTransformer,
}
DEFAULT_MODEL = "hgt_interleaved"
"""The model ``handgraph train`` builds unless told otherwise: the one the accuracy ablation ranks first by more
than the spread over seeds (docs/benchmarks.md). The shipped checkpoint is an ``hgt``, trained before it."""


def list_models() -> list[str]:
    """Names ``create_model`` accepts, baselines first, the default model last."""
    return list(MODELS)


def create_model(name: str = DEFAULT_MODEL, **overrides) -> PoseModel:
    """A freshly initialised model; ``overrides`` set fields of ``ModelConfig``."""
    if name not in MODELS:
        raise HandgraphError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](ModelConfig(name=name, **overrides))


def model_from_config(config: ModelConfig) -> PoseModel:
    """A freshly initialised model of a full config (as stored in checkpoints)."""
    return create_model(**config.to_dict())


__all__ = ["DEFAULT_MODEL", "MODELS", "ModelConfig", "PoseModel", "create_model", "list_models", "model_from_config"]
