r"""Mini-batch training on sampled neighbourhoods (GraphSAGE-style), for graphs past full batch.

Each step takes ``batch_size`` training nodes (the seeds), samples at most ``fanout[h]``
in-neighbours of every node reached at hop h (uniformly, without replacement; hop 1 is the
seeds' own inputs, as PyG's ``NeighborLoader`` numbers them) and runs the model on the
sampled subgraph. The loss is cross-entropy over the seeds only. PyG's ``NodeLoader`` does
the batching and the slicing of features and labels; the sampling kernel is PyG's own
``NeighborSampler`` (what ``NeighborLoader`` uses) when pyg-lib or torch-sparse is
installed, else :class:`TorchNeighborSampler`, the same uniform sampling in plain torch
(pyg-lib has no wheel for the pinned torch, and torch-sparse would have to be compiled).

Evaluation stays exact: after every epoch the Trainer runs its eval pass (α, e_ij, logits)
on the *full* graph without gradients, as in full-batch mode; only training is sampled.
Past what that pass can hold, a node's view is exact on its receptive field alone
(:func:`gatviz.subgraph.local_attention`).

Reproducible: the shuffling (DataLoader's ``RandomSampler``) and the sampling draw from
torch's global RNG, which the Trainer swaps for the run's own seeded stream while a chunk
runs (under ``_RNG_LOCK``); the caller's global RNG is left as it was.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader
from torch_geometric.sampler import BaseSampler, NeighborSampler, NodeSamplerInput, SamplerOutput

from . import limits
from .errors import GatvizError

DEFAULT_BATCH_SIZE = 1024   # seeds per step when mini-batch mode is chosen automatically


def needed(graph, config) -> bool:
    """Mini-batch mode for this run? Yes when ``batch_size`` > 0, or (``batch_size`` 0,
    automatic) when the graph is past the full-batch caps (MAX_NODES, MAX_EDGES)."""
    if config.batch_size > 0:
        return True
    return not limits.fits_full_batch(graph.num_nodes, graph.num_edges, graph.report.directed)


def check_loss(loss: Tensor, epoch: int, agree=None) -> float:
    """Before a loss is backpropagated: a non-finite one would turn every weight into NaN
    (GatvizError, one line; no step is taken). Returns the loss as a number: the one device
    sync of the step, reused by the caller.

    ``agree``: in a distributed run, a function of the loss that sums it over every process
    (before backward): all of them then stop at the same step, none waits in the gradients'
    all-reduce for a process that stopped."""
    value = loss.item()
    everyone = agree(loss) if agree is not None else value
    if not math.isfinite(value) or not math.isfinite(everyone):
        where = "" if math.isfinite(everyone) or not math.isfinite(value) else " on another process"
        raise GatvizError(f"training stopped at epoch {epoch}: the loss is "
                          f"{value if not math.isfinite(value) else everyone}{where} (features too large, "
                          f"e.g. 1e25? scale them; or lower the learning rate); no step was taken with it")
    return value


class TorchNeighborSampler(BaseSampler):
    """Uniform neighbour sampling without replacement, in plain torch, for PyG's NodeLoader.

    Args:
        edge_index: (2, E) source -> target; sampled per target over its in-edges.
        num_nodes: N.
        fanout: per hop, at most this many in-neighbours of each node of the previous hop.

    ``sample_from_nodes`` returns PyG's ``SamplerOutput``: ``node`` (global ids, seeds
    first, then each hop's new nodes), ``row``/``col`` local source/target of every sampled
    edge, ``edge`` its id in ``edge_index``. Random numbers come from torch's global RNG.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int, fanout: list[int]):
        target = edge_index[1]
        self.perm = torch.argsort(target, stable=True)          # CSC: edges grouped by target
        self.source = edge_index[0][self.perm]
        self.colptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        self.colptr[1:] = torch.cumsum(torch.bincount(target, minlength=num_nodes), 0)
        self.fanout, self.num_nodes = list(fanout), num_nodes
        self._local = torch.full((num_nodes,), -1, dtype=torch.long)   # global -> local, reset after use

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs) -> SamplerOutput:
        seeds = index.node.to(torch.long)
        nodes, rows, cols, edges = [seeds], [], [], []
        sampled_nodes, sampled_edges = [seeds.numel()], []
        local = self._local
        local[seeds] = torch.arange(seeds.numel())
        frontier, count = seeds, seeds.numel()
        try:
            for k in self.fanout:
                start, deg = self.colptr[frontier], self.colptr[frontier + 1] - self.colptr[frontier]
                group = torch.repeat_interleave(torch.arange(frontier.numel()), deg)
                offset = torch.arange(group.numel()) - torch.repeat_interleave(torch.cumsum(deg, 0) - deg, deg)
                pos = start[group] + offset                       # CSC positions of the frontier's in-edges
                # k of each group uniformly without replacement: order by (group, random key)
                order = torch.argsort(group.double() + torch.rand(group.numel(), dtype=torch.double))
                first = torch.cumsum(deg, 0) - deg
                rank = torch.arange(order.numel()) - first[group[order]]
                pick = order[rank < k]
                pick = pick[torch.argsort(pos[pick])]            # keep the graph's edge order
                pos, tgt = pos[pick], frontier[group[pick]]
                src = self.source[pos]
                new = torch.unique(src[local[src] < 0])
                local[new] = torch.arange(count, count + new.numel())
                count += new.numel()
                nodes.append(new)
                rows.append(local[src])
                cols.append(local[tgt])
                edges.append(self.perm[pos])
                sampled_nodes.append(new.numel())
                sampled_edges.append(pos.numel())
                frontier = new
            node = torch.cat(nodes)
        finally:
            local[torch.cat(nodes)] = -1      # the buffer is shared between batches
        empty = torch.empty(0, dtype=torch.long)
        return SamplerOutput(node=node, row=torch.cat(rows) if rows else empty,
                             col=torch.cat(cols) if cols else empty, edge=torch.cat(edges) if edges else empty,
                             num_sampled_nodes=sampled_nodes, num_sampled_edges=sampled_edges,
                             metadata=(index.input_id, index.time))

    def sample_from_edges(self, index, **kwargs):
        raise NotImplementedError("gatviz samples from nodes only")


class MiniBatches:
    """The training half of an epoch in mini-batch mode (the Trainer's ``batches``).

    Args:
        graph: the :class:`gatviz.graphs.Graph`; its train nodes are the seeds.
        config: ``batch_size`` (0: DEFAULT_BATCH_SIZE) and ``fanout``, ``layers``.
        seeds: the training nodes this process samples (default: all; a rank of a
            distributed run gets its slice, :mod:`gatviz.distributed`).
    """

    def __init__(self, graph, config, seeds: Tensor | None = None):
        data = graph.data
        self.batch_size = config.batch_size or DEFAULT_BATCH_SIZE
        self.fanout = limits.parse_fanout(config.fanout, config.layers)
        if seeds is None:
            seeds = torch.nonzero(data.train_mask).view(-1)
        # only what a batch needs: slicing masks and other attributes would cost per batch
        self.data = Data(x=data.x, y=data.y, edge_index=data.edge_index, num_nodes=data.num_nodes)
        if torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE:
            sampler = NeighborSampler(self.data, num_neighbors=self.fanout)
        else:
            sampler = TorchNeighborSampler(data.edge_index, graph.num_nodes, self.fanout)
        # shuffle draws its seed from the global RNG: the Trainer's stream while it runs
        self.loader = NodeLoader(self.data, node_sampler=sampler, input_nodes=seeds,
                                 batch_size=self.batch_size, shuffle=True)
        self.forward = None     # what runs a batch: the model, or its DistributedDataParallel
        self.agree = None       # distributed: the loss summed over every process (check_loss)

    def __len__(self) -> int:
        return len(self.loader)

    def train_epoch(self, model, optimizer, device, epoch: int = 0) -> float:
        """One pass over the seeds (epoch number ``epoch``); returns the loss averaged over them."""
        forward = self.forward or model
        cached = model._loops   # a batch's self-loops must not evict the full graph's
        model.train()
        total, seen = 0.0, 0
        try:
            for batch in self.loader:
                batch = batch.to(device)
                optimizer.zero_grad()
                out = forward(batch.x, batch.edge_index)[:batch.batch_size]   # seeds come first
                loss = F.cross_entropy(out, batch.y[:batch.batch_size])
                value = check_loss(loss, epoch, self.agree)
                loss.backward()
                optimizer.step()
                total += value * batch.batch_size
                seen += batch.batch_size
        finally:
            model._loops = cached
        return total / max(seen, 1)
