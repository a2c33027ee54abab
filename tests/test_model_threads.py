"""Building a model while other threads import (a server's other sessions, each in its thread)."""
import gc
import os
import sys
import threading
import time
import types
import weakref
from pathlib import Path

from gatviz.model import drop_template_files


class _Cycle:
    pass


def test_template_files_are_dropped_while_other_threads_import_and_collect():
    """The model's clean-up reads sys.modules while other threads add to it.

    A garbage collection that starts during that read runs finalisers (Python code) and so
    lets another thread in: with a plain iteration of sys.modules that raised "dictionary
    changed size during iteration" in a tab of 20 opening one link at once (the page then
    showed the traceback instead of the view). Here one thread imports and forgets modules,
    another makes cycles with finalisers, thresholds and the switch interval are low: the
    iteration fails a few times per second; the copy never."""
    stop = threading.Event()

    def imports():
        i = 0
        while not stop.is_set():
            name = f"_gatviz_thread_test_{i % 50}"
            if sys.modules.pop(name, None) is None:
                sys.modules[name] = types.ModuleType(name)
            i += 1

    def cycles():
        while not stop.is_set():
            a, b = _Cycle(), _Cycle()
            a.other, b.other = b, a
            weakref.finalize(a, time.sleep, 0)
            time.sleep(0)

    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    threads = [threading.Thread(target=imports), threading.Thread(target=cycles)]
    failures, calls = [], 0
    try:
        gc.set_threshold(10)
        sys.setswitchinterval(1e-6)
        for thread in threads:
            thread.start()
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                drop_template_files()
            except RuntimeError as e:
                failures.append(str(e))
            calls += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        gc.set_threshold(*threshold)
        sys.setswitchinterval(interval)
        for name in [n for n in sys.modules if n.startswith("_gatviz_thread_test_")]:
            del sys.modules[name]
    assert calls > 100
    assert not failures, f"{len(failures)} of {calls} calls: {failures[0]}"


BUILD_AT_ONCE = """
import sys, threading
from gatviz import RunConfig
from gatviz.model import GAT, GAT1, GAT2
barrier, errors = threading.Barrier(8), []
def build(model):
    barrier.wait()
    try:
        GAT(16, 3, RunConfig(model=model, layers=2))
    except Exception as e:
        errors.append(repr(e))
sys.setswitchinterval(1e-5)
threads = [threading.Thread(target=build, args=("gat" if i % 2 else "gatv2",)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
generic = [c.__name__ for c in (GAT1, GAT2) if not c.propagate.__module__.endswith("_propagate")]
print(errors, generic)
"""


def test_models_built_in_eight_threads_at_once_leave_no_template_files(tmp_path):
    """A fresh process (no conv class templated yet) builds 8 models at once, as the tabs of
    a lecture hall do on a fresh server: each conv class gets PyG's generated propagate once,
    and no generated file is left in the temp folder. Built concurrently, without one build
    at a time, 11-12 files were left per process (each racing thread rendered its own, and
    only the one sys.modules kept was removed)."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", BUILD_AT_ONCE], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1], env={**os.environ, "TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[] []"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("gatviz.model_")]
