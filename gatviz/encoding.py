"""How an edge's alpha becomes a width and a colour in the network view.

Two encodings, named in every legend:

``"uniform"`` (default): alpha relative to uniform attention. Target i spreads its
attention over its deg_i + 1 inputs (neighbours and itself); with no preference each
gets 1/(deg_i + 1). The ratio r_ij = alpha_ij * (deg_i + 1) is 1 for uniform attention,
above 1 for an input i prefers, below 1 for one it neglects. Width is proportional to r
(``UNIFORM_WIDTH`` px at r = 1) and colour is diverging on log2 r: blue below, grey at,
red above uniform, saturated at half and twice uniform, with a square root so that small
departures show: trained GAT attention on Cora mostly stays within 0.85-1.15 of uniform
(an untrained model's within 0.99-1.01), while its hub (node 1358, 169 inputs) gives some
papers 4x uniform. On a fixed 0..1 scale every one of those edges is a hairline.

``"absolute"``: width proportional to alpha on a fixed 0..1 scale (``WIDTH_AT_ONE`` px
at alpha = 1), one colour; heads and layers compare on the same scale.
"""
from __future__ import annotations

import numpy as np

from .errors import GatvizError

ENCODINGS = ("uniform", "absolute")
WIDTH_AT_ONE = 16.0      # px at alpha = 1 ("absolute")
UNIFORM_WIDTH = 2.5      # px at alpha = uniform ("uniform")
MAX_WIDTH = 18.0         # px; ratios above MAX_WIDTH / UNIFORM_WIDTH are drawn at this width
MIN_WIDTH = 0.6          # px, so that a tiny alpha stays visible
RATIO_SPAN = 1.0         # log2 units: colours saturate at 1/2 and 2 times uniform
GAMMA = 0.5              # colour strength = (|log2 r| / RATIO_SPAN) ** GAMMA: small departures show
EDGE = "#3B6EA8"         # the one colour of "absolute"
BELOW, AT, ABOVE = (33, 102, 172), (176, 176, 176), (178, 24, 43)   # ColorBrewer RdBu ends, grey


def check(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise GatvizError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
    return encoding


def widths(alpha: np.ndarray, inputs: np.ndarray, encoding: str) -> np.ndarray:
    """Width in px of every edge: alpha (E,) of edges into targets with ``inputs`` = deg_i + 1 (E,)."""
    if check(encoding) == "absolute":
        return np.maximum(MIN_WIDTH, WIDTH_AT_ONE * alpha)
    return np.clip(UNIFORM_WIDTH * alpha * inputs, MIN_WIDTH, MAX_WIDTH)


def colour(ratio: float) -> str:
    """Diverging colour of alpha / uniform: blue below 1, grey at 1, red above."""
    x = float(np.log2(max(ratio, 1e-9)) / RATIO_SPAN)
    t = float(np.sign(x) * min(1.0, abs(x) ** GAMMA))
    end = ABOVE if t > 0 else BELOW
    rgb = [round(a + abs(t) * (b - a)) for a, b in zip(AT, end)]
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def colours(alpha: np.ndarray, inputs: np.ndarray, encoding: str) -> list[str]:
    if check(encoding) == "absolute":
        return [EDGE] * len(alpha)
    return [colour(r) for r in alpha * inputs]


def legend(encoding: str) -> dict:
    """What the view's legend shows: a title and sample edges (label, width, colour)."""
    if check(encoding) == "absolute":
        return {"title": "edge width ∝ α (fixed 0..1 scale):",
                "items": [{"label": str(a), "width": float(max(MIN_WIDTH, WIDTH_AT_ONE * a)), "color": EDGE}
                          for a in (0.1, 0.25, 0.5, 1.0)]}
    items = [{"label": label, "width": float(np.clip(UNIFORM_WIDTH * r, MIN_WIDTH, MAX_WIDTH)), "color": colour(r)}
             for r, label in ((0.5, "½×"), (0.8, "0.8×"), (1.0, "uniform"), (1.25, "1.25×"), (2.0, "2×"),
                              (4.0, "4×"))]
    return {"title": "edge: α relative to uniform, α·(deg_i+1) (i = the attending node):", "items": items}
