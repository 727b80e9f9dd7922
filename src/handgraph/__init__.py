"""handgraph: 3D hand pose estimation from depth images with graph neural networks."""

from handgraph.errors import HandgraphError

__version__ = "0.1.0"
__all__ = ["HandgraphError", "__version__"]
