"""Compare: snapshots over training, heads, rollout, GCN baseline, edits, importance."""
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch_geometric.utils import scatter

from gatviz import GatvizError, RunConfig, compare, edits, graphs, heads, importance, runs, timeline
from gatviz.training import Trainer


@pytest.fixture(scope="module")
def small(karate):
    config = RunConfig(epochs=12, heads=3, hidden=4, snapshot_every=3, device="cpu")
    trainer = Trainer(karate, config)
    trainer.step(5)
    trainer.step(7)          # two chunks: the result must not depend on the chunking
    return trainer


# 1. attention over training ---------------------------------------------------------------

@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_snapshot_equals_the_final_attention_of_a_shorter_run(karate, model):
    config = RunConfig(model=model, epochs=20, heads=2, hidden=4, snapshot_every=4, device="cpu")
    long = Trainer(karate, config)
    for chunk in (3, 10, 7):
        long.step(chunk)
    short = Trainer(karate, config.replace(epochs=8))
    short.step(8)
    held = timeline.at_epoch(long, 8)
    assert held.epoch == 8
    for a, b in zip(held.alpha, short.attention().alpha):
        # the snapshot is float16 of the same float32 numbers: equal after the same rounding
        assert torch.equal(a, b.half().float())


def test_an_epoch_not_held_is_a_user_error_naming_the_held_ones(small):
    with pytest.raises(GatvizError, match=r"epoch 4 is not held.*3, 6, 9, 12"):
        timeline.at_epoch(small, 4)


def test_snapshots_survive_a_run_directory(tmp_path, small):
    runs.save(tmp_path / "run", small, runs.GraphSource("karate"))
    loaded = runs.load(tmp_path / "run")
    assert [s.epoch for s in loaded.snapshots] == [3, 6, 9, 12]
    for a, b in zip(timeline.at_epoch(loaded, 6).alpha, timeline.at_epoch(small, 6).alpha):
        assert torch.equal(a, b)


def test_normalised_entropy_is_one_for_uniform_attention_and_medians_per_head(small):
    att = timeline.at_epoch(small, 12)
    target = att.edge_index[1]
    count = torch.bincount(target).float()
    uniform = type(att)(att.edge_index, [(1 / count[target]).unsqueeze(1).repeat(1, 2)], None,
                        att.num_nodes)
    assert np.allclose(timeline.normalised_entropy(uniform, 0), 1.0)
    frame = timeline.entropy_over_epochs(small)
    assert len(frame) == 4 * (3 + 1)            # 4 snapshots x (3 hidden heads + 1 output head)
    values = timeline.normalised_entropy(small.snapshot_table(small.snapshots[-1]), 0)
    assert frame.query("epoch == 12 and layer == 0")["median"].tolist() == pytest.approx(
        np.median(values, axis=0).tolist())
    assert ((frame["median"] > 0) & (frame["median"] <= 1 + 1e-9)).all()


def test_scrub_gif_has_one_frame_per_snapshot(tmp_path, small):
    path = timeline.scrub_gif(small, 0, 0, 1, tmp_path / "scrub.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == len(small.snapshots) == 4


# 2. heads ---------------------------------------------------------------------------------

def test_head_similarity_is_a_mean_js_divergence(small):
    att = small.attention()
    js, order = heads.similarity(att, 0)
    assert js.shape == (3, 3) and np.allclose(js, js.T) and np.allclose(np.diag(js), 0)
    assert sorted(order) == [0, 1, 2]
    # by hand for heads 0 and 1 at every target, with scipy's JS distance (its square, base 2)
    from scipy.spatial.distance import jensenshannon
    per_node = [jensenshannon(att.alpha[0][att.incoming(i), 0], att.alpha[0][att.incoming(i), 1], base=2) ** 2
                for i in range(att.num_nodes) if len(att.incoming(i)) > 1]   # nodes with a neighbour
    assert js[0, 1] == pytest.approx(np.mean(per_node), rel=1e-5)


def test_head_similarity_leaves_out_nodes_without_a_neighbour():
    from gatviz.parse import parse_upload
    graph = parse_upload(b"a,b\nb,c\nc,a\nc,d\n", b"a,x\nb,x\nc,y\nd,y\ne,x\nf,y\n")   # e, f: isolated
    trainer = Trainer(graph, RunConfig(dataset="upload", epochs=3, heads=2, device="cpu"))
    trainer.step(3)
    att = trainer.attention()
    js, _ = heads.similarity(att, 0)
    from scipy.spatial.distance import jensenshannon
    per_node = [jensenshannon(att.alpha[0][att.incoming(i), 0], att.alpha[0][att.incoming(i), 1], base=2) ** 2
                for i in range(4)]
    assert js[0, 1] == pytest.approx(np.mean(per_node), rel=1e-5)


def test_library_calls_with_wrong_types_are_one_line():
    from gatviz import edits
    trainer = Trainer(graphs.load("karate"), RunConfig(epochs=2, heads=2, device="cpu"))
    trainer.step(2)
    att = trainer.attention()
    for call, message in ((lambda: compare.rollout(att, 0, 0), "heads must be 'mean' or one head"),
                          (lambda: heads.forward_uniform(trainer, 0, 0), "heads must be a list of head indices"),
                          (lambda: heads.forward_uniform(trainer, 0, ["mean"]), "head must be from 0 to 1"),
                          (lambda: heads.forward_uniform(trainer, 0, [True]), "head must be from 0 to 1"),
                          (lambda: heads.forward_uniform(trainer, 0, [0.5]), "head must be from 0 to 1"),
                          (lambda: heads.forward_uniform(trainer, 2, [0]), "layer index (0 = the first layer) "
                                                                           "must be from 0 to 1, not 2"),
                          (lambda: heads.similarity(att, "0"), "layer index"),
                          (lambda: edits.edit(trainer, 0, drop=[(1,)]), "an edge is a (source, target) pair")):
        with pytest.raises(GatvizError, match=re.escape(message)):
            call()


@pytest.mark.parametrize("model", ["gat", "gatv2"])
def test_ablating_all_heads_equals_a_uniform_attention_forward(karate, model):
    trainer = Trainer(karate, RunConfig(model=model, epochs=6, heads=3, hidden=4, device="cpu"))
    trainer.step(6)
    net = trainer.model.eval()
    with torch.no_grad():
        _, _, inputs = net(trainer.x, trainer.edge_index, return_attention=True, return_inputs=True)
        loops = trainer.attention().edge_index
        src, dst = loops
        for layer, conv in enumerate(net.convs):
            got = heads.forward_uniform(trainer, layer, list(range(conv.heads)))
            # independently: mean of W h_j over N(i) ∪ {i}, heads concatenated (hidden) or
            # averaged (output), plus bias; later layers as usual
            z = (conv.lin(inputs[layer]) if model == "gat" else conv.lin_l(inputs[layer]))
            z = z.view(-1, conv.heads, conv.out_channels)
            h = scatter(z[src], dst, dim=0, dim_size=karate.num_nodes, reduce="mean")
            h = (h.flatten(1) if conv.concat else h.mean(dim=1)) + conv.bias
            for later in net.convs[layer + 1:]:
                h = later(torch.nn.functional.elu(h), loops)
            assert torch.allclose(got, h, atol=1e-5)


def test_ablation_covers_every_head_and_layer_and_starts_from_the_model(small):
    frame = heads.ablation(small)
    assert len(frame) == 1 + (3 + 1) + (1 + 1)
    pred = small.predictions()
    test = small.masks["test"]
    assert frame.iloc[0]["test_acc"] == pytest.approx(float((pred[test] == small.y[test]).float().mean()))
    report = heads.report(small)
    assert [l["layer"] for l in report["layers"]] == [1, 2]
    assert set(report["layers"][0]["ablate_head"]) == {"0", "1", "2"}


# 3. rollout -------------------------------------------------------------------------------

@pytest.mark.parametrize("choice", ["mean", [2, 0]])
def test_rollout_rows_sum_to_one_and_equal_the_dense_product(small, choice):
    att = small.attention()
    n = att.num_nodes
    src, dst = att.edge_index
    dense = []
    for layer, head in enumerate([choice] * 2 if choice == "mean" else choice):
        a = torch.zeros(n, n, dtype=torch.float64)
        a[dst, src] = torch.as_tensor(att.weights(layer, head), dtype=torch.float64)
        dense.append(a)
    product = dense[1] @ dense[0]
    for node in (0, 11, 33):
        row = compare.rollout(att, node, choice)
        assert row.sum() == pytest.approx(1.0, abs=1e-6)
        assert np.allclose(row, product[node].numpy(), atol=1e-9)
    named = compare.rollout_named(att, 0, small.graph.names)
    assert list(named.values()) == sorted(named.values(), reverse=True)


def test_view_shows_and_sizes_every_node_of_a_rollout(small):
    from gatviz import render
    att = small.attention()
    weights = compare.rollout(att, 0)
    payload = render.view(small.graph, att, 0, 0, ["mean"], hops=2, top_k=3, node_weights=weights)
    shown = {n["id"]: n for n in payload["nodes"]}
    assert set(np.flatnonzero(weights)) <= set(shown)          # despite top_k = 3 edges
    assert all(n["rw"] == pytest.approx(weights[i], abs=1e-4) for i, n in shown.items())
    assert max(n["s"] for n in shown.values()) == pytest.approx(3.0)


# 4. models side by side -------------------------------------------------------------------

def test_three_models_train_on_the_same_split_and_gcn_has_no_attention(karate):
    trainers = compare.train_models(karate, RunConfig(epochs=3, heads=2, hidden=4, device="cpu"))
    assert set(trainers) == {"gat", "gatv2", "gcn"}
    assert len(compare.histories(trainers)) == 9
    gcn = trainers["gcn"]
    assert gcn.model.convs[0].out_channels == 2 * 4
    with pytest.raises(GatvizError, match="GCN has no attention"):
        gcn.attention()
    with pytest.raises(GatvizError, match="GCN has no attention"):
        heads.ablation(gcn)
    assert timeline.held_epochs(gcn) == []                  # as at_epoch says: no epoch is held
    with pytest.raises(GatvizError, match="GCN has no attention"):
        timeline.at_epoch(gcn, gcn.epoch)
    tau = compare.kendall(trainers["gat"].attention(), trainers["gatv2"].attention(), 0, 0)
    assert -1 <= tau <= 1


def test_gcn_weights_are_pygs_symmetric_normalisation(karate):
    att = compare.gcn_weights(karate, layers=2)
    src, dst = att.edge_index
    deg = torch.bincount(dst).float()      # self-loop included
    assert torch.allclose(att.alpha[0][:, 0], 1 / torch.sqrt(deg[src] * deg[dst]))
    assert int(att.is_self.sum()) == karate.num_nodes


# 5. edits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("drop", [(1, 0), (31, 0)])
def test_first_layer_alpha_renormalises_exactly_after_removing_an_edge(small, drop):
    result = edits.edit(small, 0, drop=[drop])
    assert result.removed == [drop, drop[::-1]]            # karate is undirected
    for head in range(3):
        frame = result.alpha(0, head).set_index("source")
        gone = frame.loc[drop[0], "before"]
        rest = frame.drop(index=drop[0])
        assert np.isnan(frame.loc[drop[0], "after"])
        assert np.allclose(rest["after"], rest["before"] / (1 - gone), atol=1e-6)
    assert result.probs_after.sum() == pytest.approx(1.0)


def test_adding_an_edge_and_mistakes(small):
    result = edits.edit(small, 0, add=[(9, 0)])
    assert (9, 0) in result.added and result.alpha(0, "mean").set_index("source").loc[9, "after"] > 0
    assert np.isnan(result.alpha(0, "mean").set_index("source").loc[9, "before"])
    with pytest.raises(GatvizError, match="no edge"):
        edits.edit(small, 0, drop=[(9, 0)])
    with pytest.raises(GatvizError, match="already there"):
        edits.edit(small, 0, add=[(1, 0)])


# 6. importance ----------------------------------------------------------------------------

def test_edge_importance_ranks_every_input_with_three_methods(small):
    out = importance.edge_importance(small, 0, epochs=5)
    table = out["table"]
    assert len(table) == small.graph.degree[0]
    assert set(out["correlation"]) == {"gnnexplainer", "gradient", "leave_one_out"}
    assert (table["gradient"] >= 0).all() and ((table["gnnexplainer"] >= 0) & (table["gnnexplainer"] <= 1)).all()
    assert out["epochs"] == 5 and out["verdict"]
    # leave-one-out, batched on the 2-hop neighbourhood, equals removing the one edge j -> 0
    # from the whole graph
    small.model.eval()
    ei = small.edge_index
    for _, row in table.head(3).iterrows():
        j = int(row["source"])
        with torch.no_grad():
            p = small.model(small.x, ei[:, ~((ei[0] == j) & (ei[1] == 0))]).softmax(-1)[0, out["predicted"]]
        assert row["leave_one_out"] == pytest.approx(out["probability"] - float(p), abs=1e-5)


@pytest.mark.parametrize("layers, node", [(1, 0), (3, 33)])
def test_leave_one_out_equals_removing_each_edge_from_the_whole_graph(karate, layers, node):
    trainer = Trainer(karate, RunConfig(epochs=3, layers=layers, heads=2, hidden=4, device="cpu"))
    trainer.step(3)
    subset, x, sub_ei, centre, into = importance.neighbourhood_input(trainer, node)
    cls = int(trainer.predictions()[node])
    got = importance.leave_one_out(trainer.model, x, sub_ei, centre, into, cls)
    ei = trainer.edge_index
    base = float(trainer.logits()[node].softmax(-1)[cls])
    with torch.no_grad():
        for value, j in zip(got, subset[sub_ei[0, into]].tolist()):
            p = trainer.model(trainer.x, ei[:, ~((ei[0] == j) & (ei[1] == node))]).softmax(-1)[node, cls]
            assert value == pytest.approx(base - float(p), abs=1e-5)


def test_verdict_says_when_attention_and_importance_disagree():
    low = importance.verdict({"leave_one_out": {"spearman": -0.2, "kendall": -0.1}}, 10)
    assert "attention is not explanation" in low
    high = importance.verdict({"leave_one_out": {"spearman": 0.9, "kendall": 0.8}}, 10)
    assert "agrees" in high


def test_bad_arguments_of_the_library_are_one_line_in_its_own_numbering(tmp_path, small):
    from gatviz import subgraph
    with pytest.raises(GatvizError, match=r"^head must be from 0 to 2, not 9$"):
        heads.forward_uniform(small, 0, [9])
    with pytest.raises(GatvizError, match="head"):                      # before the GIF writer opens
        timeline.scrub_gif(small, 0, 0, 99, tmp_path / "bad.gif")
    for hops in (0, -1):                                                # not exact: refused
        with pytest.raises(GatvizError, match="hops must be at least 1"):
            subgraph.local_attention(small, None, None, 0, hops=hops)


@pytest.mark.parametrize("bad", [99, -1, 3.0, "3", None, True])
def test_a_node_index_the_graph_lacks_is_one_line_everywhere(small, bad):
    from gatviz import attention, exports, subgraph
    att = small.attention()
    calls = [lambda: edits.edit(small, bad, drop=[(0, 1)]), lambda: edits.edit(small, 0, drop=[(0, bad)]),
             lambda: edits.edit(small, 0, add=[(bad, 5)]), lambda: compare.kendall(att, att, bad, 0),
             lambda: subgraph.predict(small, [bad]), lambda: att.incoming(bad),
             lambda: exports.context(small, bad, 0, 0), lambda: exports.file_stem(small, bad, 0, 0),
             lambda: attention.neighbourhood(att, bad, 0, 0, small.graph.degree, small.graph.names)]
    for call in calls:
        with pytest.raises(GatvizError, match="node index") as caught:
            call()
        assert "\n" not in str(caught.value)


def test_numpy_integers_are_node_indices(small):
    from gatviz import exports
    assert exports.context(small, np.int64(5), 0, 0)["centre"] == small.graph.names[5]
