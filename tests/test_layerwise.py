"""Layer-by-layer eval (gatviz.layerwise): the full-graph pass's logits, α and e_ij, batch by batch."""
import pytest
import torch

from gatviz import RunConfig, attention, graphs, layerwise, limits
from gatviz.training import Trainer


@pytest.fixture(scope="module")
def cora():
    return graphs.load("cora")


def full_pass(trainer):
    """attention.extract with the layer-by-layer hand-over switched off."""
    old = limits.LAYERWISE_EVAL_EDGES
    limits.LAYERWISE_EVAL_EDGES = 10**12
    try:
        return attention.extract(trainer.model, trainer.x, trainer.edge_index)
    finally:
        limits.LAYERWISE_EVAL_EDGES = old


@pytest.mark.parametrize("model,layers", [("gat", 2), ("gatv2", 3)])
def test_equals_the_full_graph_pass_on_cora(cora, model, layers):
    trainer = Trainer(cora, RunConfig(dataset="cora", model=model, layers=layers, heads=4, epochs=3,
                                      batch_size=256, fanout="5", device="cpu"))
    trainer.step(3)
    assert trainer.x.layout == torch.sparse_csr            # the sparse input path too
    logits, full = full_pass(trainer)
    out, table = layerwise.extract(trainer.model, trainer.x, trainer.edge_index, batch_nodes=500)
    assert torch.equal(table.edge_index, full.edge_index)
    torch.testing.assert_close(out, logits, atol=1e-5, rtol=0)
    for layer in range(layers):
        torch.testing.assert_close(table.alpha[layer], full.alpha[layer], atol=1e-5, rtol=0)
        torch.testing.assert_close(table.score[layer], full.score[layer], atol=1e-5, rtol=0)
    sums = torch.zeros(cora.num_nodes, table.heads(0)).index_add_(0, table.edge_index[1], table.alpha[0])
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=1e-5, rtol=0)
    was = trainer.model.training     # the model's mode is restored
    layerwise.extract(trainer.model, trainer.x, trainer.edge_index, scores=False, batch_nodes=1000)
    assert trainer.model.training == was


def test_past_the_threshold_the_mini_batch_trainer_evaluates_layer_by_layer(cora, monkeypatch):
    config = RunConfig(dataset="cora", heads=4, epochs=2, batch_size=512, fanout="10,5", device="cpu")
    reference = Trainer(cora, config)
    reference.step(2)
    assert not layerwise.wanted(reference.x, reference.edge_index)   # Cora: far under the threshold
    calls = []
    original = layerwise.extract
    monkeypatch.setattr(limits, "LAYERWISE_EVAL_EDGES", 0)            # forced on
    monkeypatch.setattr(limits, "LAYERWISE_BATCH_NODES", 700)
    monkeypatch.setattr(layerwise, "extract", lambda *a, **k: calls.append(1) or original(*a, **k))
    trainer = Trainer(cora, config)
    trainer.step(2)
    assert calls and trainer.batches is not None
    # the same seeded run: the same history (accuracy from the layer-wise logits) and α
    for mine, theirs in zip(trainer.history, reference.history):
        assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-6)
        assert mine["val_acc"] == theirs["val_acc"] and mine["test_acc"] == theirs["test_acc"]
    for a, b in zip(trainer.attention().alpha, reference.attention().alpha):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    torch.testing.assert_close(trainer.logits(), reference.logits(), atol=1e-5, rtol=0)
