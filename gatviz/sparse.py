"""The first layer's ``W x`` on sparse CSR features, with x's transpose prepared once.

Autograd's backward of ``x @ W^T`` for a CSR ``x`` (N, F) needs ``x^T @ grad`` and
builds ``x^T`` at every step: a conversion with a sort of the non-zeros, 1.8 ms of a
24 ms Cora epoch on one thread. The structure of ``x`` never changes during a run, only
its values (feature dropout keeps the structure), so :class:`Transposer` computes the
transposed structure and the permutation of the values once; each step only gathers
the values.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Transposer:
    """``x^T`` (F, N) as CSR for any CSR with the structure of ``x`` (N, F)."""

    def __init__(self, x: Tensor):
        nnz = x.values().numel()
        ids = torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(),
                                      torch.arange(nnz, dtype=torch.float64, device=x.device), x.shape,
                                      check_invariants=False)
        t = ids.t().to_sparse_csr()
        self.perm = t.values().long()
        self.crow, self.col = t.crow_indices(), t.col_indices()
        self.shape = (x.shape[1], x.shape[0])
        self._source = (x.crow_indices().data_ptr(), x.col_indices().data_ptr(), tuple(x.shape))

    def fits(self, x: Tensor) -> bool:
        """Has ``x`` this structure (the same index tensors: a dropout of the same x)?"""
        return (x.layout == torch.sparse_csr
                and (x.crow_indices().data_ptr(), x.col_indices().data_ptr(), tuple(x.shape)) == self._source)

    def __call__(self, x: Tensor) -> Tensor:
        return torch.sparse_csr_tensor(self.crow, self.col, x.values()[self.perm], self.shape,
                                       check_invariants=False)


class _CsrMm(torch.autograd.Function):
    """``x @ W^T`` for a constant CSR x; the backward uses the prepared ``x^T``."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, xt: Tensor) -> Tensor:
        ctx.xt = xt
        return torch.mm(x, weight.t())

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, torch.mm(ctx.xt, grad).t(), None


class CsrLinear(nn.Module):
    """Stands in for a PyG ``Linear`` (the same ``weight`` and ``bias``, so the same state_dict
    keys); with a :class:`Transposer` that fits its input it uses :class:`_CsrMm`."""

    def __init__(self, lin: nn.Module):
        super().__init__()
        self.in_channels, self.out_channels = lin.in_channels, lin.out_channels
        self.weight = lin.weight
        if lin.bias is None:
            self.register_parameter("bias", None)
        else:
            self.bias = lin.bias
        self.transposer: Transposer | None = None

    def forward(self, x: Tensor) -> Tensor:
        t = self.transposer
        if t is not None and torch.is_grad_enabled() and self.weight.requires_grad and t.fits(x):
            out = _CsrMm.apply(x, self.weight, t(x))
            return out if self.bias is None else out + self.bias
        return F.linear(x, self.weight, self.bias)


def first_linears(conv: nn.Module) -> list[str]:
    """Names of a conv's linear maps applied to its input x (GATConv: lin; GATv2Conv: lin_l, lin_r)."""
    return [name for name in ("lin", "lin_l", "lin_r") if isinstance(getattr(conv, name, None), nn.Module)]
