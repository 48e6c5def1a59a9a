#!/usr/bin/env python3
"""The peer suite: Polyhead and every peer that can load a model, on every model of the suite,
interleaved in shuffled rounds, at each thread count; writes a markdown table and JSON.

    run_peers.py --cases build/peers/cases.json --bin build/release/bin --venv build/peers-venv \
        [--peers polyhead,litert,...] [--threads 1,2] [--rounds 5] [--runs 20] [--warmup 5] \
        [--markdown FILE] [--json FILE]

cases.json comes from prepare_models.py: per case, per peer, either the files the peer runs or
{"error": "cannot load: ..."}. Each measurement is one process (a driver: peer_*.py, peer_*.cc,
peer_ort_node.mjs; protocol in peer_common.py) that loads the case's models, runs them once,
warms up and times --runs runs. A round runs every (case, peer, threads) once in an order
shuffled with a fixed seed, so the drifts of a shared machine spread over all of them. Figures:
median and p90 over all timed runs of all rounds; ratio of medians to the fastest peer of that
case and thread count; peak RSS over the process's no-model baseline (VmHWM after loading the
runtime, before the model; largest over the rounds); load+prepare to the first result (median
over the rounds); 2-thread speedup = median at 1 thread / median at 2 threads. Standard library
only; see README.md.
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ["polyhead", "litert", "onnxruntime", "onnxruntime-node", "ncnn", "mnn", "opencv"]
# Not run unless asked for: LiteRT without its default delegate (XNNPACK), to check that the
# litert column really runs XNNPACK. It runs litert's files.
CHECK_PEERS = {"litert-no-xnnpack": "litert"}
PEER_LABELS = {"polyhead": "Polyhead", "litert": "LiteRT", "onnxruntime": "ORT (py)",
               "onnxruntime-node": "ORT (node)", "ncnn": "ncnn", "mnn": "MNN",
               "opencv": "OpenCV DNN", "litert-no-xnnpack": "LiteRT without XNNPACK"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", required=True, help="case file written by prepare_models.py")
    p.add_argument("--bin", required=True, help="folder with peer_polyhead and peer_opencv")
    p.add_argument("--venv", required=True, help="the Python peers' virtualenv (make_venv.sh)")
    p.add_argument("--peers", default=",".join(PEERS), help="peers to run, comma separated")
    p.add_argument("--threads", default="1,2", help="thread counts, comma separated")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--seed", type=int, default=20261123, help="seed of the round order")
    p.add_argument("--json", help="write every measurement here")
    p.add_argument("--markdown", help="write the tables here")
    p.add_argument("--note", default="", help="a line printed above the tables")
    p.add_argument("--from-json", help="measure nothing: write the tables of an earlier --json")
    return p.parse_args()


def tables_from_json(path, cases, args):
    """The tables of an earlier run, from its --json (for a new table layout, no new figures)."""
    with open(path) as f:
        saved = json.load(f)
    figures, errors = {}, {}
    for e in saved["results"]:
        k = (e["model"], e["peer"], e["threads"])
        if "error" in e:
            errors[k] = e["error"]
        else:
            figures[k] = e
    args.rounds, args.runs, args.warmup = saved["rounds"], saved["runs"], saved["warmup"]
    args.note = args.note or saved.get("note", "")
    return tables(cases, saved["peers"], saved["threads"], figures, errors, args)


def shapes_arg(entry):
    return ",".join("x".join(str(d) for d in s) for s in entry["shapes"])


def command(peer, entry, threads, args):
    models = ",".join(entry["models"])
    common = ["--threads", str(threads), "--warmup", str(args.warmup), "--runs", str(args.runs)]
    python = os.path.join(args.venv, "bin", "python")
    if peer == "polyhead":
        return [os.path.join(args.bin, "peer_polyhead"), "--models", models] + common
    if peer == "opencv":
        return [os.path.join(args.bin, "peer_opencv"), "--models", models,
                "--shapes", shapes_arg(entry)] + common
    if peer == "onnxruntime-node":
        return ["node", os.path.join(HERE, "peer_ort_node.mjs"), "--models", models] + common
    if peer == "litert":
        return [python, os.path.join(HERE, "peer_litert.py"), "--models", models] + common
    if peer == "litert-no-xnnpack":
        return [python, os.path.join(HERE, "peer_litert.py"), "--no-xnnpack", "--models",
                models] + common
    if peer == "onnxruntime":
        return [python, os.path.join(HERE, "peer_ort.py"), "--models", models] + common
    if peer == "ncnn":
        return [python, os.path.join(HERE, "peer_ncnn.py"), "--models", models,
                "--shapes", shapes_arg(entry)] + common
    if peer == "mnn":
        return [python, os.path.join(HERE, "peer_mnn.py"), "--models", models,
                "--shapes", shapes_arg(entry), "--layouts", ",".join(entry["layouts"])] + common
    raise ValueError(f"unknown peer '{peer}'")


def measure(peer, entry, threads, args):
    """One driver process: its JSON result, or {'error': ...}."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="2")
    try:
        proc = subprocess.run(command(peer, entry, threads, args), capture_output=True, text=True,
                              env=env, timeout=900)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 900 s"}
    for line in reversed(proc.stdout.splitlines()):  # some runtimes print banners first
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    said = proc.stderr.strip() or proc.stdout.strip() or "no output"
    return {"error": f"exit status {proc.returncode}: " + " ".join(said.split())[-300:]}


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summarise(results):
    """Figures of one (case, peer, threads) from its processes, or None if it failed."""
    if not results or "error" in results[0]:
        return None
    samples = [s for r in results for s in r["samples_ms"]]
    return {"median_ms": statistics.median(samples), "p90_ms": percentile(samples, 0.9),
            "min_ms": min(samples), "max_ms": max(samples),
            "process_medians_ms": [r["median_ms"] for r in results],
            "rss_over_baseline_mb":
                max(r["rss_peak_kb"] - r["rss_before_kb"] for r in results) / 1024,
            "rss_peak_mb": max(r["rss_peak_kb"] for r in results) / 1024,
            "load_ms": statistics.median(r["load_ms"] for r in results),
            "processes": len(results)}


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}"


def short_reason(text, limit=260):
    """A reason for the markdown table: OpenCV's messages repeat file, line and function names
    around the one line that matters; the JSON keeps the whole text."""
    text = re.sub(r"OpenCV\([^)]*\) \S+:\d+: error: \([^)]*\)( in function '[^']*')?", "", text)
    text = " ".join(re.sub(r"(^|\s)>(?=\s|$)", " ", text).replace("|", "/").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def fmt(x, digits=2):
    return f"{x:.{digits}f}" if x is not None else ""


def tables(cases, peers, threads, figures, errors, args):
    """The markdown report: a matrix per thread count, the detailed table, the reasons."""
    out = []
    if args.note:
        out += [args.note, ""]
    out += [f"Machine: {machine()}. {args.rounds} rounds × {args.runs} timed runs per process "
            f"(after {args.warmup} warm-up runs), processes interleaved in shuffled rounds. "
            f"Generated {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}.", ""]
    label = lambda p: PEER_LABELS.get(p, p)
    for t in threads:
        out += [f"### Median ms at {t} thread{'s' if t > 1 else ''} (× the fastest peer)", ""]
        # The last column is the target: Polyhead against the fastest *other* peer
        # (<= 0.90 is the goal), so a model where Polyhead is fastest still shows by how much.
        out.append("| model | " + " | ".join(label(p) for p in peers) +
                   " | Polyhead / fastest | Polyhead / fastest other peer |")
        out.append("|---|" + "---|" * (len(peers) + 2))
        for c in cases:
            meds = {p: figures[(c["key"], p, t)]["median_ms"] for p in peers
                    if figures.get((c["key"], p, t))}
            best = min(meds.values()) if meds else None
            cells = []
            for p in peers:
                if p in meds:
                    cells.append(f"{meds[p]:.2f} (×{meds[p] / best:.2f})")
                elif (c["key"], p, t) in errors:
                    cells.append("cannot load" if "cannot load" in errors[(c["key"], p, t)]
                                 else "failed")
                else:
                    cells.append("")
            ours = f"{meds['polyhead'] / best:.2f}" if "polyhead" in meds else "—"
            others = [v for p, v in meds.items() if p != "polyhead"]
            vs_other = (f"{meds['polyhead'] / min(others):.2f}"
                        if "polyhead" in meds and others else "—")
            out.append(f"| {c['name']} | " + " | ".join(cells) + f" | {ours} | {vs_other} |")
        out.append("")
    out += ["### Every figure", "",
            "| model | peer | " + " | ".join(f"{t}T median ms | {t}T p90 ms | {t}T × fastest"
                                             for t in threads) +
            (f" | speedup {threads[1]}T vs {threads[0]}T" if len(threads) > 1 else "") +
            f" | RSS over baseline MB ({threads[0]}T) | load+prepare ms ({threads[0]}T) |",
            "|---|---|" + "---|" * (3 * len(threads) + (1 if len(threads) > 1 else 0) + 2)]
    for c in cases:
        for p in peers:
            rows = [figures.get((c["key"], p, t)) for t in threads]
            if not any(rows):
                continue
            cells = []
            for t, f in zip(threads, rows):
                if f is None:
                    cells += ["cannot load" if "cannot load" in errors.get((c["key"], p, t), "")
                              else "failed", "", ""]
                    continue
                best = min(figures[(c["key"], q, t)]["median_ms"] for q in peers
                           if figures.get((c["key"], q, t)))
                cells += [fmt(f["median_ms"]), fmt(f["p90_ms"]), fmt(f["median_ms"] / best)]
            if len(threads) > 1:
                a, b = rows[0], rows[1]
                cells.append(f"{a['median_ms'] / b['median_ms']:.2f}×" if a and b else "")
            first = rows[0] or next(r for r in rows if r)
            cells += [fmt(first["rss_over_baseline_mb"], 1), fmt(first["load_ms"], 1)]
            out.append(f"| {c['name']} | {label(p)} | " + " | ".join(cells) + " |")
    reasons = {}
    for (key, p, t), e in errors.items():
        reasons.setdefault((key, p), e)
    if reasons:
        names = {c["key"]: c["name"] for c in cases}
        out += ["", "### Peers that could not load or run a model", "",
                "| model | peer | reason |", "|---|---|---|"]
        for c in cases:
            for p in peers:
                if (c["key"], p) in reasons:
                    reason = short_reason(reasons[(c["key"], p)])
                    out.append(f"| {names[c['key']]} | {label(p)} | {reason} |")
    return "\n".join(out) + "\n"


def main():
    args = parse_args()
    with open(args.cases) as f:
        cases = json.load(f)
    if args.from_json:
        report = tables_from_json(args.from_json, cases, args)
        print(report)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(report)
        return
    peers = [p for p in args.peers.split(",") if p]
    known = PEERS + list(CHECK_PEERS)
    unknown = [p for p in peers if p not in known]
    if unknown:
        sys.exit(f"run_peers: unknown peer(s) {', '.join(unknown)}; known: {', '.join(known)}")
    entry_of = lambda c, p: c["peers"].get(CHECK_PEERS.get(p, p))
    peers = [p for p in peers if any(entry_of(c, p) for c in cases)]
    threads = [int(t) for t in args.threads.split(",")]
    by_key = {c["key"]: c for c in cases}
    results, errors = {}, {}
    for c in cases:
        for p in peers:
            entry = entry_of(c, p)
            for t in threads:
                if entry is None:
                    continue
                if "error" in entry:
                    errors[(c["key"], p, t)] = entry["error"]
                else:
                    results[(c["key"], p, t)] = []
    combos = list(results)
    rng = random.Random(args.seed)
    for r in range(args.rounds):
        order = combos[:]
        rng.shuffle(order)
        for k in order:
            if k in errors:  # a peer that failed on a model will fail again: no retry
                continue
            key, p, t = k
            m = measure(p, entry_of(by_key[key], p), t, args)
            if "error" in m:
                errors[k] = m["error"]
                print(f"run_peers: {key} / {p} / {t} thread(s): {short_reason(m['error'])}",
                      file=sys.stderr)
            else:
                results[k].append(m)
        print(f"run_peers: round {r + 1}/{args.rounds} done", file=sys.stderr)
    figures = {k: summarise(v) for k, v in results.items() if k not in errors}
    report = tables(cases, peers, threads, figures, errors, args)
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report)
    if args.json:
        entries = []
        for c in cases:
            for p in peers:
                for t in threads:
                    k = (c["key"], p, t)
                    if k not in results and k not in errors:
                        continue
                    e = {"model": c["key"], "name": c["name"], "peer": p, "threads": t}
                    if k in errors:
                        e["error"] = errors[k]
                    else:
                        e.update(figures[k])
                        e["measurements"] = results[k]
                    entries.append(e)
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "rounds": args.rounds, "runs": args.runs,
                       "warmup": args.warmup, "threads": threads, "peers": peers,
                       "note": args.note, "results": entries}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
