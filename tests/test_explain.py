"""The four replayed steps equal PyG's own forward, every layer, GAT and GATv2; explain --steps."""
import json

import numpy as np
import pytest
import torch

from gatviz import GatvizError, RunConfig, attention, cli, explain, graphs, runs
from gatviz.training import Trainer

TOL = 1e-5
# a hub (6 neighbours: 5 leaves with one neighbour each, and a chain's end), an isolated node
NAMES = ["hub", "l0", "l1", "l2", "l3", "l4", "c0", "c1", "c2", "iso"]
EDGES = [(0, k) for k in range(1, 6)] + [(6, 7), (7, 8), (8, 0)]


def _trainer(model, layers, directed=False, epochs=3):
    idx = {n: i for i, n in enumerate(NAMES)}
    features = np.random.default_rng(0).normal(size=(len(NAMES), 6))
    graph = graphs.build(EDGES, NAMES, name="t", report=graphs.Report("t"), directed=directed,
                         features=features if layers == 2 else None)   # default: sparse identity
    trainer = Trainer(graph, RunConfig(model=model, layers=layers, heads=3, hidden=4, out_heads=2,
                                       epochs=epochs, device="cpu"))
    trainer.step(epochs)
    assert idx["iso"] == 9
    return trainer


def _pyg(trainer):
    """What PyG itself computes in eval mode: per layer alpha, edge index, output, per-head sums."""
    model = trainer.model
    model.eval()
    outputs, heads = [], []
    hooks = [conv.register_forward_hook(lambda m, i, o: outputs.append(o[0])) for conv in model.convs]
    hooks += [conv.register_propagate_forward_hook(lambda m, i, o: heads.append(o)) for conv in model.convs]
    try:
        with torch.no_grad():
            logits, att, inputs = model(trainer.x, trainer.edge_index, return_attention=True,
                                        return_inputs=True)
    finally:
        for hook in hooks:
            hook.remove()
    return logits, att, inputs, outputs, heads


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_every_step_equals_pygs_forward(model, layers, directed):
    trainer = _trainer(model, layers, directed)
    logits, att, inputs, outputs, per_head = _pyg(trainer)
    worst = 0.0
    for layer, conv in enumerate(trainer.model.convs):
        loop_index, alpha = att[layer]
        with torch.no_grad():
            scores = attention.raw_scores(conv, inputs[layer], loop_index)
        for name in ("hub", "l0", "c1", "iso"):     # hub, one neighbour, two, isolated
            node = NAMES.index(name)
            edges = (loop_index[1] == node).nonzero().view(-1)
            for head in range(conv.heads):
                s = explain.steps_of(trainer, name, layer, head)
                assert s.names[-1] == name and s.is_self[-1] and s.is_self.sum() == 1
                assert np.array_equal(s.sources, loop_index[0, edges].numpy())   # PyG's order
                diffs = [np.abs(s.alpha - alpha[edges, head].numpy()).max(),
                         np.abs(s.e - scores[edges, head].numpy()).max(),
                         np.abs(s.head_output - per_head[layer][node, head].numpy()).max(),
                         np.abs(s.layer_output - outputs[layer][node].numpy()).max()]
                worst = max(worst, *diffs)
                assert max(diffs) < TOL, (name, layer, head, diffs)
                assert abs(s.alpha.sum() - 1) < 1e-6 and abs(s.exp.sum() - s.exp_sum) < 1e-5
                if layer == layers - 1:
                    assert np.abs(s.logits - logits[node].numpy()).max() < TOL
                    assert s.predicted == int(logits[node].argmax())
                    assert s.predicted_label == trainer.graph.class_names[s.predicted]
                    assert abs(s.probabilities.sum() - 1) < 1e-6
                else:
                    assert s.logits is None and s.predicted is None
    print(f"{model} layers={layers} directed={directed}: max |replay - PyG| = {worst:.2e}")


def test_isolated_node_attends_only_to_itself():
    trainer = _trainer("gat", 2)
    s = explain.steps_of(trainer, "iso", 0, 1)
    assert s.degree == 0 and s.uniform == 1.0 and s.alpha.tolist() == [1.0]
    assert np.allclose(s.head_output, s.z[0], atol=1e-6)    # sum over the self-loop alone
    assert s.neighbour_rank().tolist() == [0] and s.self_rank == 1


def test_gat_parts_and_gatv2_formula():
    gat = explain.steps_of(_trainer("gat", 2), "hub", 0, 0)
    assert gat.weight_shape == (3 * 4, 6) and gat.z.shape == (7, 4) and gat.h.shape == (7, 6)
    assert np.allclose(gat.pre, gat.a_src_z + gat.a_dst_z, atol=1e-6)
    assert np.allclose(gat.z_target, gat.z[-1])                       # one W for both ends
    leaky = np.where(gat.pre > 0, gat.pre, gat.negative_slope * gat.pre)
    assert np.allclose(gat.e, leaky, atol=1e-6) and gat.negative_slope == 0.2
    assert gat.concat and gat.combined.shape == (12,) and gat.layer_output.shape == (12,)
    assert np.allclose(gat.combined[:4], gat.head_output, atol=1e-6)  # head 0 is the first slice

    trainer = _trainer("gatv2", 2)
    v2 = explain.steps_of(trainer, "hub", 1, 1)
    assert v2.a_src_z is None and v2.pre.shape == (7, trainer.graph.num_classes)
    assert np.allclose(v2.pre, v2.z + v2.z_target, atol=1e-6)         # s_ij = W_l h_j + W_r h_i
    assert not v2.concat and np.allclose(v2.combined, v2.head_outputs.mean(0), atol=1e-6)
    assert np.allclose(v2.pre_norm, np.linalg.norm(v2.pre, axis=1))


def test_later_layers_run_on_the_receptive_field_and_leave_the_model_as_it_was():
    trainer = _trainer("gat", 3)
    model = trainer.model
    model.train()
    before = model.with_self_loops(trainer.edge_index, len(NAMES))
    s = explain.steps_of(trainer, "l0", 2, 0)     # 3-hop in-neighbourhood of l0 leaves out c0 and iso
    assert model.training and model.with_self_loops(trainer.edge_index, len(NAMES)) is before
    model.eval()
    with torch.no_grad():
        logits = model(trainer.x, trainer.edge_index)
    assert np.abs(s.logits - logits[1].numpy()).max() < TOL


def test_bad_layer_head_and_node_are_user_errors():
    trainer = _trainer("gat", 2)
    for kwargs, message in (({"layer": 2}, "layer"), ({"head": 2, "layer": 1}, "head"),
                            ({"node": 10}, "node index")):
        args = {"node": 0, "layer": 0, "head": 0, **kwargs}
        with pytest.raises(GatvizError, match=message):
            explain.steps_of(trainer, **args)


def test_neighbour_ranks_skip_the_self_loop():
    s = explain.steps_of(_trainer("gatv2", 2, epochs=20), "hub", 0, 0)
    ranks = s.neighbour_rank()
    assert sorted(ranks[:-1].tolist()) == list(range(1, 7)) and ranks[-1] == 0
    assert s.self_rank == 1 + int((s.alpha > s.self_alpha).sum())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explain")
    edges = tmp / "edges.csv"
    edges.write_text("source,target\n" + "".join(f"{NAMES[a]},{NAMES[b]}\n" for a, b in EDGES))
    from gatviz.parse import load_files
    trainer = Trainer(load_files(edges), RunConfig(dataset="upload", model="gatv2", heads=2, hidden=3, out_heads=2,
                                                   epochs=4, device="cpu"))
    trainer.step(4)
    return runs.save(tmp / "run", trainer, runs.GraphSource("upload", str(edges)))


def test_cli_explain_steps_json(run_dir, capsys):
    assert cli.main(["explain", str(run_dir), "--node", "hub", "--layer", "2", "--head", "1",
                     "--steps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"node", "layer", "head", "model", "z", "e", "alpha", "head_output", "layer_output",
            "uniform", "self", "logits", "predicted_class", "W_r h_i"} <= set(data)
    assert (data["node"], data["layer"], data["head"], data["model"]) == ("hub", 2, 1, "gatv2")
    assert set(data["alpha"]) == {"hub", "l0", "l1", "l2", "l3", "l4", "c2"}   # self under its own name
    assert abs(sum(data["alpha"].values()) - 1) < 1e-6 and data["uniform"] == pytest.approx(1 / 7)
    assert sorted(data["rank"].values()) == list(range(1, 7)) and "hub" not in data["rank"]
    assert data["self_rank"] == 1 + sum(a > data["alpha"]["hub"] for a in data["alpha"].values())
    trainer = runs.load(run_dir)
    logits, att, inputs, outputs, _ = _pyg(trainer)
    node = trainer.graph.index("hub")
    assert np.abs(np.array(data["layer_output"]) - outputs[1][node].numpy()).max() < TOL
    assert np.abs(np.array(data["logits"]) - logits[node].numpy()).max() < TOL
    loop_index, alpha = att[1]
    edges = (loop_index[1] == node).nonzero().view(-1)
    pyg = {trainer.graph.names[j]: float(a) for j, a in zip(loop_index[0, edges], alpha[edges, 1])}
    assert max(abs(data["alpha"][k] - v) for k, v in pyg.items()) < TOL

    assert cli.main(["explain", str(run_dir), "--node", "c1", "--steps"]) == 0   # text walk-through
    text = capsys.readouterr().out
    for part in ("1. z = W h", "2. e_ij", "3. softmax", "4. ", "layer 1", "head 0"):
        assert part in text, part


@pytest.mark.parametrize("command", ["explain", "view"])
@pytest.mark.parametrize("layer", ["0", "3"])
def test_cli_layers_are_numbered_from_1(run_dir, capsys, tmp_path, command, layer):
    extra = ["--out", str(tmp_path / "v.html")] if command == "view" else ["--steps"]
    assert cli.main([command, str(run_dir), "--node", "hub", "--layer", layer, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "from 1 to 2" in err[0], err


def test_cli_steps_take_one_head(run_dir, capsys):
    assert cli.main(["explain", str(run_dir), "--node", "hub", "--head", "mean", "--steps"]) == 2
    assert "one head" in capsys.readouterr().err
