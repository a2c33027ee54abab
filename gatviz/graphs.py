"""Graphs gatviz can train on: built-ins (offline) and users' edge lists.

A :class:`Graph` is a PyG ``Data`` (x, edge_index, y, train/val/test masks)
plus what a person needs to read it: node names exactly as given, class
names, and a :class:`Report` of where everything came from.

Edges are stored in both directions for undirected graphs and never contain
self-loops (the GAT layers add exactly one per node). PyG flows source ->
target: ``edge_index[0]`` is the neighbour j, ``edge_index[1]`` the node i
that attends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

import networkx as nx
import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.io import read_planetoid_data
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from . import limits
from .config import RunConfig
from .errors import GatvizError

BUILTINS = ("karate", "cora", "citeseer", "sbm", "dictionary")
IDENTITY_FEATURES_UP_TO = 500   # nodes; above this, structural features (see default_features)
EIGENVECTORS = 8
LOUVAIN_UP_TO = 10_000   # nodes; Louvain took 7 s at 10k and minutes at 90k on a structureless graph
SPECTRAL_CLUSTERS = 8    # communities found by k-means on the eigenvectors above that size
NO_VALIDATION = ("the split left no validation nodes (too few nodes per class): "
                 "validation accuracy and the best-validation epoch are not defined")
DENSE_FRACTION = 0.25    # SBM block pairs with more of their pairs as edges are sampled by index
TRAIN_FRACTION, VAL_FRACTION = 0.6, 0.2   # of each class, for graphs without a split


@dataclass
class Report:
    """What loading found: counts, what was dropped and why, provenance."""
    source: str
    nodes: int = 0
    edges: int = 0                 # directed edges in edge_index (both directions when undirected)
    directed: bool = False
    duplicate_edges: int = 0
    self_loops: int = 0
    bad_rows: list[tuple[int, str]] = field(default_factory=list)   # (line number, why)
    comment_lines: int = 0         # skipped as comments (gatviz.rows: # or % then a space, #, %, !, -, = or nothing)
    labels: str = ""
    features: str = ""
    split: str = ""
    warnings: list[str] = field(default_factory=list)   # said to the user, each on its own line
    seed: int = 0                  # drew the split (and, when not given, labels and features)
    origin: str = ""               # an upload's file name(s), ``source`` without the notes on reading it

    def lines(self) -> list[str]:
        # people count an undirected edge once, as their file lists it; message passing
        # runs along both directions, so that count comes second
        if self.directed:
            counts = f"{self.edges:,} directed edges"
        else:
            counts = f"{self.edges // 2:,} undirected edges ({self.edges:,} directed message-passing edges)"
        out = [f"{self.source}: {self.nodes:,} nodes, {counts}"]
        if self.duplicate_edges or self.self_loops:
            out.append(f"dropped {self.duplicate_edges:,} duplicate edge(s) and {self.self_loops:,} self-loop(s)")
        if self.bad_rows:
            shown = ", ".join(f"line {n} ({why})" for n, why in self.bad_rows[:5])
            more = f" and {len(self.bad_rows) - 5:,} more" if len(self.bad_rows) > 5 else ""
            out.append(f"skipped {len(self.bad_rows):,} unreadable row(s): {shown}{more}")
        if self.comment_lines:
            out.append(f"skipped {self.comment_lines:,} comment line(s) (starting # or % followed by a space, "
                       f"#, %, !, -, = or nothing)")
        out += [f"labels: {self.labels}", f"features: {self.features}", f"split: {self.split}"]
        return out + [f"warning: {w}" for w in self.warnings]


@dataclass
class Graph:
    """A graph ready to train on.

    Attributes:
        data: PyG ``Data`` with ``x`` (N, F) float, ``edge_index`` (2, E) without
            self-loops, ``y`` (N,), boolean ``train_mask``/``val_mask``/``test_mask``.
        names: N node names, as strings, exactly as the user gave them.
        class_names: C names; ``y`` indexes into them.
        report: provenance and what was dropped.
    """
    name: str
    data: Data
    names: list[str]
    class_names: list[str]
    report: Report

    @property
    def num_nodes(self) -> int:
        return int(self.data.num_nodes)

    @property
    def num_edges(self) -> int:
        return int(self.data.edge_index.size(1))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    def index(self, name: str) -> int:
        """Node index of a name; raises GatvizError for an unknown one."""
        try:
            return self._index[str(name)]
        except KeyError:
            shown = str(name) if len(str(name)) <= 60 else str(name)[:57] + "..."
            raise GatvizError(f"unknown node {shown!r}: the graph has no node of that name") from None

    @cached_property
    def degree(self) -> np.ndarray:
        """In-degree of every node (edges into it, self-loops excluded)."""
        return np.bincount(self.data.edge_index[1].numpy(), minlength=self.num_nodes)

    @cached_property
    def by_degree(self) -> np.ndarray:
        """Node indices, highest in-degree first (equal degrees: lower index first)."""
        return np.argsort(-self.degree, kind="stable")


def builtin_name(name: str) -> str:
    """The built-in graph ``name`` names, in BUILTINS' spelling (any case), else GatvizError."""
    key = str(name).lower()
    if key not in BUILTINS:
        raise GatvizError(f"unknown dataset {name!r}: choose one of {', '.join(BUILTINS)}")
    return key


def load(name: str, config: RunConfig | None = None) -> Graph:
    """Load a built-in graph by name (all offline): karate, cora, citeseer, sbm, dictionary."""
    config = config or RunConfig()
    key = builtin_name(name)
    if key == "karate":
        return _karate()
    if key in ("cora", "citeseer"):
        return _planetoid(key)
    if key == "sbm":
        # up to the mini-batch caps: the Trainer trains past the full-batch ones in mini-batches
        return sbm(config.sbm_nodes, config.sbm_blocks, config.sbm_p_in, config.sbm_p_out, config.seed,
                   minibatch=True)
    if key == "dictionary":
        from .synthetic import dictionary   # imported here: synthetic builds on this module
        return dictionary(config.dict_size, seed=config.seed)


def _karate() -> Graph:
    g = nx.karate_club_graph()
    clubs = sorted({g.nodes[n]["club"] for n in g})
    y = [clubs.index(g.nodes[n]["club"]) for n in g]
    report = Report("Zachary's karate club", labels="club each member joined after the split (Zachary 1977)")
    return build(list(g.edges()), [str(n) for n in g], name="karate", labels=y, class_names=clubs,
                 report=report, seed=0)


def _planetoid(key: str) -> Graph:
    title = {"cora": "Cora", "citeseer": "CiteSeer"}[key]
    folder = resources.files("gatviz") / "data" / "planetoid" / title / "raw"
    data = read_planetoid_data(str(folder), key)   # reads raw files only; writes nothing
    # Row-normalise bag-of-words features, as the GAT paper and PyG's example do.
    data.x = data.x / data.x.sum(dim=1, keepdim=True).clamp(min=1)
    data.edge_index, _ = remove_self_loops(coalesce(data.edge_index, num_nodes=data.num_nodes))
    n = data.num_nodes
    report = Report(f"{title} (Planetoid)", nodes=n, edges=data.edge_index.size(1),
                    labels="paper topics (Planetoid)",
                    features=f"{data.x.size(1):,}-word bag of words, row-normalised",
                    split=_split_text(data, "standard Planetoid split"))
    classes = [f"class {c}" for c in range(int(data.y.max()) + 1)]
    return Graph(key, data, [str(i) for i in range(n)], classes, report)


def sbm(nodes: int, blocks: int, p_in: float, p_out: float, seed: int = 0, minibatch: bool = False) -> Graph:
    """A seeded stochastic block model; labels are the blocks.

    Each node pair inside a block is an edge with probability ``p_in``, across
    blocks ``p_out``. Sampled per block pair as a binomial edge count m, then m
    distinct pairs uniformly: the same distribution as a coin per pair, in
    O(E) rather than networkx's O(N^2)-ish generator (13 s at 50k nodes).
    Sparse block pairs draw random pairs and drop repeats; dense ones (more
    than DENSE_FRACTION of their pairs) choose m pair indices without
    replacement, since drawing at random would almost never hit the last pairs.
    The node and edge caps are checked first, from the expected edge count,
    then per block pair before anything is drawn: the full-batch caps, or with
    ``minibatch`` the mini-batch ones (gatviz/limits.py).
    """
    node_cap, edge_cap = limits.caps(minibatch)
    if nodes > getattr(limits, node_cap):
        raise limits.over("the SBM", nodes, "nodes", node_cap)
    sizes = np.array([nodes // blocks + (1 if b < nodes % blocks else 0) for b in range(blocks)], dtype=np.int64)
    inside = int((sizes * (sizes - 1) // 2).sum())
    across = (nodes * (nodes - 1) // 2) - inside
    expected = p_in * inside + p_out * across
    if expected > getattr(limits, edge_cap):
        raise GatvizError(f"the SBM would have about {round(expected):,} edges; gatviz handles at most "
                          f"{getattr(limits, edge_cap):,} ({edge_cap} in {limits.WHERE}): lower p_in, p_out or the nodes")
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    chunks, total = [], 0
    for a in range(blocks):
        for b in range(a, blocks):
            same = a == b
            pairs = int(sizes[a] * (sizes[a] - 1) // 2 if same else sizes[a] * sizes[b])
            m = int(rng.binomial(pairs, p_in if same else p_out)) if pairs else 0
            total += m
            if total > getattr(limits, edge_cap):   # a draw above the expectation: stop before sampling it
                raise limits.over("the SBM", total, "edges", edge_cap)
            if m > DENSE_FRACTION * pairs:
                chunks.append(_dense_pairs(rng, pairs, m, starts[a], sizes[a], starts[b], sizes[b], same))
                continue
            chosen = np.empty((0, 2), dtype=np.int64)
            while len(chosen) < m:
                want = int((m - len(chosen)) * 1.1) + 8
                u = rng.integers(starts[a], starts[a + 1], want)
                v = rng.integers(starts[b], starts[b + 1], want)
                if same:
                    u, v = np.minimum(u, v), np.maximum(u, v)
                    keep = u != v
                    u, v = u[keep], v[keep]
                new = np.stack([u, v], axis=1)
                chosen = np.unique(np.concatenate([chosen, new]), axis=0)
            chunks.append(rng.permutation(chosen)[:m])
    edges = np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)
    y = np.repeat(np.arange(blocks), sizes)
    report = Report(f"stochastic block model ({blocks} blocks, p_in={p_in:g}, p_out={p_out:g}, seed {seed})",
                    labels="block of each node")
    return build(edges, [str(i) for i in range(nodes)], name="sbm", labels=y,
                 class_names=[f"block {b}" for b in range(blocks)], report=report, seed=seed,
                 minibatch=minibatch)


def _dense_pairs(rng, pairs: int, m: int, start_a: int, size_a: int, start_b: int, size_b: int,
                 same: bool) -> np.ndarray:
    """m distinct pairs (m, 2) of a block pair, chosen by index: k -> (u, v).

    Inside a block, pair k is the k-th (u, v) with u < v in row order (np.triu_indices);
    across blocks, u = k // size_b, v = k % size_b. ``pairs`` is below MAX_EDGES / DENSE_FRACTION
    here (m is at most MAX_EDGES), so the index arrays stay small.
    """
    k = np.sort(rng.choice(pairs, size=m, replace=False))
    if same:
        u, v = np.triu_indices(size_a, 1)
        return np.stack([start_a + u[k], start_a + v[k]], axis=1)
    return np.stack([start_a + k // size_b, start_b + k % size_b], axis=1)


def build(edges, names: list[str], *, name: str, report: Report, labels=None, class_names=None,
          features: np.ndarray | None = None, directed: bool = False, seed: int = 0,
          minibatch: bool = False) -> Graph:
    """Assemble a Graph from integer edges (pairs of indices into ``names``).

    Self-loops and duplicate edges are dropped and counted in ``report``.
    Without labels, Louvain communities (seeded) become the labels; without
    features, :func:`default_features`; without a split, a seeded stratified one.
    Refused past the full-batch caps, or with ``minibatch`` the mini-batch ones.
    """
    n = len(names)
    node_cap, edge_cap = limits.caps(minibatch)
    if n == 0:
        raise GatvizError("the graph is empty: no edges could be read")
    if n > getattr(limits, node_cap):
        raise limits.over("the graph", n, "nodes", node_cap)
    edge_index = torch.as_tensor(np.asarray(edges, dtype=np.int64).reshape(-1, 2).T.copy())
    if edge_index.size(1) > 2 * getattr(limits, edge_cap):   # more rows than a graph under the cap lists both ways
        raise GatvizError(f"the edge list has {edge_index.size(1):,} rows; gatviz reads at most "
                          f"{2 * getattr(limits, edge_cap):,} (twice {edge_cap} in {limits.WHERE})")
    loops = int((edge_index[0] == edge_index[1]).sum())
    edge_index, _ = remove_self_loops(edge_index)
    if directed:
        unique = coalesce(edge_index, num_nodes=n)
        duplicates = edge_index.size(1) - unique.size(1)
        counted = unique.size(1)
    else:
        pairs = coalesce(torch.stack([edge_index.min(0).values, edge_index.max(0).values]), num_nodes=n)
        duplicates = edge_index.size(1) - pairs.size(1)
        counted = pairs.size(1)   # an undirected edge counts once, however the file lists it
        unique = to_undirected(edge_index, num_nodes=n)
    if counted > getattr(limits, edge_cap):
        raise limits.over("the graph", counted, "edges", edge_cap)
    report.nodes, report.edges, report.directed, report.seed = n, unique.size(1), directed, seed
    report.duplicate_edges += duplicates
    report.self_loops += loops

    if labels is None and n <= LOUVAIN_UP_TO:
        labels, class_names = louvain_labels(unique, n, seed)
        report.labels = f"{len(class_names)} Louvain communities (networkx, seed {seed}); no labels were given"
    elif labels is None:
        labels, class_names = spectral_labels(unique, n, seed)
        report.labels = (f"{len(class_names)} spectral communities (k-means on {EIGENVECTORS} Laplacian "
                         f"eigenvectors, seed {seed}; Louvain is too slow above {LOUVAIN_UP_TO:,} nodes); "
                         "no labels were given")
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if features is None:
        x, report.features = default_features(unique, n, seed)
    else:
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        report.features = report.features or f"{x.size(1)} given feature column(s)"
    data = Data(x=x, edge_index=unique, y=y, num_nodes=n)
    _stratified_split(data, seed)
    report.split = _split_text(data, f"seeded stratified split (seed {seed}), "
                                     f"{TRAIN_FRACTION:.0%}/{VAL_FRACTION:.0%}/{1 - TRAIN_FRACTION - VAL_FRACTION:.0%} per class")
    if not bool(data.val_mask.any()):
        report.warnings.append(NO_VALIDATION)
    return Graph(name, data, list(names), list(class_names), report)


def louvain_labels(edge_index: torch.Tensor, n: int, seed: int) -> tuple[list[int], list[str]]:
    """Labels from seeded Louvain communities, largest community first."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edge_index.t().tolist())
    communities = sorted(nx.community.louvain_communities(g, seed=seed), key=len, reverse=True)
    labels = [0] * n
    for c, members in enumerate(communities):
        for v in members:
            labels[v] = c
    return labels, [f"community {c}" for c in range(len(communities))]


def spectral_labels(edge_index: torch.Tensor, n: int, seed: int) -> tuple[list[int], list[str]]:
    """Labels from seeded k-means on the leading eigenvectors of D^-1/2 A D^-1/2, largest first."""
    from scipy.cluster.vq import kmeans2
    vecs = _eigenvectors(edge_index, n, seed)
    _, assigned = kmeans2(vecs, min(SPECTRAL_CLUSTERS, n), seed=seed, minit="++")
    by_size = np.argsort(-np.bincount(assigned), kind="stable")
    relabel = np.empty_like(by_size)
    relabel[by_size] = np.arange(len(by_size))
    labels = relabel[assigned]
    return labels.tolist(), [f"community {c}" for c in range(int(labels.max()) + 1)]


def default_features(edge_index: torch.Tensor, n: int, seed: int) -> tuple[torch.Tensor, str]:
    """Features for a graph that has none.

    Up to IDENTITY_FEATURES_UP_TO nodes: one-hot identity (each node its own
    feature, as in the classic karate-club demo). Above: a one-hot of
    log2(degree + 1) (16 buckets) plus the EIGENVECTORS leading eigenvectors of
    the normalised adjacency D^-1/2 A D^-1/2 (the smoothest Laplacian
    eigenvectors), which separate communities and cost O(E) per iteration.
    """
    if n <= IDENTITY_FEATURES_UP_TO:
        return torch.eye(n), f"one-hot node identity ({n} columns; none were given)"
    deg = np.bincount(edge_index[1].numpy(), minlength=n)
    buckets = np.minimum(np.floor(np.log2(deg + 1)).astype(int), 15)
    deg_onehot = np.eye(16, dtype=np.float32)[buckets]
    vecs = _eigenvectors(edge_index, n, seed)
    x = np.hstack([deg_onehot, vecs.astype(np.float32)])
    return torch.from_numpy(x), f"log-degree one-hot (16) + {vecs.shape[1]} Laplacian eigenvectors; none were given"


def _eigenvectors(edge_index: torch.Tensor, n: int, seed: int) -> np.ndarray:
    """(n, k) leading eigenvectors of the symmetrised D^-1/2 A D^-1/2, unit variance per column."""
    import scipy.sparse as sp   # (here: ~0.07 s of a cold start that a graph with features never uses)
    import scipy.sparse.linalg  # noqa: F401
    row, col = edge_index.numpy()
    deg = np.bincount(col, minlength=n).astype(np.float64)
    inv = 1.0 / np.sqrt(np.maximum(deg, 1))
    adj = sp.csr_matrix((inv[row] * inv[col], (row, col)), shape=(n, n))
    adj = (adj + adj.T) / 2     # symmetric even for directed graphs
    k = min(EIGENVECTORS, n - 2)
    v0 = np.random.default_rng(seed).standard_normal(n)
    _, vecs = sp.linalg.eigsh(adj, k=k, which="LA", v0=v0, tol=1e-4, maxiter=5000)
    return vecs * np.sqrt(n)


def _stratified_split(data: Data, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = data.y.numpy()
    train, val, test = (np.zeros(len(y), dtype=bool) for _ in range(3))
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n_train = max(1, round(TRAIN_FRACTION * len(members)))
        n_val = round(VAL_FRACTION * len(members)) if len(members) - n_train > 1 else 0
        train[members[:n_train]] = True
        val[members[n_train:n_train + n_val]] = True
        test[members[n_train + n_val:]] = True
    data.train_mask, data.val_mask, data.test_mask = (torch.from_numpy(m) for m in (train, val, test))


def _split_text(data: Data, how: str) -> str:
    sizes = [int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)]
    return f"{how}: {sizes[0]:,} train / {sizes[1]:,} val / {sizes[2]:,} test"
