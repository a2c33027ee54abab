"""The softmax's maximum per target taken over target-sorted edges (gatviz.model.Segments)
gives PyG's own alpha, logits and gradients bit for bit."""
import pytest
import torch
import torch.nn.functional as F

from gatviz import RunConfig, graphs
from gatviz.model import GAT, Segments
from gatviz.training import Trainer


def _graph(seed: int = 0):
    """300 nodes, 2,000 random edges with duplicates and self-loops, nodes with no in-edges."""
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, 280, (2, 2000), generator=g)
    return torch.randn(300, 12, generator=g), edge_index


def _pyg_only(net: GAT) -> GAT:
    net._segments = lambda edges, num_nodes: None   # every layer runs PyG's own edge_update
    return net


def _pair(model: str, **settings):
    torch.manual_seed(0)
    ours = GAT(12, 4, RunConfig(model=model, layers=2, heads=3, hidden=5, out_heads=2, **settings))
    pyg = _pyg_only(GAT(12, 4, RunConfig(model=model, layers=2, heads=3, hidden=5, out_heads=2, **settings)))
    pyg.load_state_dict(ours.state_dict())
    return ours, pyg


def _made(net: GAT) -> list[Segments]:
    return [seg for _, seg in net._seen.values() if seg is not None]


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_eval_alpha_and_logits_are_pygs_bit_for_bit(model):
    x, edge_index = _graph()
    ours, pyg = _pair(model)
    ours.eval(), pyg.eval()
    with torch.no_grad():
        expected, attention = pyg(x, edge_index, return_attention=True)
        for _ in range(3):   # segments are made at the second use of the edges (here: layer 2)
            logits, ours_attention = ours(x, edge_index, return_attention=True)
            assert torch.equal(logits, expected)
            for (e1, a1), (e2, a2) in zip(ours_attention, attention):
                assert torch.equal(e1, e2) and torch.equal(a1, a2)
            assert len(_made(ours)) == 1
    assert all(conv.segments is None for conv in ours.convs)   # set for a call only
    assert _made(pyg) == []


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_training_gradients_are_pygs_bit_for_bit(model):
    x, edge_index = _graph(1)
    ours, pyg = _pair(model, dropout=0.0)
    y = torch.randint(0, 4, (300,), generator=torch.Generator().manual_seed(2))
    for _ in range(2):
        for net in (ours, pyg):
            net.train()
            net.zero_grad()
            F.cross_entropy(net(x, edge_index), y).backward()
        assert _made(ours)
        for (name, a), b in zip(ours.named_parameters(), pyg.parameters()):
            assert torch.equal(a.grad, b.grad), name


def test_edges_written_in_place_get_new_segments():
    x, edge_index = _graph(3)
    ours, pyg = _pair("gat")
    ours.eval(), pyg.eval()
    loops = ours.with_self_loops(edge_index, 300).clone()
    with torch.no_grad():
        ours(x, [loops, loops])
        old = _made(ours)
        loops[1, :500] = loops[1, :500].flip(0)    # the same tensor, other targets
        assert torch.equal(ours(x, [loops, loops]), pyg(x, [loops, loops]))
        assert _made(ours) != old
        edge_index[1, :500] = edge_index[1, :500].flip(0)   # the graph's edges: new self-loops too
        assert torch.equal(ours(x, edge_index), pyg(x, edge_index))


def test_a_model_remembers_a_few_edge_tensors_only():
    x, edge_index = _graph()
    ours, pyg = _pair("gat")
    ours.eval(), pyg.eval()
    for seed in range(20):   # a mini-batch's edges are new every time: the memory stays bounded
        batch = torch.randint(0, 300, (2, 100), generator=torch.Generator().manual_seed(seed))
        assert torch.equal(ours(x, batch), pyg(x, batch))
        assert len(ours._seen) <= 8
    assert torch.equal(ours(x, edge_index), pyg(x, edge_index))


def test_a_cora_run_is_the_same_run_with_or_without_segments():
    """The trainer's receptive-field edges (one tensor per layer) and the whole graph's
    (evaluation) both get segments; the losses and accuracies are the same numbers."""
    graph = graphs.load("cora")
    config = RunConfig(dataset="cora", epochs=4, seed=0)
    ours, pyg = Trainer(graph, config), Trainer(graph, config)
    _pyg_only(pyg.model)
    ours.step(4), pyg.step(4)
    assert len(_made(ours.model)) == 3   # two field layers and the whole graph's loops
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in ours.history]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in pyg.history]
    assert all(torch.equal(a, b) for a, b in zip(ours.attention().alpha, pyg.attention().alpha))
