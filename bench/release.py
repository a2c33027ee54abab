"""python -m bench.release [--tabs 6] [--epochs 5] [--ttl 2] [--settle 6] [--log FILE]

Does a closed tab give its memory back? Starts ``streamlit run app.py`` with
``--server.disconnectedSessionTTL TTL`` and reads the server's resident memory (VmRSS in
/proc/PID/status): at idle; ``warm``, after one tab opened Cora (the imports and the cached
graph, which stay) and closed, TTL + SETTLE seconds later; the peak while TABS Chromium
contexts each train their own Cora run (``?dataset=cora&seed=N&epochs=EPOCHS``, then Train);
and TTL + SETTLE seconds after every context closed. Prints the figures (MB) and one
``RESULT`` line.

To see what gatviz's release of closed sessions does (ui/release.py), run it as is, with
``GATVIZ_NO_TRIM=1`` (no malloc_trim) and with ``GATVIZ_NO_RELEASE=1`` (none of it) in the
environment: the server inherits it. Chromium is Debian's (``shutil.which("chromium")``);
nothing is downloaded.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from .common import ROOT
from .interaction import ARGS, streamlit_server


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS, which /proc gives in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Peak:
    """The largest VmRSS of ``pid``, sampled every 0.1 s until :meth:`stop`."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.1)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def measure(tabs: int = 6, epochs: int = 5, ttl: float = 2, settle: float = 6, keep_log: str | None = None) -> dict:
    """Server RSS (MB) idle, at the peak of ``tabs`` own Cora runs, and TTL + settle s after they close."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("chromium not installed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with streamlit_server(ROOT, Path(tmp), "--server.disconnectedSessionTTL", str(ttl), log=log) as (url, _, proc):
            time.sleep(1)
            idle = rss_mb(proc.pid)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
                try:
                    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
                    page.goto(f"{url}/?dataset=cora")
                    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
                    page.context.close()
                    time.sleep(ttl + settle)
                    warm = rss_mb(proc.pid)
                    peak = Peak(proc.pid)
                    pages = []
                    for seed in range(tabs):   # its own run each: a different seed
                        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
                        page.goto(f"{url}/?dataset=cora&seed={seed}&epochs={epochs}")
                        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
                        pages.append(page)
                    for page in pages:
                        page.get_by_role("button", name="Train", exact=True).click()
                    for page in pages:
                        page.get_by_text(f"Epoch {epochs} of {epochs} · done").wait_for(timeout=300_000)
                    for page in pages:
                        page.context.close()
                finally:
                    browser.close()
            top = peak.stop()
            time.sleep(ttl + settle)
            after = rss_mb(proc.pid)
            text = log.read_text(errors="replace")
            released = text.count("gatviz: released")
            # "gatviz: released memory (N trainers finalised so far, ...)": the last N
            finalised = max([int(m) for m in re.findall(r"\((\d+) trainers finalised", text)], default=0)
            if keep_log:
                Path(keep_log).write_text(text)
    release = ("off" if os.environ.get("GATVIZ_NO_RELEASE") == "1" else
               "no-trim" if os.environ.get("GATVIZ_NO_TRIM") == "1" else "on")
    return {"idle_mb": round(idle), "warm_mb": round(warm), "peak_mb": round(top), "after_close_mb": round(after),
            "waited_s": round(ttl + settle, 1), "tabs": tabs, "epochs": epochs, "release": release,
            "release_lines": released, "trainers_finalised": finalised}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.release", description=__doc__.split("\n\n")[1])
    parser.add_argument("--tabs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--ttl", type=float, default=2, help="server.disconnectedSessionTTL, seconds")
    parser.add_argument("--settle", type=float, default=6, help="seconds to wait past the TTL")
    parser.add_argument("--log", metavar="FILE", help="keep the server's log here")
    args = parser.parse_args(argv)
    figures = measure(args.tabs, args.epochs, args.ttl, args.settle, args.log)
    print(f"server RSS: idle {figures['idle_mb']} MB, warm {figures['warm_mb']} MB (one Cora tab opened and "
          f"closed), peak {figures['peak_mb']} MB with {args.tabs} own Cora runs, {figures['after_close_mb']} MB "
          f"{figures['waited_s']} s after every tab closed (release {figures['release']}; "
          f"{figures['trainers_finalised']} trainers finalised)")
    print("RESULT " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
