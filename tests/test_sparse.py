import torch
import torch.nn.functional as F
from torch_geometric.nn.dense.linear import Linear

from gatviz import RunConfig, graphs, model as model_mod
from gatviz.sparse import CsrLinear, Transposer
from gatviz.training import Trainer


def _csr(n=30, f=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    dense = torch.rand(n, f, generator=g) * (torch.rand(n, f, generator=g) < 0.2)
    return dense, dense.to_sparse_csr()


def test_transposer_gives_the_transpose_for_any_values_of_the_same_structure():
    dense, x = _csr()
    t = Transposer(x)
    assert torch.equal(t(x).to_dense(), dense.t())
    other = torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), torch.randn(x.values().numel()), x.shape)
    assert t.fits(other) and torch.equal(t(other).to_dense(), other.to_dense().t())
    assert not t.fits(_csr(seed=1)[1])        # another matrix: another structure


def test_csr_linear_has_the_gradients_of_f_linear():
    dense, x = _csr()
    for bias in (False, True):
        lin = Linear(12, 5, bias=bias)
        csr = CsrLinear(lin)
        csr.transposer = Transposer(x)
        out = csr(x)
        out.square().sum().backward()
        grads = [p.grad.clone() for p in (lin.weight, lin.bias) if p is not None]
        for p in (lin.weight, lin.bias):
            if p is not None:
                p.grad = None
        F.linear(dense, lin.weight, lin.bias).square().sum().backward()
        for mine, ref in zip(grads, [p.grad for p in (lin.weight, lin.bias) if p is not None]):
            assert torch.allclose(mine, ref, atol=1e-6)
        assert set(dict(csr.named_parameters())) == set(dict(lin.named_parameters()))


def test_a_cora_run_is_the_same_with_and_without_the_prepared_transpose(monkeypatch):
    graph = graphs.load("cora")
    config = RunConfig(dataset="cora", epochs=5, device="cpu")
    fast = Trainer(graph, config)
    fast.step(5)
    monkeypatch.setattr(model_mod.Transposer, "fits", lambda self, x: False)   # torch's own backward
    monkeypatch.setattr(model_mod, "Transposer", lambda x: type("T", (), {"fits": lambda s, x: False})())
    slow = Trainer(graph, config)
    slow.step(5)
    for a, b in zip(fast.history, slow.history):
        assert abs(a["loss"] - b["loss"]) < 1e-5 and a["val_acc"] == b["val_acc"]
    for (name, p), q in zip(fast.model.state_dict().items(), slow.model.state_dict().values()):
        assert torch.allclose(p, q, atol=1e-5), name
