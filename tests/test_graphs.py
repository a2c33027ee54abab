import numpy as np
import pytest
import torch

from gatviz import GatvizError, RunConfig, graphs


def test_karate(karate):
    assert karate.num_nodes == 34
    assert karate.num_edges == 156          # 78 undirected edges, both directions
    assert karate.num_classes == 2
    assert karate.names[0] == "0" and karate.index("33") == 33
    assert not bool((karate.data.edge_index[0] == karate.data.edge_index[1]).any())


@pytest.mark.parametrize("name,nodes,edges,classes,features,split", [
    ("cora", 2708, 10556, 7, 1433, (140, 500, 1000)),
    ("citeseer", 3327, 9104, 6, 3703, (120, 500, 1000)),
])
def test_planetoid_offline_with_standard_split(name, nodes, edges, classes, features, split):
    g = graphs.load(name)
    assert (g.num_nodes, g.num_edges, g.num_classes, g.data.x.size(1)) == (nodes, edges, classes, features)
    assert tuple(int(m.sum()) for m in (g.data.train_mask, g.data.val_mask, g.data.test_mask)) == split
    rows = g.data.x.sum(dim=1)
    nonzero = rows > 0
    assert torch.allclose(rows[nonzero], torch.ones(int(nonzero.sum())), atol=1e-5)   # row-normalised


def test_sbm_is_seeded_and_labelled_by_block():
    a = graphs.load("sbm", RunConfig(sbm_nodes=200, sbm_blocks=4, sbm_p_in=0.2, sbm_p_out=0.01, seed=1))
    b = graphs.load("sbm", RunConfig(sbm_nodes=200, sbm_blocks=4, sbm_p_in=0.2, sbm_p_out=0.01, seed=1))
    assert torch.equal(a.data.edge_index, b.data.edge_index)
    assert a.num_classes == 4 and sorted(np.bincount(a.data.y.numpy())) == [50] * 4
    src, dst = a.data.edge_index
    inside = float((a.data.y[src] == a.data.y[dst]).float().mean())
    assert inside > 0.7      # p_in 0.2 vs p_out 0.01: most edges stay inside a block
    assert 8 < a.degree.mean() < 14   # expected 0.2*49 + 0.01*150 = 11.3


def test_sbm_mean_degree_at_scale():
    g = graphs.sbm(20_000, 10, 0.004, 0.0000556)
    assert abs(g.degree.mean() - 9.0) < 0.3


def test_unknown_dataset_and_node(karate):
    with pytest.raises(GatvizError, match="unknown dataset"):
        graphs.load("pubmed")
    with pytest.raises(GatvizError, match="unknown node 'x'"):
        karate.index("x")


def test_build_drops_and_counts_loops_and_duplicates():
    report = graphs.Report("test")
    g = graphs.build([(0, 1), (1, 0), (0, 1), (2, 2), (1, 2)], ["a", "b", "c"], name="t", report=report)
    assert report.self_loops == 1 and report.duplicate_edges == 2
    assert g.num_edges == 4      # a-b, b-c in both directions
    assert "Louvain" in report.labels and "identity" in report.features and "stratified" in report.split


def test_directed_build_keeps_one_way_edges():
    g = graphs.build([(0, 1), (1, 2)], ["a", "b", "c"], name="t", report=graphs.Report("t"), directed=True)
    assert g.num_edges == 2 and g.report.directed


def test_default_features_for_large_graph_are_structural():
    g = graphs.sbm(1200, 3, 0.02, 0.001)
    assert g.data.x.shape == (1200, 16 + graphs.EIGENVECTORS)
    assert "eigenvectors" in g.report.features


def test_split_is_stratified_and_seeded():
    g = graphs.sbm(300, 3, 0.1, 0.01, seed=4)
    d = g.data
    assert not bool((d.train_mask & d.val_mask).any() or (d.train_mask & d.test_mask).any())
    assert int((d.train_mask | d.val_mask | d.test_mask).sum()) == 300
    for c in range(3):
        assert int(d.train_mask[d.y == c].sum()) == 60   # 60 % of each 100-node block


def test_empty_graph_is_a_user_error():
    with pytest.raises(GatvizError, match="empty"):
        graphs.build([], [], name="t", report=graphs.Report("t"))


def test_large_unlabelled_graph_gets_spectral_communities(monkeypatch):
    monkeypatch.setattr(graphs, "LOUVAIN_UP_TO", 500)
    blocks = graphs.sbm(1200, 3, 0.03, 0.0005, seed=2)
    g = graphs.build(blocks.data.edge_index.t().numpy(), blocks.names, name="t", report=graphs.Report("t"))
    assert "spectral communities" in g.report.labels
    # each community lies (almost) inside one planted block: purity, since 8 clusters split 3 blocks
    table = np.zeros((3, g.num_classes), dtype=int)
    np.add.at(table, (blocks.data.y.numpy(), g.data.y.numpy()), 1)
    assert table.max(axis=0).sum() / 1200 > 0.95


def test_dense_sbm_is_generated_directly():
    # one block with p_in = 1: every pair is an edge (a rejection sampler never collects the last ones)
    g = graphs.sbm(1000, 1, 1.0, 0.0)
    assert g.report.edges == 1000 * 999          # directed message-passing edges, both ways
    assert g.report.duplicate_edges == 0 and g.report.self_loops == 0
    two = graphs.sbm(60, 2, 1.0, 1.0, seed=3)     # dense across blocks too: the complete graph
    assert two.num_edges == 60 * 59


def test_dense_sbm_pairs_are_uniform_and_seeded():
    a, b = graphs.sbm(40, 1, 0.7, 0.0, seed=5), graphs.sbm(40, 1, 0.7, 0.0, seed=5)
    assert torch.equal(a.data.edge_index, b.data.edge_index)
    assert abs(a.num_edges / 2 - 0.7 * 40 * 39 / 2) < 4 * (0.7 * 0.3 * 780) ** 0.5   # binomial count
    deg = a.degree
    assert deg.min() > 15 and deg.max() < 40      # no node left out, none over-chosen


@pytest.mark.parametrize("nodes,blocks,p_in,p_out,message", [
    (100_000, 1, 0.5, 0.0, r"about 2,499,975,000 edges"),   # 2.5e9 expected: refused before sampling
    (5_000, 2, 0.1, 0.1, r"about 1,249,750 edges"),
    (200_000, 4, 0.0001, 0.0, r"200,000 nodes"),             # node cap, before any allocation
])
def test_sbm_over_the_caps_is_refused_before_generating(nodes, blocks, p_in, p_out, message):
    with pytest.raises(GatvizError, match=message):
        graphs.sbm(nodes, blocks, p_in, p_out)


def _pairs(count, n=40):
    return [(i, j) for i in range(n) for j in range(i + 1, n)][:count]


def test_report_counts_undirected_edges_as_the_file_has_them():
    text = "\n".join(f"n{i},n{j}" for i, j in _pairs(441)) + "\n"
    from gatviz.parse import parse_upload
    first = parse_upload(text.encode()).report.lines()[0]
    assert "441 undirected edges (882 directed message-passing edges)" in first, first
    first = parse_upload(text.encode(), directed=True).report.lines()[0]
    assert "441 directed edges" in first and "undirected" not in first, first


def test_report_warns_when_the_split_leaves_no_validation_nodes():
    g = graphs.build(_pairs(3, 4), list("abcd"), name="t", report=graphs.Report("t"),
                     labels=[0, 1, 2, 3], class_names=list("wxyz"))
    assert int(g.data.val_mask.sum()) == 0
    assert any(line.startswith("warning: the split left no validation nodes") for line in g.report.lines())
    assert not any(line.startswith("warning") for line in graphs.load("karate").report.lines())


def test_nodes_by_degree_highest_first_ties_by_index():
    graph = graphs.load("cora")
    order, degree = graph.by_degree, graph.degree
    assert sorted(order.tolist()) == list(range(graph.num_nodes))
    assert order[0] == degree.argmax() and graph.names[order[0]] == "1358"
    pairs = list(zip(degree[order][:-1], degree[order][1:], order[:-1], order[1:]))
    assert all(d1 > d2 or (d1 == d2 and i1 < i2) for d1, d2, i1, i2 in pairs)


def test_builtin_names_in_any_case_and_unknown_ones_in_one_line():
    from gatviz import GatvizError
    assert graphs.builtin_name("Cora") == "cora" and graphs.builtin_name("KARATE") == "karate"
    with pytest.raises(GatvizError, match=r"^unknown dataset 'nope': choose one of karate, cora"):
        graphs.builtin_name("nope")
