#!/usr/bin/env python3
"""The peer suite: Polyhead, ONNX Runtime and OpenCV DNN on the same models, interleaved.

Each measurement is one process (a driver) that loads its models, warms up and times R runs;
one "run" executes every model of the case once, in order. Rounds go over every (case, runtime,
threads) combination in a shuffled order (fixed seed), so drifts of a shared machine spread over
all of them. Reported: the median over all timed runs, the min-max of the per-process medians,
and the peak resident memory. Standard library only; see README.md.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", required=True, help="JSON file describing the cases (see README)")
    p.add_argument("--bin", required=True, help="folder with peer_polyhead and peer_opencv")
    p.add_argument("--threads", default="1,2", help="thread counts, comma separated")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--runtimes", default="polyhead,onnxruntime,opencv")
    p.add_argument("--json", help="also write every measurement here")
    p.add_argument("--markdown", help="also write the table here")
    return p.parse_args()


def command(runtime, case, threads, args):
    common = ["--threads", str(threads), "--warmup", str(args.warmup), "--runs", str(args.runs)]
    if runtime == "polyhead":
        return [os.path.join(args.bin, "peer_polyhead"), "--models", ",".join(case["phm"])] + common
    if runtime == "opencv":
        shapes = ",".join("x".join(str(d) for d in s) for s in case["shapes"])
        return [os.path.join(args.bin, "peer_opencv"), "--models", ",".join(case["onnx"]),
                "--shapes", shapes] + common
    return ["node", os.path.join(ROOT, "tools", "ort_reference", "run.mjs"), "--bench",
            "--models", ",".join(case["onnx"]), "--threads", str(threads), "--warmup",
            str(args.warmup), "--runs", str(args.runs), "--rounds", "1", "--rss"]


def measure(runtime, case, threads, args):
    """One process: {'median_ms', 'samples' (list), 'rss_peak_kb', 'rss_base_kb'} or {'error'}."""
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    proc = subprocess.run(command(runtime, case, threads, args), capture_output=True, text=True,
                          env=env, timeout=900)
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    try:
        out = json.loads(proc.stdout if runtime == "onnxruntime" else lines[-1])
    except (ValueError, IndexError):
        return {"error": (proc.stderr.strip() or proc.stdout.strip() or "no output")[-300:]}
    if runtime == "onnxruntime":
        seq = out["sequential"]
        return {"median_ms": seq["median_ms"], "min_ms": seq["min_ms"],
                "rss_peak_kb": out["rss"]["after"]["vm_hwm_kb"],
                "rss_base_kb": out["rss"]["before"]["vm_hwm_kb"]}
    if "error" in out:
        return {"error": out["error"]}
    return {"median_ms": out["median_ms"], "min_ms": out["min_ms"],
            "rss_peak_kb": out["rss_peak_kb"], "rss_base_kb": out["rss_before_kb"]}


def main():
    args = parse_args()
    with open(args.cases) as f:
        cases = json.load(f)
    runtimes = args.runtimes.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    combos = [(c["name"], rt, t) for c in cases for rt in runtimes for t in threads
              if rt != "polyhead" or c.get("phm")]
    by_name = {c["name"]: c for c in cases}
    results = {k: [] for k in combos}
    rng = random.Random(20261123)
    for r in range(args.rounds):
        order = combos[:]
        rng.shuffle(order)
        for k in order:
            name, rt, t = k
            # A runtime that could not load a case will not load it next round either.
            if results[k] and "error" in results[k][0]:
                continue
            results[k].append(measure(rt, by_name[name], t, args))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    def summary(k):
        ms = results[k]
        if not ms or "error" in ms[0]:
            return None
        medians = [m["median_ms"] for m in ms]
        return {"median_ms": statistics.median(medians), "min_ms": min(medians),
                "max_ms": max(medians), "rss_peak_mb": max(m["rss_peak_kb"] for m in ms) / 1024,
                "rss_increase_mb": max(m["rss_peak_kb"] - m["rss_base_kb"] for m in ms) / 1024}

    rows = ["| case | threads | runtime | median ms | min–max ms | Polyhead / this | peak RSS MB "
            "| RSS over no-model baseline MB |", "|---|---|---|---|---|---|---|---|"]
    report = []
    for c in cases:
        for t in threads:
            ours = summary((c["name"], "polyhead", t)) if "polyhead" in runtimes else None
            for rt in runtimes:
                k = (c["name"], rt, t)
                if k not in results:
                    continue
                s = summary(k)
                if s is None:
                    err = results[k][0]["error"] if results[k] else "not run"
                    short = "cannot load" if rt == "opencv" and "cannot load" in err else "failed"
                    rows.append(f"| {c['name']} | {t} | {rt} | {short} | | | | |")
                    report.append({"case": c["name"], "threads": t, "runtime": rt, "error": err})
                    continue
                ratio = f"{ours['median_ms'] / s['median_ms']:.2f}×" if ours and rt != "polyhead" else ""
                rows.append(f"| {c['name']} | {t} | {rt} | {s['median_ms']:.3f} | "
                            f"{s['min_ms']:.3f}–{s['max_ms']:.3f} | {ratio} | "
                            f"{s['rss_peak_mb']:.1f} | {s['rss_increase_mb']:.1f} |")
                report.append(dict(case=c["name"], threads=t, runtime=rt, **s,
                                   measurements=results[k]))
    table = "\n".join(rows)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
