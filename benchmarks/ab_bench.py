#!/usr/bin/env python3
"""Two builds of the `polyhead` CLI against each other on the same models, interleaved.

    benchmarks/ab_bench.py --a OLD/bin/polyhead --b NEW/bin/polyhead MODEL.phm [...] \
        [--rounds 9] [--runs 30] [--threads 1]

For a change that must not cost speed (a refactor, a new layout): every round runs `polyhead
bench MODEL --json -` once with each build, in alternating order, and the report gives each
build's median of the per-process medians and the median (min, max) of the per-round ratios
B / A, which holds up when a shared machine drifts. It asserts nothing.
"""
import argparse
import json
import statistics
import subprocess
import sys


def bench_median(binary, model, runs, threads):
    cmd = [binary, "bench", model, "--runs", str(runs), "--threads", str(threads), "--json", "-"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"ab_bench: {' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout)["latency_ms"]["median"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the baseline polyhead binary")
    parser.add_argument("--b", required=True, help="the changed polyhead binary")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    times = {m: {"a": [], "b": []} for m in args.models}
    for r in range(args.rounds):
        for m in args.models:
            order = ("a", "b") if r % 2 == 0 else ("b", "a")
            for which in order:
                binary = args.a if which == "a" else args.b
                times[m][which].append(bench_median(binary, m, args.runs, args.threads))
    print("| model | A median ms | B median ms | B/A median of rounds (min–max) |")
    print("|---|---|---|---|")
    for m in args.models:
        a, b = times[m]["a"], times[m]["b"]
        ratios = [y / x for x, y in zip(a, b)]
        print(f"| {m} | {statistics.median(a):.3f} | {statistics.median(b):.3f} | "
              f"{statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f}) |")


if __name__ == "__main__":
    main()
