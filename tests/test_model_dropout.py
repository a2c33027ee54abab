import os
import subprocess
import sys
from pathlib import Path

import torch
from torch_geometric.nn import GATConv, GATv2Conv

from gatviz import RunConfig, graphs
from gatviz.model import GAT, dropout
from gatviz.training import Trainer

ROOT = Path(__file__).resolve().parents[1]


def test_eval_attention_is_stock_pygs_and_only_the_training_draw_is_ours():
    graph = graphs.load("karate")
    for model in ("gat", "gatv2"):
        trainer = Trainer(graph, RunConfig(epochs=3, model=model, device="cpu"))
        trainer.step(3)
        ours = trainer.model.convs[0]
        stock = (GATConv if model == "gat" else GATv2Conv)(ours.in_channels, ours.out_channels, heads=ours.heads,
                                                           add_self_loops=False)
        assert isinstance(ours, type(stock))
        stock.load_state_dict(ours.state_dict())
        ours.eval(), stock.eval()
        edge_index = trainer.model.with_self_loops(trainer.edge_index, graph.num_nodes)
        a = ours(trainer.x, edge_index, return_attention_weights=True)
        b = stock(trainer.x, edge_index, return_attention_weights=True)
        assert torch.allclose(a[0], b[0], atol=1e-6) and torch.equal(a[1][1], b[1][1])
        assert ours.dropout == 0.0 and ours.attention_dropout == 0.6   # PyG's own draw is off


def test_dropout_keeps_the_expectation_and_follows_its_generator():
    x = torch.ones(200_000)
    g = torch.Generator().manual_seed(0)
    y = dropout(x, 0.6, True, g)
    assert abs(float((y == 0).float().mean()) - 0.6) < 0.01 and abs(float(y.mean()) - 1.0) < 0.02
    assert torch.equal(y, dropout(x, 0.6, True, torch.Generator().manual_seed(0)))
    assert dropout(x, 0.6, False, g) is x and dropout(x, 0.0, True, g) is x
    model = GAT(34, 2, RunConfig())
    model.generator = g
    assert all(c.generator is g for c in model.convs)


def test_building_models_leaves_no_generated_code_in_the_temp_folder(tmp_path):
    """PyG writes each conv class's generated propagate / edge_updater to a temporary file and
    keeps it; a process that builds GAT, GATv2 and GCN models (as the app or a CLI command does)
    leaves none of them behind, and the models still run."""
    code = ("import torch\nfrom gatviz import RunConfig\nfrom gatviz.model import GAT\n"
            "x, e = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])\n"
            "for m in ('gat', 'gatv2', 'gcn'):\n"
            "    assert GAT(3, 2, RunConfig(model=m, layers=2, heads=2, hidden=4))(x, e).shape == (5, 2)\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
