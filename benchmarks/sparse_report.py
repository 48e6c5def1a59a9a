#!/usr/bin/env python3
"""The table of docs/sparse.md ("Sparse kernels") from bench_sparse_gemm's JSON output.

Reads the medians of a run with --benchmark_repetitions (CPU time: the machine's other load moves
wall time more than the kernels' own), prints per layer the dense kernel's time, the sparse
kernel's at 50/70/90 % sparsity per block shape with its speed-up (dense time / sparse time), and
the break-even density: where the sparse time, linear in the density between the measured points
(and beyond the last two), meets the dense time.

    python3 benchmarks/sparse_report.py sparse.json
"""
import json
import re
import sys
from collections import defaultdict


def break_even(points, dense):
    """Density where the sparse time crosses `dense`, from (density, time) points."""
    points = sorted(points)
    if not points:
        return None
    if points[0][1] >= dense:
        return 0.0  # slower even at the sparsest point measured
    for (d0, t0), (d1, t1) in zip(points, points[1:]):
        if t0 < dense <= t1:
            return d0 + (dense - t0) * (d1 - d0) / (t1 - t0)
    (d0, t0), (d1, t1) = points[-2], points[-1]
    if t1 <= t0:
        return 1.0
    return min(1.0, d1 + (dense - t1) * (d1 - d0) / (t1 - t0))


def main():
    with open(sys.argv[1]) as f:
        runs = json.load(f)["benchmarks"]
    dense = {}
    sparse = defaultdict(dict)  # (layer, block) -> {sparsity: (time, density)}
    for r in runs:
        if r.get("aggregate_name") != "median":
            continue
        name = r["run_name"]
        t = r["cpu_time"]
        m = re.fullmatch(r"(\S+)/dense", name)
        if m:
            dense[m.group(1)] = t
            continue
        m = re.fullmatch(r"(\S+)/sparse(\d+x\d+)/s(\d+)", name)
        if m:
            sparse[(m.group(1), m.group(2))][int(m.group(3))] = (t, r.get("density", 0.0))
    blocks = sorted({b for _, b in sparse}, key=lambda b: -int(b.split("x")[0]))
    print("| layer | dense us | block | 50 % | 70 % | 90 % | break-even density |")
    print("|---|---:|---|---:|---:|---:|---:|")
    summary = defaultdict(list)
    for layer in dense:
        for b in blocks:
            cases = sparse.get((layer, b))
            if not cases:
                continue
            cells = []
            for s in (50, 70, 90):
                t, _ = cases[s]
                cells.append(f"{t:.1f} ({dense[layer] / t:.2f}x)")
            be = break_even([(d, t) for t, d in cases.values()], dense[layer])
            summary[b].append((be, layer))
            print(f"| {layer} | {dense[layer]:.1f} | {b} | " + " | ".join(cells) + f" | {be:.2f} |")
    print()
    print("| block | break-even density: lowest | median | highest (layer) |")
    print("|---|---:|---:|---|")
    for b in blocks:
        v = sorted(summary[b])
        print(f"| {b} | {v[0][0]:.2f} ({v[0][1]}) | {v[len(v) // 2][0]:.2f} | "
              f"{v[-1][0]:.2f} ({v[-1][1]}) |")


if __name__ == "__main__":
    main()
