from copy import deepcopy

import pytest
import torch
import torch.nn.functional as F

from gatviz import RunConfig, graphs
from gatviz.field import WORTH_BELOW, receptive_field
from gatviz.model import GAT
from gatviz.training import Trainer


def test_the_field_of_a_path_holds_each_layers_in_edges_and_self_loops():
    # 0 - 1 - 2 - 3 - 4, both directions; seed: node 0
    ends = torch.tensor([[0, 1], [1, 2], [2, 3], [3, 4]])
    edge_index = torch.cat([ends, ends.flip(1)]).t()
    model = GAT(3, 2, RunConfig(layers=2, heads=2, hidden=4))
    loops = model.with_self_loops(edge_index, 5)
    seeds = torch.tensor([True, False, False, False, False])
    f = receptive_field(loops, seeds, 2)
    assert f.nodes.tolist() == [0, 1, 2]                         # two hops from node 0
    pairs = [sorted(map(tuple, e.t().tolist())) for e in f.edges]
    assert pairs[0] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1)]  # layer 1: into nodes 0 and 1
    assert pairs[1] == [(0, 0), (1, 0)]                          # layer 2: into the seed
    assert f.seeds.tolist() == [0]
    assert f.share == pytest.approx((5 + 2) / (2 * loops.size(1)))


@pytest.mark.parametrize("model_name, layers", [("gat", 2), ("gatv2", 2), ("gat", 3)])
def test_a_step_on_the_field_has_the_whole_graphs_loss_and_gradients(model_name, layers):
    graph = graphs.sbm(400, 4, 0.05, 0.005, seed=1)
    data = graph.data
    train = torch.zeros(data.num_nodes, dtype=torch.bool)
    train[torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(0))[:15]] = True
    torch.manual_seed(0)
    # no dropout: both steps are then deterministic and must agree
    model = GAT(data.x.size(1), graph.num_classes,
                RunConfig(model=model_name, layers=layers, heads=3, hidden=5, dropout=0.0)).train()

    def step(out):
        model.zero_grad()
        loss = F.cross_entropy(out, data.y[train])
        loss.backward()
        return loss.item(), [p.grad.clone() for p in model.parameters()]

    whole = step(model(data.x, data.edge_index)[train])
    f = receptive_field(model.with_self_loops(data.edge_index, data.num_nodes), train, layers)
    assert f.share < 0.5      # a real saving: the test would pass trivially on the whole graph
    part = step(model(data.x[f.nodes], f.edges)[f.seeds])
    assert part[0] == pytest.approx(whole[0], abs=1e-6)
    for a, b in zip(part[1], whole[1]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_the_trainer_steps_on_the_field_where_it_saves_work(karate):
    cora = Trainer(graphs.load("cora"), RunConfig(dataset="cora", epochs=3, device="cpu"))
    cora.step(3)
    part, x = cora._receptive_field()
    assert part.share < 0.3 and x.size(0) == part.nodes.numel() < 2708
    assert x.layout == torch.sparse_csr            # the bag of words stays sparse
    copy = deepcopy(cora)                          # a tab's own copy (ui.shared) shares the field
    assert copy._receptive_field() is cora._receptive_field()
    copy.step(1)
    assert copy.epoch == 4 and cora.epoch == 3
    # karate: 20 of 34 nodes train, two hops reach the whole graph
    small = Trainer(karate, RunConfig(epochs=2, device="cpu"))
    small.step(2)
    assert small._receptive_field() is None
    assert receptive_field(small.model.with_self_loops(small.edge_index, 34), small.masks["train"],
                           2).share >= WORTH_BELOW
    gcn = Trainer(graphs.load("cora"), RunConfig(dataset="cora", model="gcn", epochs=1, device="cpu"))
    gcn.step(1)
    assert gcn._receptive_field() is None            # GCN's degree normalisation needs every edge
