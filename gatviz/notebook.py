"""The attention view inline in Jupyter, as BertViz does for transformers.

``gatviz.show(trainer, node="33")`` returns a :class:`View`; a notebook shows
it through ``_repr_html_``. The view is the standalone page of
:func:`gatviz.render.standalone_html` (vis-network and gatviz's script
inlined, no network request), placed in an ``<iframe srcdoc=…>``: classic
Jupyter and JupyterLab treat scripts in an output differently (JupyterLab
does not run a ``<script>`` put in with ``innerHTML``), but both run the
scripts of an iframe's own document. ``sandbox="allow-scripts"`` without
``allow-same-origin`` keeps the page away from the notebook's cookies and DOM.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

from .errors import GatvizError

PANEL_PX = 640          # height of a one-panel view in the notebook (canvas 520 px + legend, title)
MANY_PX = 1100          # "all" heads: a grid of smaller panels


class View:
    """One rendered view: ``html`` is the standalone page; shown inline by Jupyter.

    Attributes:
        html: the self-contained page (what :meth:`save` writes).
        title: its title (graph, node, layer from 1, head).
    """

    def __init__(self, html: str, title: str, height: int = PANEL_PX):
        self.html, self.title, self.height = html, title, height

    def _repr_html_(self) -> str:
        # srcdoc is an attribute: escape(quote=True) turns the page's & < > " ' into entities,
        # which the browser undoes before parsing the page, so nothing in it can end the attribute
        return (f'<iframe srcdoc="{escape(self.html, quote=True)}" title="{escape(self.title, quote=True)}" '
                f'sandbox="allow-scripts" style="width: 100%; height: {int(self.height)}px; border: 0;">'
                "</iframe>")

    def save(self, path: str | Path) -> Path:
        """Write the standalone page (opens offline, from ``file://``)."""
        path = Path(path)
        try:
            path.write_text(self.html, encoding="utf-8")
        except OSError as exc:
            raise GatvizError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        return path

    def __repr__(self) -> str:
        return f"<gatviz View: {self.title}>"


def show(run, node, layer: int = 1, head: int | str = 0, *, hops: int = 1, top_k: int = 40,
         encoding: str = "uniform") -> View:
    """The attention view around ``node``, for a notebook cell.

    Args:
        run: a :class:`gatviz.training.Trainer`, a run directory, or a run zip
            (loaded with :func:`gatviz.runs.load`, every file checked).
        node: the node's name as in the edge list (built-in graphs: their ids; an int is
            read as its name, ``33`` is ``"33"``).
        layer: numbered from 1, as in the app and the CLI.
        head: a head index (from 0), "mean", or "all" (every head and their mean).
        hops: 1 or 2, the neighbourhood drawn; top_k: edges drawn per panel at most.
        encoding: "uniform" (alpha against 1/(deg_i + 1)) or "absolute" (0..1).

    Raises:
        GatvizError: an unknown node, a layer or head out of range, a run that cannot be loaded.
    """
    from . import exports, runs
    from .training import Trainer
    trainer = run if isinstance(run, Trainer) else runs.load(run)
    if not trainer.model.has_attention:
        raise GatvizError("this run is the GCN baseline: it has no attention to show")
    center = trainer.graph.index(str(node))
    import numpy as np
    layers = len(trainer.model.convs)
    layer = int(layer) if isinstance(layer, np.integer) else layer   # numpy's ints are ints here
    head = int(head) if isinstance(head, np.integer) else head
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= layers:
        raise GatvizError(f"layer must be from 1 to {layers}, not {layer!r}")
    if head not in ("mean", "all") and (isinstance(head, bool) or not isinstance(head, int)):
        raise GatvizError(f"head must be a head index, 'mean' or 'all', not {head!r}")
    html = exports.view_html(trainer, center, layer - 1, head, hops=hops, top_k=top_k, encoding=encoding)
    title = f"{trainer.graph.name}, node {trainer.graph.names[center]}, layer {layer}, {exports.head_label(head)}"
    return View(html, title, MANY_PX if head == "all" else PANEL_PX)
