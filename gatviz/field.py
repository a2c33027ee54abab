"""The receptive field of the training nodes: all a full-batch training step computes.

The loss reads the logits of the training nodes only. After L layers those depend on
the edges into nodes at most L - 1 hops away from a training node, and on nothing
else; and layer l (1..L) needs its outputs only at nodes at most L - l hops away. So
a step that runs layer l over the edges into those nodes (their self-loops included,
so every softmax still spans the whole neighbourhood N(i) ∪ {i}) gives the same loss
and the same gradients as the step over the whole graph, and does a fraction of the
work: on Cora (140 training nodes) the two layers need 4,478 and 778 of the 13,264
edges, and 1,664 of the 2,708 nodes' features. Evaluation (accuracy, alpha) still
runs over the whole graph.

Dropout draws only for what is computed, from the same distribution: a step's loss
has the distribution of the whole-graph step's. (PyG's ``k_hop_subgraph`` gives the union of
these nodes and every edge among them; the layers here take only their own edges.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

WORTH_BELOW = 0.75   # used when its edges, summed over layers, are under this share of L x |E'|


@dataclass
class Field:
    """Per-layer edges of the nodes a loss on ``seeds`` depends on, in local ids.

    Attributes:
        nodes: (n,) graph ids of every node the step reads, ascending.
        edges: per layer, (2, E_l) local ids: the edges of the graph (self-loops appended,
            as the layers add them) into that layer's targets, in the graph's edge order.
        seeds: (k,) local ids of the seeds, in the order of their graph ids.
        share: sum of E_l over L x E', the work left relative to the whole graph.
    """
    nodes: Tensor
    edges: list[Tensor]
    seeds: Tensor
    share: float


def receptive_field(loops: Tensor, seeds: Tensor, layers: int) -> Field:
    """The field of ``seeds`` (a (N,) bool mask) through ``layers`` layers over ``loops``
    (2, E'): the graph's edges with one self-loop per node appended."""
    targets = [seeds]                      # targets[h]: nodes within h hops of a seed
    for _ in range(layers):
        reached = targets[-1].clone()
        reached[loops[0, targets[-1][loops[1]]]] = True
        targets.append(reached)
    # the first layer reads the features of targets[layers]; layer l writes targets[layers - l]
    nodes = targets[layers].nonzero().view(-1)
    local = torch.full((seeds.numel(),), -1, dtype=torch.long, device=loops.device)
    local[nodes] = torch.arange(nodes.numel(), device=loops.device)
    edges = [local[loops[:, targets[layers - 1 - layer][loops[1]]]] for layer in range(layers)]
    share = sum(e.size(1) for e in edges) / max(1, layers * loops.size(1))
    return Field(nodes, edges, local[seeds.nonzero().view(-1)], share)
