"""How far heads are from uniform: normalised entropy, same-class share, verdicts."""
import numpy as np
import pytest
import torch

from gatviz import uniformity
from gatviz.attention import AttentionTable

# 0 <- 1, 0 <- 2, 0 <- 3, 1 <- 0, then one self-loop per node (PyG order)
EDGES = torch.tensor([[1, 2, 3, 0, 0, 1, 2, 3], [0, 0, 0, 1, 0, 1, 2, 3]])


def table(alpha_head0, alpha_head1):
    alpha = torch.tensor(np.stack([alpha_head0, alpha_head1], axis=1), dtype=torch.float32)
    return AttentionTable(EDGES, [alpha], None, num_nodes=4)


def test_uniform_head_and_one_hot_head():
    uniform = [0.25, 0.25, 0.25, 0.5, 0.25, 0.5, 1.0, 1.0]       # node 0: 4 inputs, node 1: 2 inputs
    one_hot = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    labels = np.array([0, 0, 1, 1])
    s = uniformity.head_summary(table(uniform, one_hot), labels)
    assert list(s["nodes"]) == [2, 2]                            # nodes 2 and 3 only attend to themselves
    assert s.loc[0, "median_entropy"] == pytest.approx(1.0, abs=1e-6)
    assert s.loc[1, "median_entropy"] == pytest.approx(0.0, abs=1e-4)
    # same class: node 0's neighbour 1 (class 0); node 1's neighbour 0 (class 0... node 1 is class 0)
    # uniform share: node 0 -> 1/4, node 1 -> 1/2; mean 0.375
    assert s.loc[0, "same_class_uniform"] == pytest.approx(0.375)
    assert s.loc[0, "same_class"] == pytest.approx(0.375)
    # one-hot head: node 0 puts all on 1 (same class), node 1 all on 0 (same class)
    assert s.loc[1, "same_class"] == pytest.approx(1.0)
    assert s.loc[0, "verdict"].startswith("layer 1, head 0: close to uniform, median normalised entropy 1.00")
    assert s.loc[1, "verdict"].startswith("layer 1, head 1: selective")
    assert "38% if uniform" in s.loc[0, "verdict"]
    assert "1 of 2 heads depart from uniform" in uniformity.graph_verdict(s)
    assert "close to uniform in every head" in uniformity.graph_verdict(s[s["head"] == 0])
    assert "try the dictionary graph with GATv2" in uniformity.graph_verdict(s[s["head"] == 0], "cora", "gat")
    on_dictionary = uniformity.graph_verdict(s[s["head"] == 0], "dictionary", "gat")
    assert "Switch the model to GATv2" in on_dictionary and "try the dictionary" not in on_dictionary
    assert "train longer" in uniformity.graph_verdict(s[s["head"] == 0], "dictionary", "gatv2")


def test_without_labels_and_without_neighbours():
    s = uniformity.head_summary(table([0.25] * 3 + [0.5, 0.25, 0.5, 1, 1], [0.25] * 3 + [0.5, 0.25, 0.5, 1, 1]))
    assert s["same_class"].isna().all() and "same-class" not in s.loc[0, "verdict"]
    lonely = AttentionTable(torch.tensor([[0, 1], [0, 1]]), [torch.ones(2, 1)], None, num_nodes=2)
    s = uniformity.head_summary(lonely, np.array([0, 1]))
    assert np.isnan(s.loc[0, "median_entropy"]) and "no node has a neighbour" in s.loc[0, "verdict"]
    assert uniformity.graph_verdict(s).startswith("No node has a neighbour")


def test_trained_karate_is_close_to_uniform_and_says_so(karate_trainer):
    att = karate_trainer.attention()
    s = uniformity.head_summary(att, karate_trainer.graph.data.y.numpy())
    assert len(s) == 8 + 1 and (s["median_entropy"] > 0.8).all()
    assert s["same_class"].between(0, 1).all()
