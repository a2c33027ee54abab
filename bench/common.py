"""Shared pieces of the benchmarks: threads, interleaved timing, machine info, reports.

Machines are noisy, so a timing is never judged alone: each is measured
interleaved with a reference in the same process (ref, ours, ref, ours, ...);
times are medians, and a ratio is the median of the per-round ratios, each
round's pair timed back to back. Nothing here asserts on time.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parent.parent
OPS = {"<=": (lambda v, g: v <= g, "≤"), ">=": (lambda v, g: v >= g, "≥")}


@dataclass
class Bench:
    """One benchmark: ``run(mode, out_dir)`` returns its figures (numbers; anything else is a detail).

    A detail ``plot`` names an image written into ``out_dir``; BENCHMARKS.md links it.
    """
    name: str
    title: str
    run: Callable[[str, Path], dict]
    goals: dict[str, tuple[str, float]] = field(default_factory=dict)   # figure -> (op, value)
    labels: dict[str, str] = field(default_factory=dict)                # figure -> what it is
    notes: str = ""
    # extra markdown lines from the entry; with it, the goal table lists only figures with goals
    extra: Callable[[dict], list[str]] | None = None


def pick(mode: str, smoke, quick, full):
    """The setting for this mode: ``pick(mode, 3, 15, 60)`` repeats."""
    return {"smoke": smoke, "quick": quick, "full": full}[mode]


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def set_threads() -> int:
    n = cores()
    torch.set_num_threads(n)
    return n


def sync_for(device: torch.device) -> Callable[[], None]:
    """What to call before reading the clock: CUDA runs asynchronously."""
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


class Timings(dict):
    """name -> seconds of every timed call, in the order they ran."""

    def median(self, name: str) -> float:
        return statistics.median(self[name])

    def ratio(self, ours: str, ref: str) -> float:
        """Median over rounds of ours / ref, each pair timed back to back in one round."""
        return statistics.median(a / b for a, b in zip(self[ours], self[ref]))


def interleave(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3,
               sync: Callable[[], None] = lambda: None) -> Timings:
    """Time every function ``repeats`` times, round-robin.

    The functions run in turn (a, b, a, b, ...) so that a slow spell of the
    machine hits all of them alike; ``warmup`` untimed rounds come first.
    """
    times = Timings({k: [] for k in fns})
    for i in range(warmup + repeats):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


class OtherLoad:
    """CPU that other processes used while a block ran, in cores on average.

    Busy time of the whole machine (/proc/stat) minus this process's tree: itself and every
    descendant (a browser under Playwright's driver, a server), looked at every SAMPLE_S by a
    thread, each process counted up to its last look: a browser's renderers are reaped by
    init when it closes, taking their CPU with them. What a descendant spent after its last
    look, or a process that lived under SAMPLE_S, reads as the others' (a little high).
    A run that shared its cores reads high here, so its times are suspect.
    """

    SAMPLE_S = 0.25

    def __enter__(self):
        self._base = tree_cpu(os.getpid())   # pid -> CPU seconds at the start
        self._last = dict(self._base)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self.start = self._busy(), time.perf_counter()
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(self.SAMPLE_S):
            self._last.update(tree_cpu(os.getpid()))

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self._last.update(tree_cpu(os.getpid()))
        busy, wall = (b - a for a, b in zip(self.start, (self._busy(), time.perf_counter())))
        own = sum(seconds - self._base.get(pid, 0.0) for pid, seconds in self._last.items())
        self.cores = max(0.0, (busy - own) / wall) if wall > 0 else 0.0

    @staticmethod
    def _busy() -> float:
        """Busy CPU seconds of the whole machine so far (/proc/stat; nan where unreadable)."""
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return float("nan")
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def proc_stat() -> dict[int, list[str]]:
    """Every process's /proc/<pid>/stat fields after its name: [state, ppid, ...]; index 11-14
    are utime, stime, cutime, cstime in clock ticks (a process gone meanwhile is left out)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    return out


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system, its own) of process ``root`` and of each live descendant."""
    stats = proc_stat()
    parent = {pid: int(fields[1]) for pid, fields in stats.items()}
    out = {}
    for pid, fields in stats.items():
        p = pid
        while p in parent and p != root:
            p = parent[p]
        if p == root:
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime
    return out


def wait_quiet(limit_s: float, below: float = 0.2, window_s: float = 3.0) -> float:
    """Wait (at most ``limit_s``) until other processes use < ``below`` cores over a window.

    Returns the cores others used in the last window.
    """
    deadline = time.monotonic() + limit_s
    while True:
        with OtherLoad() as load:
            time.sleep(window_s)
        if load.cores < below or time.monotonic() >= deadline:
            return load.cores


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import torch_geometric
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu_model(), "cores": cores(), "torch_threads": torch.get_num_threads(),
            "gpu": gpu, "python": platform.python_version(), "torch": torch.__version__,
            "torch_geometric": torch_geometric.__version__, "os": platform.platform(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds")}


def split(result: dict) -> tuple[dict, dict]:
    """Numbers (figures) apart from everything else (details)."""
    figures = {k: v for k, v in result.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return figures, {k: v for k, v in result.items() if k not in figures}


def result_line(figures: dict) -> str:
    return "RESULT " + " ".join(f"{k}={v:.6g}" for k, v in figures.items())


def verdicts(bench: Bench, figures: dict) -> dict[str, bool]:
    return {k: OPS[op][0](figures[k], goal) for k, (op, goal) in bench.goals.items() if k in figures}


def write_json(path: Path, entries: dict, machine_info: dict) -> dict:
    """Merge this run's entries into the JSON at ``path`` (other benchmarks keep theirs)."""
    old = json.loads(path.read_text()) if path.exists() else {}
    merged = {"machine": machine_info, "benchmarks": {**old.get("benchmarks", {}), **entries}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2, sort_keys=False) + "\n")
    return merged


def _fmt(v) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:.4g}"


def markdown(benches: list[Bench], data: dict, results_dir: Path, md_dir: Path) -> str:
    """BENCHMARKS.md: a table per benchmark (goal / measured / met?), machine, commands."""
    m = data["machine"]
    out = ["# Benchmarks", "",
           "Generated by `python -m bench` (see `bench/`); do not edit by hand. Every timing is the",
           "median of many repeats. Where there is a reference (training, extraction, scale), it is",
           "measured in the same process, interleaved (ref, ours, ref, ours, ...), and a ratio is the",
           "median of the per-round ratios; the interaction and cold-start figures are absolute",
           "(milliseconds, seconds, bytes), as their goals are. Nothing is asserted on time.", "",
           f"Machine of the last run: {m['cpu']}, {m['cores']} cores ({m['torch_threads']} torch threads), "
           f"GPU: {m['gpu'] or 'none'}; Python {m['python']}, torch {m['torch']}, "
           f"torch_geometric {m['torch_geometric']}; {m['os']}; last run {m['date']}. Each benchmark "
           "names the CPU it ran on after its command; older entries, from before that was recorded, "
           "may come from other machines.", "",
           "The machine may be shared: each benchmark states how many cores *other* processes used",
           "on average while it ran (from /proc/stat). Near 0 is a clean run; timings taken while",
           "others used a core or more are inflated (2 torch threads then contend for 2 cores).", ""]
    for b in benches:
        entry = data["benchmarks"].get(b.name)
        out += [f"## {b.title} (`{b.name}`)", ""]
        figures = (entry or {}).get("figures", {})
        if not entry or not figures.get("measured", 1):
            why = (entry or {}).get("details", {}).get("why", "not yet measured")
            out += [f"**{why}**", ""] + ([b.notes, ""] if b.notes else [])
            continue
        out += ["| figure | goal | measured | met? |", "|---|---|---|---|"]
        met = entry.get("met", {})
        shown = list(b.goals) if b.extra else list(figures) + [k for k in b.goals if k not in figures]
        for k in shown:
            goal = b.goals.get(k)
            goal_text = f"{OPS[goal[0]][1]} {goal[1]:g}" if goal else ""
            ok = "not measured" if k not in figures else "" if k not in met else "yes" if met[k] else "**no**"
            value = _fmt(figures[k]) if k in figures else "—"
            out.append(f"| {b.labels.get(k, k)} (`{k}`) | {goal_text} | {value} | {ok} |")
        out += [""] + (b.extra(entry) + [""] if b.extra else [])
        cpu = f", on {entry['cpu']}" if entry.get("cpu") else ""
        out += [f"Command: `{entry['command']}` ({entry['mode']} mode, {entry['date']}{cpu}, "
                f"{entry.get('seconds', 0):.0f} s; other processes used {entry.get('other_cores', 0):.2f} "
                f"cores meanwhile).", ""]
        if b.notes:
            out += [b.notes, ""]
        plot = entry.get("details", {}).get("plot")
        if plot:
            link = os.path.relpath(results_dir / plot, md_dir)
            out += [f"![{b.title}]({link})", ""]
    return "\n".join(out)
