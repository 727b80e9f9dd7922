"""handgraph: 3D hand pose estimation from depth images with graph neural networks.

``handgraph.predict_frames`` is ``handgraph predict`` from Python (``inference.prediction``), ``handgraph.adapt``
is ``handgraph adapt`` (``adaptation``); they are imported on first use, so that ``import handgraph`` stays
light (no torch) for the metrics and file readers.
"""

from handgraph.errors import HandgraphError
from handgraph.io.provenance import version

__version__ = version()
__all__ = ["HandgraphError", "__version__", "adapt", "predict_frames"]


def __getattr__(name: str):
    if name == "predict_frames":
        from handgraph.inference.prediction import predict_frames

        return predict_frames
    if name == "adapt":
        from handgraph.adaptation import adapt

        return adapt
    raise AttributeError(f"module 'handgraph' has no attribute {name!r}")
