"""Every limit gatviz enforces, in one place.

The CLI, the app, :class:`gatviz.config.RunConfig`, the upload parser,
:func:`gatviz.graphs.build` and :func:`gatviz.render.view` all read these
numbers and refuse past them with :func:`check` or a message built the same
way: the bad value, the allowed range, and where the limit lives
(``gatviz/limits.py``), so a lecturer with a bigger machine knows what to edit.

Edges are counted as the user's file and the report count them: an undirected
edge once (``a,b`` and ``b,a`` are one edge), a directed edge once per direction.
"""
from __future__ import annotations

import math

from .errors import GatvizError

WHERE = "gatviz/limits.py"    # named in every message, so the limit can be found and changed

# Sizes of inputs
MAX_FILE_BYTES = 50_000_000   # per uploaded file (edge file, node file)
MAX_LINE_CHARS = 1_000_000    # one row of a file; a longer one is refused before it is split
MAX_NAME_CHARS = 10_000       # one node name or label; a longer one makes its row unreadable
MAX_NODES = 100_000
MAX_EDGES = 500_000           # undirected edges count once, as the report counts them
# The two above are full-batch training's caps. Past them a run trains in mini-batches
# (gatviz.minibatch: sampled neighbourhoods, exact full-graph eval), up to these:
MAX_NODES_MINIBATCH = 1_000_000
MAX_EDGES_MINIBATCH = 5_000_000
# Eval (logits, α, e_ij) runs one layer at a time in batches of target nodes
# (gatviz.layerwise) past this many message-passing edges, self-loops included: above
# every full-batch graph (MAX_EDGES both ways + MAX_NODES loops), so only mini-batch runs.
LAYERWISE_EVAL_EDGES = 2_000_000
# Targets per batch of that eval. Measured (2 cores, random graph of 200k nodes / 2M edges, GAT
# 8 heads x 8): the full pass 2.7 s at 1.87 GB peak RSS, layer by layer in batches of 10k
# targets 2.6 s at 0.89 GB (50k: 2.8 s at 1.34 GB); the AttentionTable itself stays whole.
LAYERWISE_BATCH_NODES = 10_000

# Integer settings: (smallest, largest). RunConfig validates every one of its fields
# named here; the CLI and the app use the same ranges for their own arguments.
INT_RANGES: dict[str, tuple[int, int]] = {
    "layers": (1, 6),
    "heads": (1, 16),
    "hidden": (1, 256),
    "out_heads": (1, 16),
    "epochs": (1, 100_000),
    "snapshot_every": (1, 100_000),
    "sbm_nodes": (2, MAX_NODES_MINIBATCH),   # past MAX_NODES only in mini-batch mode
    "batch_size": (0, 1_000_000),            # seeds per mini-batch step; 0: full batch where it fits
    "fanout_per_hop": (1, 1_000),            # neighbours sampled per node and hop (RunConfig.fanout)
    "sbm_blocks": (1, 100),
    "dict_size": (2, 100),        # keys per DictionaryLookup instance
    "top_k": (1, 1_000),          # edges drawn per panel of a view
    "hops": (1, 2),               # neighbourhood of a view; beyond 2 it covers most small graphs
    "seed": (0, 2**32 - 1),       # numpy's and most tools' seed range; torch overflows past 2**64
}

# Float settings: (smallest, largest).
FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "dropout": (0.0, 0.95),
    "lr": (1e-6, 1.0),
    "weight_decay": (0.0, 1.0),
    "sbm_p_in": (0.0, 1.0),
    "sbm_p_out": (0.0, 1.0),
}


def check(name: str, value, *, label: str | None = None) -> int | float:
    """``value`` if it lies in the range of setting ``name``, else GatvizError.

    Args:
        name: a key of INT_RANGES or FLOAT_RANGES.
        value: what the user gave.
        label: how the user calls it (``--top-k``); defaults to ``name``.
    """
    label = label or name
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        ok = not isinstance(value, bool) and isinstance(value, int) and lo <= value <= hi
        kind = "an integer"
    else:
        lo, hi = FLOAT_RANGES[name]
        ok = (not isinstance(value, bool) and isinstance(value, (int, float))
              and math.isfinite(value) and lo <= value <= hi)
        kind = "a number"
    if not ok:
        raise GatvizError(f"{label} must be {kind} from {lo:,} to {hi:,}, not {value!r} "
                          f"(limit {name} in {WHERE})")
    return value


def over(subject: str, count: int, unit: str, limit_name: str) -> GatvizError:
    """The error for an input over a size limit: ``over("the graph", n, "nodes", "MAX_NODES")``."""
    limit = globals()[limit_name]    # read now, so a changed (or monkeypatched) limit is what is named
    return GatvizError(f"{subject} has {count:,} {unit}; gatviz handles at most {limit:,} "
                       f"({limit_name} in {WHERE})")


def fits_full_batch(nodes: int, directed_edges: int, directed: bool) -> bool:
    """Within MAX_NODES and MAX_EDGES (an undirected edge, stored both ways, counts once)?"""
    return nodes <= MAX_NODES and (directed_edges if directed else directed_edges // 2) <= MAX_EDGES


def caps(minibatch: bool) -> tuple[str, str]:
    """Names of the node and edge caps of a mode: full batch, or mini-batch."""
    return ("MAX_NODES_MINIBATCH", "MAX_EDGES_MINIBATCH") if minibatch else ("MAX_NODES", "MAX_EDGES")


def parse_fanout(text: str, layers: int) -> list[int]:
    """Neighbours sampled per hop from RunConfig.fanout: "10" (every hop) or "15,10" (one per layer)."""
    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise GatvizError(f"fanout must be whole numbers separated by commas, like 10,10, not {text!r}") from None
    for v in values:
        check("fanout_per_hop", v, label="fanout")
    if len(values) == 1:
        return values * layers
    if len(values) != layers:
        raise GatvizError(f"fanout {text!r} gives {len(values)} numbers for {layers} layers: "
                          "give one number, or one per layer")
    return values
