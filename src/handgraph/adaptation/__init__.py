"""Adapting a pose model to a camera's unlabelled frames (``handgraph adapt``): pseudo-labels that the depth
checks, a per-frame decision on which may teach, and training mixed with synthetic frames (``adapt``)."""

from handgraph.adaptation.selection import SelectionRule
from handgraph.adaptation.self_training import AdaptConfig, adapt

__all__ = ["AdaptConfig", "SelectionRule", "adapt"]
