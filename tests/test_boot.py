"""ui.boot's deferred torch._dynamo (and, at a server's start, torch_geometric.datasets and pandas): the
first screen of a cold server never imports them, and everything that does use them (an
optimizer, PyG's isinstance, a submodule import) gets the real package. A fresh interpreter each: the test process has long imported everything."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST_SCREEN = """
import sys, torch
from ui import boot
boot._defer_dynamo()
import torch_geometric
from gatviz import RunConfig, graphs
from gatviz.training import Trainer
trainer = Trainer(graphs.load("karate"), RunConfig(dataset="karate", seed=0))
alpha = trainer.attention().alpha[0]                     # what the first view draws
assert isinstance(sys.modules["torch._dynamo"], boot._Deferred), "the first screen imported torch._dynamo"
assert "torch._dynamo.convert_frame" not in sys.modules
"""


def run(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_first_screen_does_not_import_dynamo_and_training_gets_the_real_one():
    run(FIRST_SCREEN + """
rows = trainer.step(3)                                   # Adam: the real torch._dynamo, on first use
assert len(rows) == 3 and not isinstance(sys.modules["torch._dynamo"], boot._Deferred)
assert torch._dynamo is sys.modules["torch._dynamo"] and "torch._dynamo.convert_frame" in sys.modules
from torch_geometric.isinstance import is_torch_instance
assert is_torch_instance(torch.compile(trainer.model), type(trainer.model))   # unwraps OptimizedModule
boot.warm()                                              # nothing left to do
import threading
assert not [t for t in threading.enumerate() if t.name == "gatviz-warm"]
""")


def test_warm_or_a_submodule_import_loads_the_real_package():
    run(FIRST_SCREEN + """
boot.warm()                                              # the page, once its first screen is drawn
import torch._dynamo.config                              # meanwhile: through the stand-in's __path__
assert torch._dynamo.config is sys.modules["torch._dynamo.config"]
import threading
[t.join(60) for t in threading.enumerate() if t.name == "gatviz-warm"]
assert not isinstance(sys.modules["torch._dynamo"], boot._Deferred) and torch._dynamo.config.cache_size_limit
assert trainer.step(1)
""")


def test_the_server_starts_the_imports_and_a_page_waits_for_them():
    # what `streamlit run app.py` does: import app.py outside a script run, run its st.App's lifespan
    run("""
import asyncio, sys, threading
import streamlit as st
import app
assert isinstance(app.app, st.App) and "torch" not in sys.modules    # importing app.py imports no torch
from ui import boot

async def start():
    async with app._lifespan(app.app):
        pass
asyncio.run(start())
assert boot._PRELOAD is not None and boot._PRELOAD.name == "gatviz-preload"
boot._PRELOAD.ready.wait(120)
assert "torch_geometric" in sys.modules and "gatviz.render" in sys.modules and "ui.sidebar" in sys.modules
assert isinstance(sys.modules["torch._dynamo"], boot._Deferred)      # still deferred to the first use
assert isinstance(sys.modules["pandas"], boot._Deferred)             # and pandas (a page imports it)
import importlib.util
assert importlib.util.find_spec("pandas").origin.endswith("__init__.py")   # as torch._dynamo asks:
boot._real("torch._dynamo")                                          # (a Train click before pandas)
assert isinstance(sys.modules["pandas"], boot._Deferred)
assert sys.modules["pandas"].__version__ >= "2"                      # asked of the stand-in: the real one's
assert not isinstance(sys.modules["pandas"], boot._Deferred)
assert boot.skeleton("explorer.title")() is None                     # done: no skeleton drawn
# PyG's dataset classes (and their LLM helpers) are not imported by the server's start either,
# yet reached both ways, the package's attribute and an import from it, they are the real ones
import torch_geometric
assert isinstance(sys.modules["torch_geometric.datasets"], boot._Deferred)
assert "torch_geometric.llm" not in sys.modules and "torch_geometric.datasets.planetoid" not in sys.modules
karate = torch_geometric.datasets.KarateClub()[0]
assert karate.num_nodes == 34 and "torch_geometric.llm" in sys.modules
from torch_geometric.datasets import Planetoid
import torch_geometric.datasets.planetoid as module
assert Planetoid is module.Planetoid is torch_geometric.datasets.Planetoid
assert not isinstance(sys.modules["torch_geometric.datasets"], boot._Deferred)
""")


def test_a_cold_server_sends_the_explorer_s_first_view_before_it_imports_pandas():
    # pandas (~0.3 s on 2 cores) is imported while the browser draws the first view, not before
    run("""
import asyncio, sys
import app
from ui import boot

async def start():
    async with app._lifespan(app.app):
        pass
asyncio.run(start())
boot._PRELOAD.ready.wait(120)
assert isinstance(sys.modules["pandas"], boot._Deferred)
import ui.network
sent, component = [], ui.network._component

def spy(*args, key=None, **kwargs):
    out = component(*args, key=key, **kwargs)   # (sent at its end: Streamlit's own work included)
    sent.append((key, isinstance(sys.modules["pandas"], boot._Deferred)))
    return out

ui.network._component = spy
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120)
at.run()
assert not at.exception, at.exception
assert sent[0] == ("gv_view", True) and [k for k, _ in sent] == ["gv_view", "gv_curves"], sent   # the view went out with pandas deferred,
assert not isinstance(sys.modules["pandas"], boot._Deferred)  # then the page used it: the real one
assert len(at.dataframe) == 1 and at.dataframe[0].value["alpha"].sum() > 0.99   # the view's table
import pandas
assert pandas is sys.modules["pandas"] and pandas.DataFrame({"a": [1]}).shape == (1, 1)
""")


def test_the_server_starts_without_asking_an_outside_host_for_its_address(tmp_path):
    # as the README starts it (headless by .streamlit/config.toml, every interface): Streamlit's
    # banner would otherwise look up this machine's public IP on an outside host
    import socket
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)   # (the banner follows the health route by a moment)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = log.read_text(errors="replace")
    assert f"localhost:{port}" in text, text[-2000:]
    assert "external IP" not in text and "External URL" not in text, text[-2000:]


SKELETON = """
import threading
import streamlit as st
from ui import boot

class Cold(threading.Event):   # not ready when asked, ready when waited for
    def is_set(self):
        return False

ready = Cold() if st.session_state.get("cold") else threading.Event()
ready.set()
boot._PRELOAD = type("Preload", (), {"ready": ready})()
boot.skeleton("explorer.title")()
st.title("page")
st.sidebar.button("Train")
"""


def test_the_skeleton_leaves_the_page_s_tree_as_a_warm_run_draws_it():
    """A cold server's first run draws the skeleton and clears it; a warm run must give the same
    tree, else every element of the page shifts one place at the next run and the browser
    re-mounts the whole page (the view's vis-network canvases included) at the first click."""
    from streamlit.testing.v1 import AppTest

    def shape(cold: bool) -> list:
        at = AppTest.from_string(SKELETON)
        at.session_state["cold"] = cold
        at.run()
        assert not at.exception, at.exception
        return [[node.type for node in block] for block in (at.main, at.sidebar)]

    from ui import boot
    saved = boot._PRELOAD   # (the scripts run in this process: the test's stand-in must not stay)
    try:
        cold = shape(True)
        assert cold[0][-1] == "title" and cold[1][-1] == "button"
        assert shape(False) == cold
    finally:
        boot._PRELOAD = saved
