"""ui.charts: line charts as plain Vega-Lite specs, with the numbers they were given."""
import json

import pyarrow as pa
from streamlit.testing.v1 import AppTest

SCRIPT = '''
import numpy as np, pandas as pd
import ui
loss = pd.DataFrame({"epoch": [1, 2, 3], "train": [0.5, 0.4, 0.3], "val": [0.6, np.nan, 0.5]}).set_index("epoch")
acc = pd.DataFrame({"epoch": [1, 2, 3], "z first": [0.1, 0.2, 0.3]}).set_index("epoch")
ui.charts.stacked_line_charts((("Loss", loss, ("#000000", "#111111")), ("Accuracy", acc, ("#222222",))),
                              height=100, x_label="epoch")
ui.line_chart(acc, height=80, x_label="epoch")
'''


def charts():
    at = AppTest.from_string(SCRIPT)
    at.run()
    assert not at.exception, at.exception
    return [(json.loads(c.proto.spec), pa.ipc.open_stream(c.proto.data.data).read_pandas())
            for c in at.get("vega_lite_chart")]


def test_stacked_charts_are_one_view_with_each_chart_s_series_and_values():
    (spec, data), (single, single_data) = charts()
    assert [v["title"]["text"] for v in spec["vconcat"]] == ["Loss", "Accuracy"]
    assert [v["encoding"]["color"]["scale"]["domain"] for v in spec["vconcat"]] == [["train", "val"], ["z first"]]
    assert spec["vconcat"][1]["encoding"]["color"]["scale"]["range"] == ["#222222"]
    loss = data[data["chart"] == 0].pivot(index="x", columns="series", values="value")
    assert loss["train"].tolist() == [0.5, 0.4, 0.3]
    assert loss["val"].iloc[0] == 0.6 and loss["val"].isna().iloc[1]       # a gap, not a zero
    acc = data[data["chart"] == 1]
    assert acc["series"].unique().tolist() == ["z first"] and acc["value"].tolist() == [0.1, 0.2, 0.3]
    # the legend keeps the columns' order, not the alphabet's
    assert single["encoding"]["color"]["sort"] == ["z first"] and "range" not in single["encoding"]["color"]["scale"]
    assert single_data["value"].tolist() == [0.1, 0.2, 0.3]


def test_thin_keeps_at_most_the_points_asked_for_with_the_first_and_last_epochs():
    from ui.curves import thin
    kept = thin(1000, 150)
    assert len(kept) == 150 and kept[0] == 0 and kept[-1] == 999
    assert kept == sorted(set(kept))                                  # indices of rows, in order
    assert {b - a for a, b in zip(kept, kept[1:])} <= {6, 7}          # evenly spread
    assert thin(100, 150) == list(range(100))


def test_fixed_axes_and_an_empty_frame():
    at = AppTest.from_string('''
import pandas as pd
import ui
empty = pd.DataFrame({"epoch": [], "train": []}).set_index("epoch")
ui.charts.stacked_line_charts((("Loss", empty, ("#000000",)), ("Accuracy", empty, ("#111111",), (0, 1))),
                              height=100, x_label="epoch", x_domain=(0, 50))
''')
    at.run()
    assert not at.exception, at.exception
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert [v["encoding"]["x"]["scale"] for v in spec["vconcat"]] == [{"domain": [0, 50], "nice": False}] * 2
    assert "scale" not in spec["vconcat"][0]["encoding"]["y"]
    assert spec["vconcat"][1]["encoding"]["y"]["scale"] == {"domain": [0, 1], "nice": False}
    assert len(pa.ipc.open_stream(chart.proto.data.data).read_pandas()) == 0   # axes and legends, no lines


def test_the_progress_column_s_numbers_are_the_history_s_with_gaps_for_missing_values():
    import types
    from ui.curves import LIVE_POINTS, MOST_POINTS, data, words
    nan = float("nan")
    history = [{"epoch": e, "loss": 1 / e, "val_loss": nan if e == 2 else 2 / e, "train_acc": 0.5,
                "val_acc": nan, "test_acc": 0.25} for e in range(1, 4)]
    trainer = types.SimpleNamespace(history=history, epoch=3, remaining=7, config=types.SimpleNamespace(epochs=10))
    shown = data(trainer, words("en"), training=True, waiting=2)
    assert shown["progress"] == {"value": 0.3, "text": "Epoch 3 of 10 · waiting: 2 ahead of you"}
    assert shown["accuracy"]["items"] == [["train", "50%"], ["val", "n/a"], ["test", "25%"]]
    loss, acc = shown["charts"]
    assert loss["series"][1]["values"] == [2.0, None, 0.66667] and acc["series"][1]["values"] == [None] * 3
    assert shown["x"] == [1, 2, 3] and shown["x_domain"] == [0, 10] and shown["info"] is None
    json.dumps(shown, allow_nan=False)                                 # plain JSON for the browser
    assert data(trainer, words("zh"), training=False)["progress"]["text"] == "第 3 轮（共 10 轮）"   # stopped early: no status
    long = [dict(history[0], epoch=e) for e in range(1, 5_001)]
    trainer = types.SimpleNamespace(history=long, epoch=5_000, remaining=0, config=types.SimpleNamespace(epochs=5_000))
    assert len(data(trainer, words("en"), training=True)["x"]) == LIVE_POINTS
    done = data(trainer, words("en"), training=False)
    assert len(done["x"]) == MOST_POINTS and done["x"][0] == 1 and done["x"][-1] == 5_000
    assert done["progress"]["text"] == "Epoch 5000 of 5000 · done"
