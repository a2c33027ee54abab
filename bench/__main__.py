"""python -m bench [--quick | --smoke] [--only NAME[,NAME]] [--out DIR] [--wait-quiet SECONDS]

Runs the benchmarks, prints a ``RESULT k=v ...`` line for each, merges the
figures into ``DIR/latest.json`` and regenerates BENCHMARKS.md (at the repo
root for the default DIR ``bench/results``, else inside DIR).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import traceback
from pathlib import Path

from . import bigscale, compare, felt, interaction, scale, snapshots, train
from .common import (ROOT, OtherLoad, machine, markdown, result_line, set_threads, split, verdicts,
                     wait_quiet, write_json)

BENCHES = (train.BENCHES[:3] + interaction.BENCHES + scale.BENCHES + snapshots.BENCHES + train.BENCHES[3:]
           + compare.BENCHES + bigscale.BENCHES + felt.BENCHES)
DEFAULT_OUT = ROOT / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    names = [b.name for b in BENCHES]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run gatviz's benchmarks: RESULT lines, DIR/latest.json and BENCHMARKS.md.")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer repeats and sizes (< 3 min on 2 cores)")
    size.add_argument("--smoke", action="store_true", help="every benchmark on tiny sizes (< 60 s), for tests")
    parser.add_argument("--only", metavar="NAME[,NAME]", help=f"comma-separated subset of: {','.join(names)}")
    parser.add_argument("--out", type=Path, metavar="DIR", help="results folder (default bench/results; "
                        "--smoke defaults to bench/out)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each benchmark, wait up to SECONDS for other processes to "
                        "leave the cores idle (for shared machines)")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    chosen = args.only.split(",") if args.only else names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {','.join(unknown)}; choose from {','.join(names)}")
    out = (args.out or (ROOT / "bench" / "out" if args.smoke else DEFAULT_OUT)).resolve()
    md_path = ROOT / "BENCHMARKS.md" if out == DEFAULT_OUT else out / "BENCHMARKS.md"
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])

    set_threads()
    info = machine()
    print(f"machine: {info}", flush=True)
    failed = []
    for bench in (b for b in BENCHES if b.name in chosen):
        print(f"== {bench.name}: {bench.title} ({mode})", flush=True)
        if args.wait_quiet > 0:
            print(f"   others use {wait_quiet(args.wait_quiet):.2f} cores; starting", flush=True)
        start = time.perf_counter()
        try:
            with OtherLoad() as load:
                figures, details = split(bench.run(mode, out))
        except Exception:   # report, and go on with the other benchmarks
            traceback.print_exc()
            failed.append(bench.name)
            continue
        print(f"   {time.perf_counter() - start:.1f} s; other processes used {load.cores:.2f} cores",
              flush=True)
        print(result_line(figures), flush=True)
        entry = {"title": bench.title, "mode": mode, "command": command, "cpu": info["cpu"],
                 "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                 "seconds": round(time.perf_counter() - start, 1), "other_cores": round(load.cores, 2),
                 "figures": figures, "goals": bench.goals, "met": verdicts(bench, figures),
                 "details": details}
        data = write_json(out / "latest.json", {bench.name: entry}, info)
        md_path.write_text(markdown(BENCHES, data, out, md_path.parent))
    if failed:
        print(f"failed: {','.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
