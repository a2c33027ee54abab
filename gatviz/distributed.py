"""Data-parallel training across processes: ``torchrun ... -m gatviz train ... --distributed``.

Every process (rank) holds the whole graph and the same seeded model; torchrun starts them
and sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous address. Each rank trains in
mini-batches (:mod:`gatviz.minibatch`) over its own slice of the training nodes, and
``DistributedDataParallel`` averages the gradients of every step across ranks (gloo on CPU,
NCCL on CUDA), so all ranks keep the same weights. Slices have equal length (the shorter
ones repeat a few of their nodes, as torch's ``DistributedSampler`` pads), so every rank runs
the same number of steps per epoch. Every rank runs the exact full-graph eval pass; only rank
0 prints and writes the run directory.

Across machines the same command runs with ``--nnodes N --node-rank R --rdzv-endpoint
HOST:PORT`` (torchrun's standard flags); nothing here changes.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from . import minibatch
from .errors import GatvizError
from .training import Trainer

LAUNCH = "torchrun --nproc-per-node 2 -m gatviz train ... --distributed"


def launched() -> bool:
    """Started by torchrun (or anything else that sets its environment)?"""
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"))


def shard(seeds: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """Rank ``rank``'s share of the seeds: every world-th one from ``rank`` on, padded by
    repeating its first nodes to ceil(len / world), so all ranks get the same count."""
    mine = seeds[rank::world]
    size = -(-seeds.numel() // world)
    if mine.numel() < size:
        mine = torch.cat([mine, mine[:size - mine.numel()] if mine.numel() else seeds[:size]])
    return mine


def loss_everywhere(loss: torch.Tensor) -> float:
    """The step's loss summed over every rank: not finite when any rank's is not. A rank
    that stopped alone would leave the others waiting in DDP's gradient all-reduce, until
    torchrun kills them without saying why; now every rank stops with the same line."""
    total = loss.detach().reshape(1).clone()
    dist.all_reduce(total)
    return total.item()


class Run:
    """One rank's part of a distributed run; a context manager that joins and leaves the group."""

    def __init__(self, device: str = "auto"):
        if not launched():
            raise GatvizError(f"--distributed needs torchrun to start the processes: {LAUNCH}")
        self.rank, self.world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        self.local_rank = int(os.environ["LOCAL_RANK"])
        cuda = torch.cuda.is_available() and device != "cpu"
        if device == "cuda" and not cuda:
            raise GatvizError("no CUDA GPU is available here; use device cpu or auto")
        self.backend = "nccl" if cuda else "gloo"
        self.device = f"cuda:{self.local_rank}" if cuda else "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def __enter__(self) -> "Run":
        if self.device.startswith("cuda"):
            torch.cuda.set_device(self.local_rank)
        dist.init_process_group(self.backend)
        return self

    def __exit__(self, *exc) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()

    def trainer(self, graph, config) -> Trainer:
        """A Trainer whose training steps sample this rank's seeds and run through DDP.

        ``config.batch_size`` 0 becomes minibatch.DEFAULT_BATCH_SIZE (kept in the config, so
        config.json says what ran). The model is built from the run's seed on every rank.
        """
        config = config.replace(batch_size=config.batch_size or minibatch.DEFAULT_BATCH_SIZE,
                                device="cuda" if self.device.startswith("cuda") else "cpu")
        trainer = Trainer(graph, config)
        if self.device.startswith("cuda"):
            trainer._move(torch.device(self.device))
        seeds = torch.nonzero(graph.data.train_mask).view(-1)
        trainer.batches = minibatch.MiniBatches(graph, config, seeds=shard(seeds, self.rank, self.world))
        trainer.batches.forward = DistributedDataParallel(
            trainer.model, device_ids=[self.local_rank] if self.device.startswith("cuda") else None)
        trainer.batches.agree = loss_everywhere
        return trainer

    def barrier(self) -> None:
        dist.barrier()
