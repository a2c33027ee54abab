"""gatviz: see what every attention head of a Graph Attention Network attends to."""
from .config import RunConfig
from .errors import GatvizError

__all__ = ["RunConfig", "GatvizError"]
