r"""The network: a stack of PyG ``GATConv`` (or ``GATv2Conv``) layers.

GAT (Veličković et al., 2018), per head and layer:

.. math::
    z_i = W h_i, \qquad
    e_{ij} = \mathrm{LeakyReLU}\big(a^\top [z_i \,\|\, z_j]\big), \qquad
    \alpha_{ij} = \mathrm{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}(e_{ij}), \qquad
    h_i' = \sigma\Big(\sum_j \alpha_{ij} z_j\Big)

GATv2 (Brody et al., 2022) scores with
:math:`e_{ij} = a^\top \mathrm{LeakyReLU}(W [h_i \,\|\, h_j])`, so the ranking
of neighbours can depend on the attending node i ("dynamic" attention).

Hidden layers concatenate their K heads and apply ELU; the output layer
averages its heads and returns logits. Dropout hits the input features, every
hidden activation and alpha itself (training only).
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GATv2Conv, GCNConv
from torch_geometric.index import index2ptr
from torch_geometric.utils import add_self_loops, index_sort, remove_self_loops, scatter, segment

from .config import RunConfig
from .errors import GatvizError
from .sparse import CsrLinear, Transposer, first_linears

_TEMPLATE_SUFFIXES = ("_propagate", "_edge_updater")
SEEN_EDGES = 8   # edge tensors a model remembers for its Segments (a trainer uses 1 + layers)
_BUILD_LOCK = threading.Lock()
_template_files_gone: set[str] = set()


def drop_template_files() -> None:
    """Remove the files PyG leaves in the temp folder for its conv classes' generated code.

    PyG renders a conv class's ``propagate`` (and ``edge_updater``) from a template into a
    temporary ``.py`` file, imports it once per process and keeps the file
    (``torch_geometric.template``): without this, every process that builds a model (the
    app, each CLI command) would leave 2-4 files there for good. The modules are imported
    by then and never read their files again. Called after a model is built.
    """
    folder = os.path.realpath(tempfile.gettempdir())
    # a copy in one step: other threads import meanwhile (a server's other sessions), and
    # list(sys.modules.items()) can let one in halfway (a garbage collection that its tuples
    # start runs finalisers, i.e. Python code): "dictionary changed size during iteration"
    for name, module in sys.modules.copy().items():
        if name in _template_files_gone or not name.endswith(_TEMPLATE_SUFFIXES):
            continue
        path = getattr(module, "__file__", None)
        if path and os.path.dirname(os.path.realpath(path)) == folder:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            _template_files_gone.add(name)


def dropout(x: Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> Tensor:
    """Inverted dropout (``F.dropout``'s distribution) drawing from ``generator``.

    A trainer's own generator lets sessions train at once in threads without one global
    RNG lock and still reproduce their runs. ``rand >= p`` is ~2.5x faster than the
    bernoulli draw of ``F.dropout`` on CPU (Cora: 4 ms of an epoch down to 1.6 ms).
    """
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep.to(x.dtype).mul_(1.0 / (1.0 - p))


class Segments:
    """One layer's edges grouped by target node, for the softmax's maximum per target.

    PyG's ``softmax`` subtracts each target's largest score first (for stable ``exp``) and
    finds it with ``scatter_reduce`` (amax), the slowest step of a GAT layer on CPU: on Cora
    0.52 ms of the first layer's 1 ms softmax. Over the edges sorted by target once, the
    same maximum is a segment max (0.16 ms). A maximum has no rounding, so alpha is PyG's
    bit for bit. Sorting costs about as much as the scatter it saves (0.47 ms), so the
    model makes segments only for edges it sees again (:meth:`GAT._segments`).
    """

    def __init__(self, edges: Tensor, num_nodes: int):
        self.edges, self.version, self.num_nodes = edges, edges._version, num_nodes
        target, self.order = index_sort(edges[1], max_value=num_nodes)   # (any order within a target)
        self.ptr = index2ptr(target, num_nodes)

    def current(self, edges: Tensor, num_nodes: int) -> bool:
        """Made from these very edges, unchanged since (no in-place write: the version counter)?"""
        return edges is self.edges and edges._version == self.version and num_nodes == self.num_nodes

    def fits(self, index: Tensor, dim_size: int | None) -> bool:
        """Is ``index`` (the targets a conv's edge update gets) these edges' targets, unchanged?"""
        target = self.edges[1]
        return (index.numel() > 0 and dim_size == self.num_nodes and index.data_ptr() == target.data_ptr()
                and index.shape == target.shape and index.stride() == target.stride()
                and self.edges._version == self.version)

    def softmax(self, score: Tensor, index: Tensor) -> Tensor:
        """``torch_geometric.utils.softmax(score, index, num_nodes=...)``, the maximum taken per segment."""
        top = segment(score.detach().index_select(0, self.order), self.ptr, reduce="max")
        out = (score - top.index_select(0, index)).exp()
        total = scatter(out, index, 0, dim_size=self.num_nodes, reduce="sum") + 1e-16
        return out / total.index_select(0, index)


class _OwnDropout:
    """Attention dropout on alpha from the model's generator; PyG's own (``self.dropout``) is 0.

    Only the draw changes: alpha in eval mode, what ``return_attention_weights`` gives, is
    PyG's ``edge_update``'s, bit for bit: its own code, or (inside :class:`GAT`'s forward,
    for edges given :class:`Segments`) the same score and softmax with a faster maximum.
    """
    attention_dropout = 0.0
    generator: torch.Generator | None = None
    segments: Segments | None = None   # set by GAT.forward for the call, then unset

    def _drop(self, alpha: Tensor) -> Tensor:
        return dropout(alpha, self.attention_dropout, self.training, self.generator)

    def _segments_for(self, index: Tensor, edge_attr: Tensor | None, dim_size: int | None) -> Segments | None:
        seg = self.segments
        return seg if seg is not None and edge_attr is None and seg.fits(index, dim_size) else None


class GAT1(_OwnDropout, GATConv):
    """``GATConv`` with :class:`_OwnDropout`."""

    def edge_update(self, alpha_j: Tensor, alpha_i: Tensor | None, edge_attr: Tensor | None, index: Tensor,
                    ptr: Tensor | None, dim_size: int | None) -> Tensor:
        seg = self._segments_for(index, edge_attr, dim_size)
        if seg is None:
            return self._drop(super().edge_update(alpha_j, alpha_i, edge_attr, index, ptr, dim_size))
        # GATConv.edge_update's score: a_src . z_j + a_dst . z_i, LeakyReLU
        score = F.leaky_relu(alpha_j if alpha_i is None else alpha_j + alpha_i, self.negative_slope)
        return self._drop(seg.softmax(score, index))


class GAT2(_OwnDropout, GATv2Conv):
    """``GATv2Conv`` with :class:`_OwnDropout`."""

    def edge_update(self, x_j: Tensor, x_i: Tensor, edge_attr: Tensor | None, index: Tensor,
                    ptr: Tensor | None, dim_size: int | None) -> Tensor:
        seg = self._segments_for(index, edge_attr, dim_size)
        if seg is None:
            return self._drop(super().edge_update(x_j, x_i, edge_attr, index, ptr, dim_size))
        # GATv2Conv.edge_update's score: a . LeakyReLU(W_l h_j + W_r h_i)
        score = (F.leaky_relu(x_i + x_j, self.negative_slope) * self.att).sum(dim=-1)
        return self._drop(seg.softmax(score, index))


CONVS = {"gat": GAT1, "gatv2": GAT2}


def feature_dropout(x: Tensor, p: float, training: bool, generator: torch.Generator | None = None) -> Tensor:
    """Dropout that keeps a sparse CSR matrix sparse.

    A dense ``F.dropout`` on Cora's 2708 x 1433 bag of words draws 3.9 M
    random numbers (~70 % of a training step); only its 49 k non-zeros can
    change the product W x, so dropping those gives the same distribution.
    """
    if not training or p == 0.0:
        return x
    if x.layout == torch.sparse_csr:
        values = dropout(x.values(), p, True, generator)
        return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape,
                                       check_invariants=False)
    return dropout(x, p, True, generator)


class GAT(nn.Module):
    """GAT or GATv2 for node classification (or, for ``model="gcn"``, the GCN baseline).

    Args:
        in_dim: input features F_in.
        num_classes: output logits C.
        config: layers, heads, hidden, out_heads, dropout, model ("gat"/"gatv2"/"gcn").
            GCN (PyG ``GCNConv``, weights 1/sqrt(d_i d_j) with self-loops) has the same depth
            and hidden width heads * hidden, and no attention (``has_attention`` is False).

    Shapes:
        x: (|V|, F_in), dense or sparse CSR; edge_index: (2, |E|) source -> target, with or
        without self-loops (each node gets exactly one, appended at the end, as PyG does).
        returns logits (|V|, C) and, with ``return_attention=True``, per layer a pair
        (edge_index (2, |E'|) with one self-loop per node appended, alpha (|E'|, H_l)).
    """

    def __init__(self, in_dim: int, num_classes: int, config: RunConfig):
        super().__init__()
        # One model built at a time per process: a conv class's first instance renders and
        # imports PyG's template module, and a second thread meanwhile finds it half-made in
        # sys.modules (PyG then falls back, silently, to the generic propagate for good), or
        # drop_template_files() in another thread deletes its file before it is read.
        with _BUILD_LOCK:
            self._build(in_dim, num_classes, config)
            drop_template_files()

    def _build(self, in_dim: int, num_classes: int, config: RunConfig) -> None:
        self.dropout = config.dropout
        self.convs = nn.ModuleList()
        # "gcn": the baseline without attention, same depth and hidden width heads * hidden
        self.has_attention = config.model in CONVS
        if not self.has_attention:
            width = in_dim
            for _ in range(config.layers - 1):
                self.convs.append(GCNConv(width, config.heads * config.hidden, add_self_loops=False))
                width = config.heads * config.hidden
            self.convs.append(GCNConv(width, num_classes, add_self_loops=False))
            self._loops = None
            return
        conv = CONVS[config.model]
        width = in_dim
        # add_self_loops=False: forward() does PyG's loop handling once for all layers
        for _ in range(config.layers - 1):
            self.convs.append(conv(width, config.hidden, heads=config.heads, concat=True,
                                   add_self_loops=False))
            width = config.heads * config.hidden
        self.convs.append(conv(width, num_classes, heads=config.out_heads, concat=False,
                               add_self_loops=False))
        for c in self.convs:
            c.attention_dropout = config.dropout
        # the first layer's W x on sparse features: x's transpose prepared once (gatviz.sparse)
        for name in first_linears(self.convs[0]):
            setattr(self.convs[0], name, CsrLinear(getattr(self.convs[0], name)))
        self._transposer: Transposer | None = None
        self._loops: tuple[Tensor, int, Tensor, int] | None = None
        self._seen: dict[int, tuple[Tensor, Segments | None]] = {}   # see _segments

    @property
    def generator(self) -> torch.Generator | None:
        """Where every dropout of this model draws from (None: torch's global RNG)."""
        return self.__dict__.get("_generator")

    @generator.setter
    def generator(self, value: torch.Generator | None) -> None:
        self.__dict__["_generator"] = value
        for c in self.convs:
            c.generator = value

    def with_self_loops(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        """What each PyG GAT layer would do by default: drop existing self-loops, append one
        per node at the end. Done once per graph rather than in every layer of every forward
        (5 % of a Cora epoch, 13 % at 20k nodes); the result is cached for the same tensor, unchanged."""
        cached = self._loops
        if (cached is None or cached[0] is not edge_index or cached[1] != num_nodes
                or cached[3] != edge_index._version):   # (written in place since)
            loops, _ = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=num_nodes)
            self._loops = cached = (edge_index, num_nodes, loops, edge_index._version)
        return cached[2]

    def _segments(self, edges: Tensor, num_nodes: int) -> Segments | None:
        """:class:`Segments` of a layer's edges from their second use on: every epoch uses a
        trainer's edges (the graph's with self-loops, a receptive field's layers') again; an edge
        tensor used once (a one-layer model's mini-batch) would pay the sort for one softmax.
        CPU only: on a GPU, PyG's scatter is another kernel, not measured against segments here."""
        if edges.device.type != "cpu":
            return None
        seen = self._seen.pop(id(edges), None)   # (put back last: the least recently used go first)
        if seen is None or seen[0] is not edges:
            known = self._seen.copy()   # (in one step: safe beside another thread's forward)
            if len(known) >= SEEN_EDGES:   # forget one seen once first (a mini-batch's)
                once = [key for key, (_, seg) in known.items() if seg is None]
                self._seen.pop(once[0] if once else next(iter(known)), None)
            self._seen[id(edges)] = (edges, None)
            return None
        seg = seen[1]
        if seg is None or not seg.current(edges, num_nodes):
            seg = Segments(edges, num_nodes) if edges.size(1) else None
        self._seen[id(edges)] = (edges, seg)
        return seg

    def forward(self, x: Tensor, edge_index: Tensor | list[Tensor], return_attention: bool = False,
                return_inputs: bool = False):
        """``edge_index``: the graph's edges, or one edge index per layer with its self-loops
        included (a :class:`gatviz.field.Field`'s ``edges``: each layer only where it is read)."""
        if return_attention and not self.has_attention:
            raise GatvizError("GCN has no attention: its weights are fixed, 1/sqrt(d_i d_j) "
                              "(gatviz.compare.gcn_weights)")
        attention, inputs = [], []
        if isinstance(edge_index, list):
            if not self.has_attention:   # GCN normalises by degrees, which a field's edges cut
                raise GatvizError("a receptive field's edges are for the attention models only")
            per_layer = edge_index
        else:
            per_layer = [self.with_self_loops(edge_index, x.size(0))] * len(self.convs)
        if self.training and x.layout == torch.sparse_csr and self.has_attention:
            if self._transposer is None or not self._transposer.fits(x):
                self._transposer = Transposer(x)
            for name in first_linears(self.convs[0]):
                getattr(self.convs[0], name).transposer = self._transposer
        x = feature_dropout(x, self.dropout, self.training, self.generator)
        for layer, conv in enumerate(self.convs):
            inputs.append(x)
            if self.has_attention:
                conv.segments = self._segments(per_layer[layer], x.size(0))
            try:
                if return_attention:
                    x, (loop_index, alpha) = conv(x, per_layer[layer], return_attention_weights=True)
                    attention.append((loop_index, alpha))
                else:
                    x = conv(x, per_layer[layer])
            finally:
                if self.has_attention:
                    conv.segments = None
            if layer < len(self.convs) - 1:
                x = F.elu(x)
                x = dropout(x, self.dropout, self.training, self.generator)
        if return_inputs:
            return x, attention, inputs
        return (x, attention) if return_attention else x
