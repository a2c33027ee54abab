"""gatviz: see what every attention head of a Graph Attention Network attends to."""
from .config import RunConfig
from .errors import GatvizError

__all__ = ["RunConfig", "GatvizError", "show"]


def __getattr__(name):
    # gatviz.show loads torch and PyG only when first used: `import gatviz` stays light (~40 ms)
    if name == "show":
        from .notebook import show
        return show
    raise AttributeError(f"module 'gatviz' has no attribute {name!r}")
