"""Chunked, resumable, seeded training with attention snapshots.

``Trainer(graph, config).step(n)`` trains n more epochs and returns their
metrics; call it again to go on (the app trains in chunks between reruns).
After every epoch it evaluates in eval mode, which also yields alpha for free;
every ``snapshot_every`` epochs that alpha is kept in float16 for an epoch
scrubber.
"""
from __future__ import annotations

import copy
import threading
import time
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import attention, field, minibatch
from .config import RunConfig
from .errors import GatvizError
from .graphs import NO_VALIDATION, Graph
from .model import GAT

SPARSE_BELOW = 0.3            # feature density under which x is kept as sparse CSR
SNAPSHOT_BUDGET = 50_000_000  # bytes held by snapshots; never exceeded (older ones are thinned)
# Full-batch training draws its dropout from the trainer's own generator, so sessions
# (threads) train at once. Building a model and mini-batch sampling use torch's one
# global RNG: this lock keeps those runs reproducible when several threads train.
_RNG_LOCK = threading.Lock()


def _cuda_devices() -> list[int]:
    """CUDA devices whose RNG torch.manual_seed also reseeds (none without CUDA)."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise GatvizError("no CUDA GPU is available here; use device cpu or auto")
    return torch.device(name)


@dataclass
class Snapshot:
    epoch: int
    alpha: list[torch.Tensor]   # per layer (E', H_l) float16, CPU


class Trainer:
    """Owns one model, its optimizer and the run's history.

    Attributes:
        history: one dict per epoch: epoch, loss, val_loss, train_acc, val_acc, test_acc, seconds.
        snapshots: eval-mode alpha every ``config.snapshot_every`` epochs (and the last epoch).
        notice: a message for the user (e.g. fell back to CPU), or None.
    """

    def __init__(self, graph: Graph, config: RunConfig):
        if config.dataset == "upload" and bool(graph.report.directed) != bool(config.directed):
            # a saved run rebuilds its graph from the config: it would load back another graph
            raise GatvizError(f"the graph was read with directed={bool(graph.report.directed)} but the run's "
                              f"config says directed={bool(config.directed)}: give both the same")
        if config.dataset == "upload" and graph.report.seed != config.seed:
            # the seed drew the split (and Louvain labels, spectral features): a saved run would differ
            raise GatvizError(f"the graph was read with seed {graph.report.seed} but the run's config says "
                              f"seed {config.seed}: give both the same")
        self.graph, self.config = graph, config
        self.device = resolve_device(config.device)
        self.notice: str | None = NO_VALIDATION if not bool(graph.data.val_mask.any()) else None
        self.spoiled: str | None = None   # why the weights are no longer usable (non-finite outputs)
        # Seed and build under the lock, inside fork_rng: another session's chunk keeps its
        # stream, and the caller's global RNG (a notebook's) is as it was. Same weights as
        # torch.manual_seed(seed) followed by building the model.
        with _RNG_LOCK, torch.random.fork_rng(devices=_cuda_devices()):
            torch.manual_seed(config.seed)
            self.model = GAT(graph.data.x.size(1), graph.num_classes, config)
            self._rng = torch.get_rng_state()
        # Held for one epoch at a time: a reader (the app's view) waits at most an epoch
        # while another thread trains, and never sees half-updated weights.
        self.lock = threading.RLock()
        self._optimizer: torch.optim.Optimizer | None = None   # made at the first step (see optimizer)
        self.epoch = 0
        self.history: list[dict] = []
        self.snapshots: list[Snapshot] = []
        self.snapshot_every = config.snapshot_every
        self.loop_index: torch.Tensor | None = None   # edge index with self-loops, as the convs return it
        self._logits: torch.Tensor | None = None
        self._attention: attention.AttentionTable | None = None
        # mini-batch mode (gatviz.minibatch) by flag, or past the full-batch caps; eval stays full-graph
        self.batches: minibatch.MiniBatches | None = None
        if minibatch.needed(graph, config):
            self.batches = minibatch.MiniBatches(graph, config)
            if config.batch_size == 0:
                self.notice = (f"the graph is past the full-batch caps (gatviz/limits.py): training in "
                               f"mini-batches of {self.batches.batch_size} nodes, fanout {config.fanout}")
        self._move(self.device)

    def __deepcopy__(self, memo: dict) -> "Trainer":
        """A copy that trains on alone: its own lock, model, optimizer, generator and history.

        The graph and the input tensors (the receptive field's too) are never written to:
        shared, not copied (a sparse CSR x cannot be deep-copied).
        """
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for shared in (self.graph, self.x, self.edge_index, self.y, *self.masks.values(), self._field):
            memo.setdefault(id(shared), shared)
        with self.lock:
            for key, value in self.__dict__.items():
                if key != "lock":
                    new.__dict__[key] = copy.deepcopy(value, memo)
        new.lock = threading.RLock()
        return new

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """Adam (config.lr, config.weight_decay) over the model's parameters, made at its first
        use: building one imports torch._dynamo (~1 s on a cold process), which a model that is
        only looked at (the app's first screen, the CLI's views) never needs. Fused: one kernel
        for all parameters (Cora: 4 % of an epoch; the same steps up to 3e-7 after 160 epochs)."""
        if self._optimizer is None:
            self._optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr,
                                               weight_decay=self.config.weight_decay,
                                               fused=self.device.type in ("cpu", "cuda"))
        return self._optimizer

    @staticmethod
    def _features(x: torch.Tensor, device: torch.device) -> torch.Tensor:
        """x on ``device``, as sparse CSR when mostly zeros (Cora's bag of words: 1.3 %)."""
        if x.numel() and float((x != 0).float().mean()) < SPARSE_BELOW:
            with warnings.catch_warnings():   # "sparse CSR support is in beta": we use only mm
                warnings.simplefilter("ignore", UserWarning)
                x = x.to_sparse_csr()
        return x.to(device)

    def _move(self, device: torch.device) -> None:
        data = self.graph.data
        self.x = self._features(data.x, device)
        self._field: tuple[field.Field, torch.Tensor] | bool | None = None   # made at the first step
        self.edge_index = data.edge_index.to(device)
        self.y = data.y.to(device)
        self.masks = {k: getattr(data, f"{k}_mask").to(device) for k in ("train", "val", "test")}
        self.model.to(device)
        # the full-batch dropout stream: seeded by the run, continued where it was on a move
        generator = torch.Generator(device).manual_seed(self.config.seed)
        old = self.model.generator
        if old is not None and old.device == generator.device:
            generator.set_state(old.get_state())
        self.model.generator = generator
        for state in (self._optimizer.state.values() if self._optimizer is not None else ()):
            for k, v in state.items():
                if torch.is_tensor(v) and v.dim() > 0:
                    state[k] = v.to(device)
        self.device = device

    @property
    def remaining(self) -> int:
        return max(0, self.config.epochs - self.epoch)

    def step(self, epochs: int = 1) -> list[dict]:
        """Train ``epochs`` more epochs; returns their history rows."""
        try:
            return self._step(epochs)
        except torch.cuda.OutOfMemoryError:
            if self.device.type != "cuda":
                raise
            torch.cuda.empty_cache()
            self._move(torch.device("cpu"))
            self.notice = "the GPU ran out of memory; training goes on on the CPU"
            return self._step(epochs)

    def _step(self, epochs: int) -> list[dict]:
        if self.spoiled:
            raise GatvizError(self.spoiled)
        rows = []
        for _ in range(epochs):
            with self.lock:
                if self.batches is None:   # dropout draws from the model's generator
                    rows.append(self._epoch())
                    continue
                with _RNG_LOCK:            # the sampler draws from the global RNG: swap in the run's
                    outer = torch.get_rng_state()
                    torch.set_rng_state(self._rng)
                    try:
                        rows.append(self._epoch())
                    finally:
                        self._rng = torch.get_rng_state()
                        torch.set_rng_state(outer)
        return rows

    def _epoch(self) -> dict:
        start = time.perf_counter()
        model, train = self.model, self.masks["train"]
        if self.batches is not None:   # sampled neighbourhoods of the training nodes, batch by batch
            loss_value = self.batches.train_epoch(model, self.optimizer, self.device, self.epoch + 1)
        else:
            model.train()
            self.optimizer.zero_grad()
            part = self._receptive_field()
            if part is None:
                out = model(self.x, self.edge_index)[train]
            else:   # only what the loss depends on: the same loss and gradients (gatviz.field)
                out = model(part[1], part[0].edges)[part[0].seeds]
            loss = F.cross_entropy(out, self.y[train])
            loss_value = minibatch.check_loss(loss, self.epoch + 1)
            loss.backward()
            self.optimizer.step()
        self.epoch += 1
        # eval(): dropout would perturb both the accuracy and alpha
        # e_ij comes along at ~3 % of the eval forward, so the app's view needs no second pass
        if model.has_attention:
            logits, table = attention.extract(model, self.x, self.edge_index, self.epoch)
            self._check_finite(logits)   # (a non-finite α reaches the logits: every node attends to itself)
            self._logits, self._attention = logits, table
            self.loop_index = table.edge_index
            if self.epoch % self.snapshot_every == 0 or self.epoch == self.config.epochs:
                self._keep(table)
        else:   # the GCN baseline: no attention to extract or snapshot
            logits = self._eval_logits()
            self._check_finite(logits)
            self._logits = logits
        pred = logits.argmax(dim=1)
        row = {"epoch": self.epoch, "loss": loss_value,
               "val_loss": F.cross_entropy(logits[self.masks["val"]], self.y[self.masks["val"]]).item()
               if bool(self.masks["val"].any()) else float("nan")}
        for split, mask in self.masks.items():
            row[f"{split}_acc"] = float((pred[mask] == self.y[mask]).float().mean()) if bool(mask.any()) else float("nan")
        row["seconds"] = time.perf_counter() - start
        self.history.append(row)
        return row

    def _check_finite(self, *outputs: torch.Tensor) -> None:
        """After an optimizer step: logits or α that are not finite numbers spoil the model.
        The epoch is not counted, the page keeps showing the previous one, and every later
        step says why (GatvizError, one line) until a new model is made."""
        if all(bool(torch.isfinite(out).all()) for out in outputs):
            return
        self.epoch -= 1
        self.spoiled = (f"training stopped at epoch {self.epoch + 1}: the model's outputs are no longer finite "
                        f"numbers (features too large, e.g. 1e25? scale them; or lower the learning rate); "
                        f"Reset to start a new model")
        raise GatvizError(self.spoiled)

    def _receptive_field(self) -> tuple[field.Field, torch.Tensor] | None:
        """The training nodes' receptive field and its nodes' features, where it saves work
        (attention models; share of the edges under field.WORTH_BELOW); made once per device."""
        if self._field is None:
            self._field = False
            if self.model.has_attention:
                loops = self.model.with_self_loops(self.edge_index, self.graph.num_nodes)
                part = field.receptive_field(loops, self.masks["train"], len(self.model.convs))
                if part.share < field.WORTH_BELOW:
                    self._field = (part, self._features(self.graph.data.x[part.nodes.cpu()], self.device))
        return self._field or None

    def _keep(self, table: attention.AttentionTable) -> None:
        alpha = [a.half() for a in table.alpha]
        new = sum(a.numel() * 2 for a in alpha)
        # thin out before adding, so the budget holds at every moment: keep every other
        # snapshot and double the interval (a scrubber still spans the whole run)
        while self.snapshots and self.snapshot_bytes + new > SNAPSHOT_BUDGET:
            self.snapshots = self.snapshots[::2] if len(self.snapshots) > 1 else []
            self.snapshot_every *= 2
        if new <= SNAPSHOT_BUDGET:
            self.snapshots.append(Snapshot(self.epoch, alpha))

    @property
    def snapshot_bytes(self) -> int:
        return sum(a.numel() * a.element_size() for s in self.snapshots for a in s.alpha)

    def attention(self) -> attention.AttentionTable:
        """alpha and raw scores e_ij of the current model, eval mode (cached per epoch)."""
        with self.lock:
            if self._attention is None or self._attention.epoch != self.epoch:
                logits, self._attention = attention.extract(self.model, self.x, self.edge_index, self.epoch)
                self._logits = logits
            return self._attention

    def logits(self) -> torch.Tensor:
        """Eval-mode logits (N, C) of the current model (cached with the attention)."""
        with self.lock:
            if self._logits is None:
                if self.model.has_attention:
                    self.attention()
                else:
                    self._logits = self._eval_logits()
            return self._logits

    def _eval_logits(self) -> torch.Tensor:
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                return self.model(self.x, self.edge_index)
        finally:
            self.model.train(was_training)

    def predictions(self) -> torch.Tensor:
        """Predicted class of every node (N,), eval mode, on CPU."""
        return self.logits().argmax(dim=1).cpu()

    def snapshot_table(self, snapshot: Snapshot) -> attention.AttentionTable:
        """A past snapshot as an AttentionTable (no raw scores)."""
        if self.loop_index is None:
            self.attention()
        return attention.AttentionTable(self.loop_index, [a.float() for a in snapshot.alpha], None,
                                        self.graph.num_nodes, snapshot.epoch)

    def metrics(self) -> dict:
        """Summary for metrics.json: final accuracies, best-validation epoch, history."""
        last = self.history[-1] if self.history else {}
        # without validation nodes val_acc is NaN in every row: no epoch is "best"
        scored = [r for r in self.history if r["val_acc"] == r["val_acc"]]
        best = max(scored, key=lambda r: (r["val_acc"], -r["epoch"]), default={})
        return {"epochs": self.epoch, "test_acc": last.get("test_acc"), "val_acc": last.get("val_acc"),
                "train_acc": last.get("train_acc"), "best_val_epoch": best.get("epoch"),
                "test_acc_at_best_val": best.get("test_acc"), "device": self.device.type,
                "history": self.history}
