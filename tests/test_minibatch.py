"""Mini-batch training on sampled neighbourhoods (gatviz.minibatch), small graphs only."""
import json

import pytest
import torch
from torch_geometric.sampler import NodeSamplerInput

from gatviz import GatvizError, RunConfig, cli, graphs, limits, minibatch, runs
from gatviz.distributed import shard
from gatviz.training import Trainer


def test_sampler_draws_existing_in_edges_at_most_fanout_per_target(karate):
    ei = karate.data.edge_index
    sampler = minibatch.TorchNeighborSampler(ei, karate.num_nodes, [3, 2])
    seeds = torch.tensor([0, 33, 5])
    torch.manual_seed(0)
    out = sampler.sample_from_nodes(NodeSamplerInput(input_id=torch.arange(3), node=seeds))
    assert torch.equal(out.node[:3], seeds) and out.node.unique().numel() == out.node.numel()
    assert out.num_sampled_nodes[0] == 3 and sum(out.num_sampled_nodes) == out.node.numel()
    # local source -> target are the original edges with those ids (flow source -> target)
    assert torch.equal(torch.stack([out.node[out.row], out.node[out.col]]), ei[:, out.edge])
    hop1 = out.edge[:out.num_sampled_edges[0]]
    assert set(ei[1, hop1].tolist()) <= set(seeds.tolist())    # hop 1: edges into the seeds
    deg = karate.degree
    per_target = torch.bincount(out.col[:out.num_sampled_edges[0]], minlength=3)
    assert per_target.tolist() == [min(3, int(deg[s])) for s in seeds]
    assert out.edge.unique().numel() == out.edge.numel()      # without replacement
    assert bool((sampler._local == -1).all())                  # the shared buffer is clean again


def test_large_fanout_and_batch_is_the_full_batch_step(karate):
    """Every in-edge sampled and every training node in one batch: the same loss as full batch."""
    config = RunConfig(dropout=0.0, epochs=2, device="cpu")
    full = Trainer(karate, config)
    mini = Trainer(karate, config.replace(batch_size=1000, fanout="1000"))
    assert full.batches is None and len(mini.batches) == 1
    a, b = full.step(2), mini.step(2)
    for x, y in zip(a, b):
        assert x["loss"] == pytest.approx(y["loss"], abs=1e-5)
        assert x["test_acc"] == y["test_acc"]


def test_seeded_reproducible_and_global_rng_untouched(karate):
    config = RunConfig(epochs=4, batch_size=4, fanout="3,2", device="cpu")
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a, b = Trainer(karate, config), Trainer(karate, config)
    assert len(a.batches) == -(-int(karate.data.train_mask.sum()) // 4)
    ha, hb = a.step(4), b.step(4)
    assert [r["loss"] for r in ha] == [r["loss"] for r in hb]
    assert torch.equal(torch.get_rng_state(), before)
    other = Trainer(karate, config.replace(seed=1)).step(4)
    assert [r["loss"] for r in other] != [r["loss"] for r in ha]


def test_eval_and_attention_stay_exact_full_graph(karate):
    trainer = Trainer(karate, RunConfig(epochs=2, batch_size=4, fanout="2", device="cpu"))
    trainer.step(2)
    att = trainer.attention()
    assert att.edge_index.size(1) == karate.num_edges + karate.num_nodes     # every edge, not a sample
    trainer.model.eval()
    with torch.no_grad():
        logits = trainer.model(trainer.x, trainer.edge_index)
    torch.testing.assert_close(trainer.logits(), logits)
    for a in att.alpha:
        sums = torch.zeros(karate.num_nodes, a.size(1)).index_add_(0, att.edge_index[1], a)
        torch.testing.assert_close(sums, torch.ones_like(sums))


def test_past_the_full_batch_caps_training_goes_mini_batch(karate, monkeypatch):
    monkeypatch.setattr(limits, "MAX_NODES", 10)
    trainer = Trainer(karate, RunConfig(epochs=1, device="cpu"))
    assert trainer.batches is not None and trainer.batches.batch_size == minibatch.DEFAULT_BATCH_SIZE
    assert "mini-batches" in trainer.notice
    monkeypatch.setattr(limits, "MAX_NODES_MINIBATCH", 50)
    with pytest.raises(GatvizError, match=r"60 nodes; gatviz handles at most 50 \(MAX_NODES_MINIBATCH"):
        graphs.load("sbm", RunConfig(sbm_nodes=60))
    assert graphs.load("sbm", RunConfig(sbm_nodes=40)).num_nodes == 40     # past MAX_NODES, below the cap


@pytest.mark.parametrize("text,layers,expected", [("10", 2, [10, 10]), ("15,5", 2, [15, 5]), ("7", 3, [7] * 3)])
def test_fanout(text, layers, expected):
    assert limits.parse_fanout(text, layers) == expected


@pytest.mark.parametrize("kwargs,message", [
    ({"fanout": "0"}, "fanout must be an integer from 1 to 1,000, not 0"),
    ({"fanout": "a"}, "fanout must be whole numbers separated by commas"),
    ({"fanout": "5,5", "layers": 3}, "gives 2 numbers for 3 layers"),
    ({"batch_size": -1}, "batch_size must be an integer from 0"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(GatvizError, match=message):
        RunConfig(**kwargs)


def test_settings_round_trip_json_and_query():
    config = RunConfig(batch_size=256, fanout="15,10")
    assert RunConfig.from_json(config.to_json()) == config
    assert config.to_query()["fanout"] == "15,10" and config.to_query()["batch_size"] == "256"
    assert RunConfig.from_query(config.to_query()) == config


def test_shard_gives_every_rank_the_same_count():
    seeds = torch.arange(11)
    parts = [shard(seeds, r, 3) for r in range(3)]
    assert [p.numel() for p in parts] == [4, 4, 4]
    assert set(torch.cat(parts).tolist()) == set(range(11))


def test_cli_trains_in_mini_batches_and_writes_the_settings(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "karate", "--epochs", "3", "--batch-size", "8",
                     "--fanout", "5,3", "--out", str(out)]) == 0
    assert "mini-batches of 8 (fanout 5,3)" in capsys.readouterr().err
    saved = json.loads((out / "config.json").read_text())
    assert saved["batch_size"] == 8 and saved["fanout"] == "5,3"
    trainer = runs.load(out)
    assert trainer.config.batch_size == 8 and trainer.epoch == 3


def test_attention_csv_is_skipped_past_the_full_batch_caps(tmp_path, karate, monkeypatch):
    trainer = Trainer(karate, RunConfig(epochs=1, device="cpu"))
    trainer.step(1)
    monkeypatch.setattr(limits, "MAX_EDGES", 10)
    run = runs.save(tmp_path / "r", trainer, runs.GraphSource("karate"))
    assert not (run / "attention.csv").exists()
    assert "exactly" in json.loads((run / "metrics.json").read_text())["attention_csv_skipped"]
