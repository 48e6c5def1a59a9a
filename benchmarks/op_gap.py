#!/usr/bin/python3
"""Per-operator gap table: every node of `polyhead bench --profile` against the machine's roofline.

    benchmarks/op_gap.py                                  # the suite's models, 1 and 2 threads
    benchmarks/op_gap.py --threads 1 --runs 50 --models resnet50,mobilenet_v2
    benchmarks/op_gap.py --peer-models /path/to/peer_models   # where resnet50.onnx etc. live

Steps (docs/performance.md, "Per-operator gap"):
 1. Builds benchmarks/roofline.c with the system C compiler (-O3 -march=native) into OUT and runs
    it: peak fp32 FMA GFLOP/s and STREAM-triad GB/s (L2-resident, last-level-cache-sized and
    main-memory-sized sets) for 1..T threads.
 2. Converts each model with `polyhead convert` into OUT/models and runs
    `polyhead bench MODEL --profile --json - --threads N` for every N.
 3. Per node: FLOPs = 2 x MACs (as the bench counts them), bytes = activations (non-constant
    inputs + outputs) + weights (inputs 1.. of CONV_2D / FULLY_CONNECTED), all f32. The roofline
    time is max(FLOPs / peak, weights / LLC BW + activations / BW), where the activations count
    at the L2 bandwidth when they fit in the threads' L2 (the producer just wrote them) and at the
    LLC bandwidth otherwise; weights always come at the LLC bandwidth (a pass over the model
    evicts them from L2; the suite's models, <= 100 MB, can stay in a large LLC between runs).
    The main-memory triad is reported, not used: it would make the roofline lower (easier).
    Fraction of roofline = roofline time / measured median (above 100 % when the data sat in a
    faster level than assumed); "time lost" = max(0, median - roofline time). Compute-bound when
    the compute term is the larger.
 4. Aggregates per operator key (conv split by kernel, stride, dense / grouped / depthwise) and
    writes OUT/op_gap.json and OUT/op_gap.md.

Python 3 standard library only. Figures on a loaded machine are provisional.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# key -> (label, source path relative to ROOT or to --peer-models, preset or None)
SUITE = [
    ("face_detection", "Face detection short range 128 (MediaPipe)",
     "build/data/face_detection_short_range.tflite", "mediapipe-face-detection-short"),
    ("selfie_segmentation", "Selfie segmentation 256 (MediaPipe)",
     "build/data/selfie_segmentation.tflite", "mediapipe-selfie-segmentation"),
    ("pose_landmark_lite", "Pose landmark lite 256 (MediaPipe)",
     "build/data/pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite"),
    ("mobilenet_v2", "MobileNetV2 224", "build/onnx_models/mobilenet_v2.onnx", None),
    ("mobilenet_v3_small", "MobileNetV3-small 224", "build/onnx_models/mobilenet_v3_small.onnx",
     None),
    ("resnet50", "ResNet-50 224", "PEER/resnet50.onnx", None),
    ("efficientnet_b0", "EfficientNet-B0 224", "PEER/efficientnet_b0.onnx", None),
    ("regnet_y_400mf", "RegNetY-400MF 224", "PEER/regnet_y_400mf.onnx", None),
]

# Operators whose inputs after the first are constant weights and bias.
WEIGHTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}
F32_BYTES = 4


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if res.returncode != 0:
        sys.exit("op_gap: %s failed (exit %d):\n%s" % (" ".join(cmd), res.returncode, res.stderr))
    return res.stdout


def l2_bytes_per_core():
    """The L2 size of cpu0 from sysfs; 1 MiB when the system does not say."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for idx in sorted(os.listdir(base)):
            d = os.path.join(base, idx)
            with open(os.path.join(d, "level")) as f:
                if f.read().strip() != "2":
                    continue
            with open(os.path.join(d, "size")) as f:
                s = f.read().strip()
            mult = {"K": 1024, "M": 1024 * 1024}.get(s[-1], 1)
            return int(s.rstrip("KM")) * mult
    except OSError:
        pass
    return 1024 * 1024


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure_roofline(out_dir, max_threads):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        sys.exit("op_gap: no C compiler (set CC) to build benchmarks/roofline.c")
    exe = os.path.join(out_dir, "roofline")
    run([cc, "-O3", "-march=native", "-pthread", "-o", exe,
         os.path.join(ROOT, "benchmarks", "roofline.c")])
    data = json.loads(run([exe, str(max_threads)]))
    data["compiler"] = cc
    data["l2_bytes_per_core"] = l2_bytes_per_core()
    return data


def convert(polyhead, key, src, preset, out_dir):
    dst = os.path.join(out_dir, "models", key + ".phm")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    cmd = [polyhead, "convert", src, "-o", dst]
    if preset:
        cmd += ["--preset", preset]
    run(cmd)
    return dst


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n if shape else 0  # [] marks an absent input


def op_key(node):
    """The operator type, with convolutions split by what picks a different kernel."""
    op = node["op"]
    ins = node["input_shapes"]
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(ins) >= 2 and len(ins[1]) == 4:
        x, w, y = ins[0], ins[1], node["output_shapes"][0]
        cin, kh, kw, wcin, cout = x[3], w[1], w[2], w[3], y[3]
        stride = max(1, round(x[1] / y[1])) if y[1] else 1
        if op == "DEPTHWISE_CONV_2D" or (wcin == 1 and cin > 1):
            kind = "depthwise"
        elif wcin != cin:
            kind = "grouped (%d ch/group)" % wcin
        elif cin <= 4:
            kind = "dense, %d-ch input" % cin
        elif cout <= 4:
            kind = "dense, %d-ch output" % cout
        else:
            kind = "dense"
        return "conv %dx%d %s s%d" % (kh, kw, kind, stride)
    return op.lower()


def analyse_node(node, model, roof, threads):
    ins = node["input_shapes"]
    weighted = node["op"] in WEIGHTED_OPS
    act_in = [s for i, s in enumerate(ins) if not (weighted and i >= 1)]
    weights = [s for i, s in enumerate(ins) if weighted and i >= 1]
    act_bytes = F32_BYTES * (sum(numel(s) for s in act_in) +
                             sum(numel(s) for s in node["output_shapes"]))
    weight_bytes = F32_BYTES * sum(numel(s) for s in weights)
    flops = 2.0 * node["macs"]
    l2_capacity = roof["l2_bytes_per_core"] * threads
    act_bw = roof["l2_triad_gbs"] if act_bytes <= l2_capacity else roof["llc_triad_gbs"]
    t_compute_us = flops / (roof["peak_gflops"] * 1e3)
    t_memory_us = weight_bytes / (roof["llc_triad_gbs"] * 1e3) + act_bytes / (act_bw * 1e3)
    roof_us = max(t_compute_us, t_memory_us)
    median = node["median_us"]
    total_bytes = act_bytes + weight_bytes
    return {
        "model": model,
        "name": node["name"],
        "op": node["op"],
        "key": op_key(node),
        "input_shapes": ins,
        "output_shapes": node["output_shapes"],
        "macs": node["macs"],
        "median_us": median,
        "gflops": flops / (median * 1e3) if median > 0 else 0.0,
        "act_bytes": act_bytes,
        "weight_bytes": weight_bytes,
        "intensity": flops / total_bytes if total_bytes else 0.0,
        "bound": "compute" if t_compute_us >= t_memory_us else "memory",
        "act_level": "L2" if act_bytes <= l2_capacity else "LLC",
        "roofline_us": roof_us,
        "fraction": roof_us / median if median > 0 else 1.0,
        "lost_us": max(0.0, median - roof_us),
    }


def aggregate(nodes):
    total = sum(n["median_us"] for n in nodes) or 1.0
    by_key = {}
    for n in nodes:
        by_key.setdefault(n["key"], []).append(n)
    rows = []
    for key, group in by_key.items():
        t = sum(n["median_us"] for n in group)
        r = sum(n["roofline_us"] for n in group)
        worst = max(group, key=lambda n: n["lost_us"])
        rows.append({
            "key": key,
            "nodes": len(group),
            "models": sorted({n["model"] for n in group}),
            "time_us": t,
            "share": t / total,
            "roofline_us": r,
            "fraction": r / t if t else 1.0,  # time-weighted
            "median_fraction": statistics.median(n["fraction"] for n in group),
            "lost_us": sum(n["lost_us"] for n in group),
            "compute_bound": sum(1 for n in group if n["bound"] == "compute"),
            "worst": {"model": worst["model"], "name": worst["name"],
                      "fraction": worst["fraction"], "lost_us": worst["lost_us"]},
        })
    rows.sort(key=lambda r: -r["lost_us"])
    return rows


def fmt_pct(x):
    return "%.0f %%" % (100 * x)


def markdown(result):
    threads = [str(t) for t in result["threads"]]
    lines = []
    roofs = result["roofline"]["per_threads"]
    lines.append("Machine: %s, %d logical CPUs; roofline from `benchmarks/roofline.c` (%s, "
                 "%d-lane FMA), L2 %d KiB per core. Generated %s; `polyhead bench` %d warm-up + "
                 "%d profiled runs per model and thread count. Load average before / after: "
                 "%s / %s." % (result["cpu"], result["logical_cpus"], result["roofline"]["isa"],
                               result["roofline"]["lanes"],
                               result["roofline"]["l2_bytes_per_core"] // 1024,
                               result["generated"], result["warmup"], result["runs"],
                               result["loadavg_before"], result["loadavg_after"]))
    lines.append("")
    lines.append("| threads | peak fp32 GFLOP/s | L2 triad GB/s | LLC triad GB/s | memory triad "
                 "GB/s (not used) | ridge at L2 FLOP/B | ridge at LLC FLOP/B |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in roofs:
        lines.append("| %d | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f |" % (
            r["threads"], r["peak_gflops"], r["l2_triad_gbs"], r["llc_triad_gbs"],
            r["mem_triad_gbs"], r["peak_gflops"] / r["l2_triad_gbs"],
            r["peak_gflops"] / r["llc_triad_gbs"]))
    lines.append("")
    lines.append("### Per model: sum of node medians against the sum of node rooflines")
    lines.append("")
    head = "| model |" + "".join(" %sT ms | %sT roofline ms | %sT fraction |" % (t, t, t)
                                for t in threads)
    lines.append(head)
    lines.append("|---|" + "---|---|---|" * len(threads))
    for m in result["models"]:
        row = "| %s |" % m["label"]
        for t in threads:
            s = m["per_threads"][t]
            row += " %.2f | %.2f | %s |" % (s["time_us"] / 1e3, s["roofline_us"] / 1e3,
                                           fmt_pct(s["roofline_us"] / s["time_us"]))
        lines.append(row)
    lines.append("")
    lines.append("### Per operator key, over the suite (sorted by time lost at %sT)" % threads[0])
    lines.append("")
    lines.append("share = the key's part of the summed node medians of all models; fraction = "
                 "its summed roofline time over its summed time; median = median node fraction; "
                 "lost = max(0, time − roofline time), summed; compute = nodes bound by compute "
                 "at %sT / all; speed-up = the key's summed time at the first thread count over "
                 "that at the other." % threads[0])
    lines.append("")
    head = "| operator | nodes | compute |"
    for t in threads:
        head += " %sT share | %sT fraction | %sT median | %sT lost ms |" % (t, t, t, t)
    for t in threads[1:]:
        head += " speed-up %sT vs %sT |" % (t, threads[0])
    head += " worst node (%sT: model, fraction, lost µs) |" % threads[0]
    lines.append(head)
    lines.append("|---|---|---|" + "---|---|---|---|" * len(threads) + "---|" * len(threads))
    per_t = {t: {r["key"]: r for r in result["per_threads"][t]["by_key"]} for t in threads}
    for r in result["per_threads"][threads[0]]["by_key"]:
        row = "| %s | %d | %d/%d |" % (r["key"], r["nodes"], r["compute_bound"], r["nodes"])
        for t in threads:
            x = per_t[t].get(r["key"])
            if x is None:
                row += " | | | |"
                continue
            row += " %.1f %% | %s | %s | %.2f |" % (100 * x["share"], fmt_pct(x["fraction"]),
                                                   fmt_pct(x["median_fraction"]),
                                                   x["lost_us"] / 1e3)
        for t in threads[1:]:
            x = per_t[t].get(r["key"])
            row += " %.2f× |" % (r["time_us"] / x["time_us"]) if x and x["time_us"] else " |"
        w = r["worst"]
        row += " %s `%s` %s, %.0f |" % (w["model"], short(w["name"]), fmt_pct(w["fraction"]),
                                        w["lost_us"])
        lines.append(row)
    for t in threads:
        lines.append("")
        lines.append("### Top 10 nodes by time lost against the roofline, %sT" % t)
        lines.append("")
        lines.append("| model | node | key | shapes | median µs | roofline µs | fraction | bound "
                     "| GFLOP/s | lost µs |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for n in result["per_threads"][t]["top"]:
            shapes = "%s → %s" % (dims(n["input_shapes"][0]) if n["input_shapes"] else "",
                                  dims(n["output_shapes"][0]) if n["output_shapes"] else "")
            lines.append("| %s | `%s` | %s | %s | %.0f | %.0f | %s | %s | %.0f | %.0f |" % (
                n["model"], short(n["name"]), n["key"], shapes, n["median_us"], n["roofline_us"],
                fmt_pct(n["fraction"]), n["bound"], n["gflops"], n["lost_us"]))
    return "\n".join(lines) + "\n"


def dims(shape):
    return "×".join(str(d) for d in shape)


def short(name, width=48):
    return name if len(name) <= width else "…" + name[-(width - 1):]


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--runs", type=int, default=30, help="profiled runs per bench (default 30)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--models", default="", help="comma-separated keys of SUITE (default: all)")
    ap.add_argument("--peer-models", default=os.path.join(ROOT, "build", "peer_models"),
                    help="directory of resnet50.onnx etc.; generated with "
                         "scripts/make_peer_models.sh when missing")
    ap.add_argument("--polyhead", default=os.path.join(ROOT, "build", "release", "bin",
                                                       "polyhead"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "op_gap"))
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()

    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        threads = []
    if not threads or min(threads) < 1:
        sys.exit("op_gap: invalid value '%s' for --threads: expected counts >= 1" % args.threads)
    if not os.access(args.polyhead, os.X_OK):
        sys.exit("op_gap: %s is not built (cmake --build --preset release --target polyhead)"
                 % args.polyhead)
    wanted = [m for m in args.models.split(",") if m]
    known = {m[0] for m in SUITE}
    for m in wanted:
        if m not in known:
            sys.exit("op_gap: invalid value '%s' for --models: known keys are %s"
                     % (m, ", ".join(sorted(known))))
    suite = [m for m in SUITE if not wanted or m[0] in wanted]
    os.makedirs(args.out, exist_ok=True)
    os.chdir(ROOT)

    if any(src.startswith("PEER/") for _, _, src, _ in suite) and \
            not os.path.exists(os.path.join(args.peer_models, "resnet50.onnx")):
        log("op_gap: generating the peer models into %s" % args.peer_models)
        subprocess.run([os.path.join(ROOT, "scripts", "make_peer_models.sh"), args.peer_models],
                       check=True)

    load_before = loadavg()
    log("op_gap: measuring the roofline (1..%d threads)" % max(threads))
    roofline = measure_roofline(args.out, max(threads))
    roof_by_t = {r["threads"]: dict(r, l2_bytes_per_core=roofline["l2_bytes_per_core"])
                 for r in roofline["per_threads"]}

    result = {
        "schema": "polyhead-op-gap/1",
        "generated": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "runs": args.runs,
        "warmup": args.warmup,
        "loadavg_before": load_before,
        "roofline": roofline,
        "models": [],
        "per_threads": {},
    }
    all_nodes = {str(t): [] for t in threads}
    for key, label, src, preset in suite:
        src = src.replace("PEER", args.peer_models, 1) if src.startswith("PEER/") else src
        if not os.path.exists(src):
            log("op_gap: skipping %s: %s is missing" % (key, src))
            continue
        phm = convert(args.polyhead, key, src, preset, args.out)
        entry = {"key": key, "label": label, "source": src, "per_threads": {}}
        for t in threads:
            log("op_gap: %s at %d thread(s)" % (key, t))
            bench = json.loads(run([args.polyhead, "bench", phm, "--profile", "--json", "-",
                                    "--threads", str(t), "--runs", str(args.runs),
                                    "--warmup", str(args.warmup)]))
            nodes = [analyse_node(n, key, roof_by_t[t], t) for n in bench["profile"]["nodes"]]
            all_nodes[str(t)] += nodes
            entry["per_threads"][str(t)] = {
                "latency_median_ms": bench["latency_ms"]["median"],
                "time_us": sum(n["median_us"] for n in nodes),
                "roofline_us": sum(n["roofline_us"] for n in nodes),
                "nodes": nodes,
            }
        result["models"].append(entry)
    for t in threads:
        nodes = all_nodes[str(t)]
        top = sorted(nodes, key=lambda n: -n["lost_us"])[:args.top]
        result["per_threads"][str(t)] = {"by_key": aggregate(nodes), "top": top}
    result["loadavg_after"] = loadavg()

    with open(os.path.join(args.out, "op_gap.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(result)
    with open(os.path.join(args.out, "op_gap.md"), "w") as f:
        f.write(md)
    print(md)
    log("op_gap: wrote %s/op_gap.json and op_gap.md" % args.out)


if __name__ == "__main__":
    main()
