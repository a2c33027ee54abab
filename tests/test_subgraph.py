"""Exact attention for one node from its receptive field only (gatviz.subgraph)."""
import numpy as np
import pytest
import torch

from gatviz import GatvizError, RunConfig, attention, graphs, render, subgraph
from gatviz.training import Trainer


@pytest.fixture(scope="module")
def cora():
    return graphs.load("cora")


def _sample(graph, k=24, seed=0):
    """About k nodes of Cora: the hub 1358, the highest and lowest degree, and random ones."""
    rng = np.random.default_rng(seed)
    degree = graph.degree
    nodes = {1358, int(np.argmax(degree)), int(np.argmin(degree))}
    nodes.update(rng.choice(graph.num_nodes, k - len(nodes), replace=False).tolist())
    return sorted(nodes)


@pytest.mark.parametrize("model,layers", [("gat", 2), ("gatv2", 3)])
def test_alpha_and_scores_equal_the_full_graph_for_every_edge_into_each_node(cora, model, layers):
    trainer = Trainer(cora, RunConfig(dataset="cora", model=model, layers=layers, epochs=3, device="cpu"))
    trainer.step(3)            # trained a little: attention away from its initial values
    full = trainer.attention()
    nodes = _sample(cora)
    assert 1358 in nodes and len(nodes) >= 20
    for node in nodes:
        local = subgraph.local_attention(trainer, None, None, node)
        mine = full.incoming(node)
        assert len(mine) == cora.degree[node] + 1
        got = local.table.incoming(node)
        # the same edges, in the same order (PyG's: neighbours in edge order, self-loop last)
        assert torch.equal(local.table.edge_index[:, got], full.edge_index[:, mine])
        assert len(local.table.edge_index[1].unique()) == 1   # hops=1: the edges into the node only
        for layer in range(layers):
            assert local.table.heads(layer) == full.heads(layer)
            torch.testing.assert_close(local.table.alpha[layer][got], full.alpha[layer][mine],
                                       atol=1e-6, rtol=0)
            torch.testing.assert_close(local.table.score[layer][got], full.score[layer][mine],
                                       atol=1e-5, rtol=1e-5)
            sums = local.table.alpha[layer].sum(0)
            torch.testing.assert_close(sums, torch.ones_like(sums), atol=1e-6, rtol=0)
        torch.testing.assert_close(local.logits[0], trainer.logits()[node], atol=1e-5, rtol=0)
        assert local.subgraph_nodes < cora.num_nodes


def test_two_hop_view_is_exact_for_the_neighbours_too(cora):
    trainer = Trainer(cora, RunConfig(dataset="cora", epochs=2, device="cpu"))
    trainer.step(2)
    full = trainer.attention()
    local = subgraph.local_attention(trainer, None, None, 1358, hops=2)
    exact = local.exact.tolist()
    assert 1358 in exact and len(exact) == cora.degree[1358] + 1
    for target in exact:
        a, b = local.table.incoming(target), full.incoming(target)
        assert torch.equal(local.table.edge_index[:, a], full.edge_index[:, b])
        for layer in range(2):
            torch.testing.assert_close(local.table.alpha[layer][a], full.alpha[layer][b], atol=1e-6, rtol=0)
    # the view drawn from the local table is the full table's view
    predictions = trainer.predictions().numpy()
    assert render.view(cora, local.table, 1358, 1, [0, "mean"], hops=2, predictions=predictions) == \
        render.view(cora, full, 1358, 1, [0, "mean"], hops=2, predictions=predictions)
    nodes = torch.tensor(exact)
    assert torch.equal(subgraph.predict(trainer, nodes), trainer.predictions()[nodes])


def test_model_mode_and_cached_loops_are_kept(karate_trainer):
    model = karate_trainer.model
    model.train()
    karate_trainer.attention()
    cached = model._loops
    subgraph.local_attention(karate_trainer, None, None, 0)
    assert model.training and model._loops is cached
    model.eval()


def test_a_model_with_its_inputs_and_bad_nodes(karate_trainer):
    t = karate_trainer
    local = subgraph.local_attention(t.model, t.x, t.edge_index, 33, epoch=7)
    assert local.table.epoch == 7 and local.node == 33
    frame = attention.neighbourhood(local.table, 33, 0, "mean", t.graph.degree)
    assert abs(frame["alpha"].sum() - 1) < 1e-6
    with pytest.raises(GatvizError, match="out of range"):
        subgraph.local_attention(t, None, None, 34)
    with pytest.raises(TypeError):
        subgraph.local_attention(t.model, None, None, 0)
