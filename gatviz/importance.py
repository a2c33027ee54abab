"""Does attention point at what matters? alpha next to three importances of the same edges.

For a target node i and each of its incoming edges j -> i (PyG flows source -> target:
``edge_index[0]`` is j, ``edge_index[1]`` is i; the self-loop cannot be removed, so it is left
out), in eval mode:

- **GNNExplainer** (PyG's ``torch_geometric.explain``, ``edge_mask_type="object"``): a soft
  mask over every edge, trained for a bounded number of epochs to keep the model's prediction
  with as few edges as possible; the edge's mask value.
- **gradient**: |∂p_c/∂m_e| at m = 1, p_c the predicted class's probability and m_e a
  multiplier on the edge's message, through PyG's explain masks (``set_masks``), as a PyG
  ``ExplainerAlgorithm`` of its own (:class:`EdgeGradient`): the same number whether or not
  Captum is installed (its Saliency through PyG differentiates the raw logit instead).
- **leave one out**: p_c with the model as trained minus p_c with only the edge j -> i
  removed (no retraining, same features); positive = the edge supported the prediction.

All three run on the node's L-hop in-neighbourhood (``k_hop_subgraph``), which gives node i
exactly the output it has on the whole graph and keeps each answer well under a second on
Cora. Spearman and Kendall rank correlations compare alpha with each.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import shortest_path
from scipy.stats import kendalltau, spearmanr
from torch import Tensor
from torch_geometric.explain import Explainer, ExplainerAlgorithm, Explanation, GNNExplainer
from torch_geometric.explain.algorithm.utils import clear_masks, set_masks
from torch_geometric.explain.config import ModelConfig
from torch_geometric.utils import k_hop_subgraph

from .attention import neighbourhood
from .heads import no_attention_check

GNN_EXPLAINER_EPOCHS = 50     # PyG defaults to 100; 50 keeps Cora's largest hub (168 inputs) near 0.5 s
LOO_BATCH_NODES = 200_000     # nodes per batched forward of the leave-one-out copies
AGREE_TAU = 0.3               # Kendall tau below this: "they disagree"
MODEL_CONFIG = dict(mode="multiclass_classification", task_level="node", return_type="raw")


class EdgeGradient(ExplainerAlgorithm):
    """|∂ softmax(model(x))[index, target] / ∂ m_e| for an edge mask m = 1 (PyG's set_masks)."""

    def forward(self, model, x: Tensor, edge_index: Tensor, *, target: Tensor, index=None,
                **kwargs) -> Explanation:
        # a Parameter, as GNNExplainer's: set_masks would wrap a plain tensor into a new leaf
        mask = torch.nn.Parameter(torch.ones(edge_index.size(1), device=edge_index.device))
        set_masks(model, mask, edge_index, apply_sigmoid=False)
        try:
            prob = model(x, edge_index, **kwargs).softmax(dim=-1)
            (grad,) = torch.autograd.grad(prob[index, target[index]].sum(), mask)
        finally:
            clear_masks(model)
        return Explanation(edge_mask=grad.abs())

    def supports(self) -> bool:
        return True


class _Frozen:
    """Model weights without gradients while explaining (the explainers train only masks)."""

    def __init__(self, model):
        self.model, self.flags = model, [p.requires_grad for p in model.parameters()]

    def __enter__(self):
        for p in self.model.parameters():
            p.requires_grad_(False)

    def __exit__(self, *exc):
        for p, flag in zip(self.model.parameters(), self.flags):
            p.requires_grad_(flag)


def _distances(edge_index: Tensor, n: int, centre: int) -> tuple[np.ndarray, np.ndarray]:
    """Hops from each node to ``centre`` (along edges) and from ``centre`` to each node; inf if none."""
    adj = sp.csr_matrix((np.ones(edge_index.size(1)), edge_index.numpy()), shape=(n, n))
    down = shortest_path(adj, indices=centre, unweighted=True)      # centre -> u
    up = shortest_path(adj.T.tocsr(), indices=centre, unweighted=True)   # u -> centre
    return up, down


def neighbourhood_input(trainer, node: int):
    """What the node's output depends on, and nothing else.

    The L-hop in-neighbourhood (``k_hop_subgraph``) keeps every edge between its nodes; only
    edges into nodes within L - 1 hops can reach the centre in L layers, so the rest are
    dropped (fewer mask entries for GNNExplainer, less work per forward).

    Returns:
        subset (n,) original ids, x (n, F) sparse CSR, edge_index (2, e) relabelled,
        centre (its new index), into (ids of the edges into the centre).
    """
    graph, L = trainer.graph, len(trainer.model.convs)
    subset, sub_ei, mapping, _ = k_hop_subgraph(node, L, graph.data.edge_index,
                                                relabel_nodes=True, num_nodes=graph.num_nodes)
    centre = int(mapping[0])
    up, _ = _distances(sub_ei, len(subset), centre)
    sub_ei = sub_ei[:, torch.from_numpy(up[sub_ei[1].numpy()] <= L - 1)]
    into = torch.nonzero(sub_ei[1] == centre).flatten()
    with warnings.catch_warnings():   # "sparse CSR support is in beta": only mm is used
        warnings.simplefilter("ignore", UserWarning)
        x = graph.data.x[subset].to_sparse_csr()
    return subset, x, sub_ei, centre, into


@torch.no_grad()
def leave_one_out(model, x: Tensor, edge_index: Tensor, centre: int, edges: Tensor, cls: int
                  ) -> np.ndarray:
    """p_cls(centre) as is minus p_cls(centre) without each one of ``edges``, (len(edges),).

    Removing an edge into the centre changes, after l layers, only nodes u with
    hops(centre -> u) <= l - 1; of those, only nodes with hops(centre -> u) + hops(u -> centre)
    <= L - 1 still reach the centre's output. So each copy (one per removed edge) duplicates
    just those nodes (for 2 layers: the centre alone), fed by the shared, unchanged rest of the
    neighbourhood; all copies run in one batched forward (chunks of ``LOO_BATCH_NODES``).
    Tests check it against removing each edge from the whole graph.
    """
    model.eval()
    n, L, dev = x.size(0), len(model.convs), edge_index.device
    base = float(model(x, edge_index).softmax(-1)[centre, cls])
    up, down = _distances(edge_index.cpu(), n, centre)
    copied = torch.from_numpy(np.flatnonzero(up + down <= L - 1)).to(dev)          # centre included
    m = len(copied)
    slot = torch.full((n,), -1, dtype=torch.long, device=dev)
    slot[copied] = torch.arange(m, device=dev)
    src, dst = edge_index
    feed = torch.nonzero(slot[dst] >= 0).flatten()        # edges into copied nodes
    f_src, f_dst = src[feed], dst[feed]
    position = torch.full((edge_index.size(1),), -1, dtype=torch.long, device=dev)
    position[feed] = torch.arange(len(feed), device=dev)
    x_rows = x.to_sparse_coo()
    out = np.empty(len(edges))
    per = max(1, (LOO_BATCH_NODES - n) // max(m, 1))
    for start in range(0, len(edges), per):
        chunk = edges[start:start + per]
        k = len(chunk)
        first = n + torch.arange(k, device=dev).repeat_interleave(len(feed)) * m   # copy c's first node
        s = torch.where(slot[f_src].repeat(k) >= 0, first + slot[f_src].repeat(k), f_src.repeat(k))
        d = first + slot[f_dst].repeat(k)
        keep = torch.ones(k * len(feed), dtype=torch.bool, device=dev)
        keep[torch.arange(k, device=dev) * len(feed) + position[chunk]] = False      # the removed edge
        ei = torch.cat([edge_index, torch.stack([s[keep], d[keep]])], dim=1)
        batch_x = torch.cat([x_rows, x_rows.index_select(0, copied.repeat(k))]).to_sparse_csr()
        prob = model(batch_x, ei).softmax(-1)
        out[start:start + k] = base - prob[n + torch.arange(k, device=dev) * m + int(slot[centre]), cls].cpu().numpy()
    return out


def _rank_corr(a: np.ndarray, b: np.ndarray) -> dict:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"spearman": None, "kendall": None}
    return {"spearman": round(float(spearmanr(a, b).statistic), 4),
            "kendall": round(float(kendalltau(a, b).statistic), 4)}


def edge_importance(trainer, node: int, layer: int | None = None, head="mean", *,
                    epochs: int = GNN_EXPLAINER_EPOCHS) -> dict:
    """alpha of ``node``'s incoming edges next to GNNExplainer, gradient and leave-one-out.

    Args:
        node: target i. layer: 0-based, the last layer by default. head: index or "mean".
        epochs: GNNExplainer's optimisation steps.

    Returns:
        {"table": DataFrame (source, name, alpha, gnnexplainer, gradient, leave_one_out),
         "predicted": class index, "probability": p_c, "correlation": {method: {spearman,
         kendall}}, "epochs": GNNExplainer epochs run, "gradient_method", "verdict": text}.
    """
    no_attention_check(trainer)
    model, graph = trainer.model, trainer.graph
    layer = len(model.convs) - 1 if layer is None else layer
    frame = neighbourhood(trainer.attention(), node, layer, head, graph.degree, graph.names)
    subset, x, sub_ei, centre, into = neighbourhood_input(trainer, node)
    sources = subset[sub_ei[0, into]].numpy()
    x, sub_ei, into = x.to(trainer.device), sub_ei.to(trainer.device), into.to(trainer.device)
    cls = int(trainer.predictions()[node])
    probability = float(trainer.logits()[node].softmax(-1)[cls])
    was_training = model.training
    with _Frozen(model), torch.random.fork_rng():
        torch.manual_seed(trainer.config.seed)   # GNNExplainer starts from a random mask
        try:
            explain = {}
            for name, algorithm in (("gnnexplainer", GNNExplainer(epochs=epochs)),
                                    ("gradient", EdgeGradient())):
                explainer = Explainer(model, algorithm, explanation_type="model", edge_mask_type="object",
                                      node_mask_type=None, model_config=ModelConfig(**MODEL_CONFIG))
                with torch.enable_grad():
                    result = explainer(x, sub_ei, index=centre)
                explain[name] = result.edge_mask[into].detach().cpu().numpy().astype(np.float64)
            explain["leave_one_out"] = leave_one_out(model, x, sub_ei, centre, into, cls)
        finally:
            model.train(was_training)
    table = frame[~frame["self"]][["source", "name", "alpha"]].copy()
    where = {int(j): k for k, j in enumerate(sources)}
    for name, values in explain.items():
        table[name] = [values[where[int(j)]] for j in table["source"]]
    table = table.reset_index(drop=True)
    correlation = {name: _rank_corr(table["alpha"].to_numpy(), table[name].to_numpy()) for name in explain}
    return {"table": table, "predicted": cls, "probability": probability, "correlation": correlation,
            "epochs": epochs, "gradient_method": EdgeGradient.__name__,
            "verdict": verdict(correlation, len(table))}


# The verdict's sentences and the explainers' names; the app words them in its language.
VERDICTS = {
    "few": "With {inputs} neighbour(s) there is too little to rank; compare the numbers directly.",
    "equal": "alpha or the importances are all equal here, so there is no ranking to compare.",
    "agree": "Attention agrees with what changes the prediction: alpha ranks the neighbours much like {taus}.",
    "disagree": "Attention does not point at what matters here: the neighbours with the highest alpha are not "
                "the ones that most change the prediction according to {taus}. This is the known "
                "\"attention is not explanation\" result: alpha weighs messages, but the prediction also depends "
                "on what those messages carry.",
}
EXPLAINERS = {"gnnexplainer": "GNNExplainer", "gradient": "the gradient", "leave_one_out": "leaving each edge out"}


def verdict_parts(correlation: dict, inputs: int) -> tuple[str, dict, list[tuple[str, float]]]:
    """(VERDICTS key, its values, [(EXPLAINERS key, Kendall's τ)] to list in it)."""
    if inputs < 3:
        return "few", {"inputs": inputs}, []
    taus = {k: v["kendall"] for k, v in correlation.items() if v["kendall"] is not None}
    if not taus:
        return "equal", {}, []
    low = [(k, t) for k, t in taus.items() if t < AGREE_TAU]
    return ("disagree", {}, low) if low else ("agree", {}, list(taus.items()))


def verdict(correlation: dict, inputs: int) -> str:
    """Plain words: does the ranking by alpha agree with the rankings by importance?"""
    key, values, taus = verdict_parts(correlation, inputs)
    listed = ", ".join(f"{EXPLAINERS[k]} (τ = {t:.2f})" for k, t in taus)
    return VERDICTS[key].format(**values, taus=listed)
