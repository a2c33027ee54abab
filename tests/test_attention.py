"""alpha sums to 1 per (layer, head, target), matches PyG, and self-loops are tracked."""
import numpy as np
import pytest
import torch
from torch_geometric.nn import GATConv, GATv2Conv
from torch_geometric.utils import add_self_loops, remove_self_loops

from gatviz import GatvizError, RunConfig, attention
from gatviz.model import GAT


def _sums(table):
    """Per layer, (N, H) sums of alpha over each target's incoming edges."""
    out = []
    for a in table.alpha:
        s = torch.zeros(table.num_nodes, a.size(1)).index_add_(0, table.edge_index[1], a)
        out.append(s)
    return out


def _awkward_graph():
    # 6 nodes: existing self-loops on 0 and 3, a duplicate edge, node 5 isolated, node 4 only a source.
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 0, 1, 4, 1],
                               [0, 0, 2, 1, 3, 1, 2, 2, 0]])
    x = torch.randn(6, 5)
    return x, edge_index


@pytest.mark.parametrize("model", ["gat", "gatv2"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_alpha_sums_to_one_with_loops_and_isolated_nodes(model, layers):
    torch.manual_seed(0)
    x, edge_index = _awkward_graph()
    net = GAT(5, 3, RunConfig(model=model, layers=layers, heads=4, hidden=3, out_heads=2))
    net.train()   # extract must switch to eval itself
    _, table = attention.extract(net, x, edge_index)
    assert net.training, "extract must restore the model's mode"
    assert table.layers == layers
    for layer, sums in enumerate(_sums(table)):
        assert sums.shape == (6, table.heads(layer))
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5), sums
    # PyG removed the two existing loops and appended exactly one per node, at the end
    expected, _ = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=6)
    assert torch.equal(table.edge_index, expected)
    assert table.is_self[-6:].all() and not table.is_self[:-6].any()
    # the isolated node attends only to itself
    assert torch.allclose(table.alpha[0][table.incoming(5)], torch.ones(1, table.heads(0)))


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_raw_scores_softmax_to_pygs_alpha(model):
    torch.manual_seed(1)
    x, edge_index = _awkward_graph()
    net = GAT(5, 3, RunConfig(model=model, heads=4, hidden=3))
    _, table = attention.extract(net, x, edge_index, scores=True)
    for layer in range(table.layers):
        again = attention.softmax_by_target(table.score[layer], table.edge_index, 6)
        assert torch.allclose(again, table.alpha[layer], atol=1e-6)


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_matches_a_stock_pyg_layer(model):
    # gatviz adds self-loops once for all layers; a stock PyG layer (add_self_loops=True)
    # with the same weights must return the same edge index and alpha
    torch.manual_seed(2)
    x, edge_index = _awkward_graph()
    net = GAT(5, 3, RunConfig(model=model, layers=1, out_heads=3))
    _, table = attention.extract(net, x, edge_index)
    stock = (GATConv if model == "gat" else GATv2Conv)(5, 3, heads=3, concat=False)
    stock.load_state_dict(net.convs[0].state_dict())
    stock.eval()
    _, (ei, alpha) = stock(x, edge_index, return_attention_weights=True)
    assert torch.equal(ei, table.edge_index)
    assert torch.allclose(alpha, table.alpha[0], atol=1e-6)


def test_train_mode_alpha_would_not_sum_to_one():
    # why extraction happens in eval(): attention dropout rescales and zeroes alpha
    torch.manual_seed(3)
    x, edge_index = _awkward_graph()
    net = GAT(5, 3, RunConfig(layers=1, out_heads=4, dropout=0.6))
    net.train()
    _, [(ei, alpha)] = net(x, edge_index, return_attention=True)
    sums = torch.zeros(6, 4).index_add_(0, ei[1], alpha)
    assert not torch.allclose(sums, torch.ones_like(sums), atol=1e-3)


def test_trained_karate_sums_every_layer_and_head(karate_trainer):
    table = karate_trainer.attention()
    for sums in _sums(table):
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)
    frame = attention.to_frame(table, karate_trainer.graph.names)
    assert list(frame.columns) == ["layer", "head", "source", "target", "alpha"]
    assert sorted(frame["layer"].unique()) == [1, 2]     # numbered from 1, for people
    assert len(frame) == (156 + 34) * (8 + 1)
    sums = frame.groupby(["layer", "head", "target"])["alpha"].sum()
    assert np.allclose(sums.to_numpy(), 1.0, atol=1e-5)
    assert (frame["source"] == frame["target"]).sum() == 34 * 9


def test_neighbourhood_rows(karate_trainer):
    g, table = karate_trainer.graph, karate_trainer.attention()
    rows = attention.neighbourhood(table, 0, 0, 2, g.degree, g.names)
    assert len(rows) == g.degree[0] + 1 and rows["self"].sum() == 1
    assert abs(rows["alpha"].sum() - 1) < 1e-5
    assert list(rows.loc[~rows["self"], "rank"]) == list(range(1, len(rows)))
    assert rows["alpha"].is_monotonic_decreasing
    assert np.allclose(rows["uniform"], 1 / (g.degree[0] + 1))
    assert set(rows.loc[~rows["self"], "name"]) == {g.names[j] for j in g.data.edge_index[0][g.data.edge_index[1] == 0].tolist()}
    assert (rows["degree"] == g.degree[rows["source"]]).all()
    mean = attention.neighbourhood(table, 0, 0, "mean", g.degree, g.names)
    assert abs(mean["alpha"].sum() - 1) < 1e-5
    with pytest.raises(GatvizError, match="head"):
        attention.neighbourhood(table, 0, 1, 3, g.degree)   # output layer has one head
    with pytest.raises(GatvizError, match="layer"):
        attention.neighbourhood(table, 0, 5, 0, g.degree)


def test_neighbour_ranks_count_neighbours_only(karate_trainer):
    # the self-loop's alpha is shown apart; ranked among the neighbours it made their ranks skip one
    g, table = karate_trainer.graph, karate_trainer.attention()
    self_not_last = 0
    for node in range(g.num_nodes):
        rows = attention.neighbourhood(table, node, 0, 0, g.degree, g.names)
        assert rows.loc[~rows["self"], "rank"].tolist() == list(range(1, g.degree[node] + 1))
        assert rows.loc[rows["self"], "rank"].isna().all()
        self_not_last += int(rows.index[rows["self"]][0] < len(rows) - 1)
    assert self_not_last > 0     # where the old ranking skipped a number


def test_entropy_is_at_most_uniform(karate_trainer):
    g, table = karate_trainer.graph, karate_trainer.attention()
    h = attention.entropy(table, 0, 0)
    assert h.shape == (34,)
    assert (h <= np.log(g.degree + 1) + 1e-6).all() and (h >= 0).all()


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_scores_from_inside_the_layer_match_the_written_formula(model):
    torch.manual_seed(4)
    x, edge_index = _awkward_graph()
    net = GAT(5, 3, RunConfig(model=model, heads=4, hidden=3))
    _, table = attention.extract(net, x, edge_index, scores=True)
    net.eval()
    with torch.no_grad():
        _, _, inputs = net(x, edge_index, return_attention=True, return_inputs=True)
        for layer, (conv, h) in enumerate(zip(net.convs, inputs)):
            again = attention.raw_scores(conv, h, table.edge_index)
            assert torch.allclose(again, table.score[layer], atol=1e-5)
    assert not any(conv._edge_update_forward_pre_hooks for conv in net.convs)   # hooks removed
