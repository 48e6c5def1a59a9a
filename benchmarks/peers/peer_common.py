"""What the Python drivers of the peer suite share with the C++ ones (peer_timing.h): the options,
the timing loop, peak resident memory and the one JSON line each driver prints.

A driver is one process per measurement: it imports its runtime, notes VmHWM (the no-model
baseline), loads and prepares every model of the case and runs it once (load_ms ends there: some
runtimes finish their set-up in the first run), runs `--warmup` untimed and `--runs` timed runs
(one run = every model of the case once, in order) and prints
  {"runtime", "median_ms", "min_ms", "max_ms", "load_ms", "rss_before_kb", "rss_peak_kb",
   "samples_ms"}
or {"runtime", "error": "cannot load: ..."} and exit status 3. Standard library + numpy only.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np


def parse_options(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--models", required=True, help="model files, comma separated")
    p.add_argument("--shapes", default="",
                   help="input shape of each model, e.g. 1x3x224x224,1x128x128x3 (runtimes "
                        "whose model files do not declare them)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--runs", type=int, default=30)
    o = p.parse_args()
    o.models = [m for m in o.models.split(",") if m]
    o.shapes = [tuple(int(d) for d in s.split("x")) for s in o.shapes.split(",") if s]
    if o.shapes and len(o.shapes) != len(o.models):
        p.error(f"--shapes needs one shape per model, got {len(o.shapes)} for {len(o.models)}")
    if o.threads < 1 or o.runs < 1 or o.warmup < 0:
        p.error("--threads and --runs must be >= 1, --warmup >= 0")
    return o


def peak_rss_kb():
    """VmHWM of this process in kB, 0 when unknown."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def input_values(shape, seed):
    """Deterministic float32 values in [-1, 1] (latency does not depend on them)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32)


def time_runs(warmup, runs, run_once):
    for _ in range(warmup):
        run_once()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run_once()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def print_result(runtime, ms, load_ms, rss_before_kb):
    print(json.dumps({"runtime": runtime, "median_ms": round(statistics.median(ms), 4),
                      "min_ms": round(min(ms), 4), "max_ms": round(max(ms), 4),
                      "load_ms": round(load_ms, 3), "rss_before_kb": rss_before_kb,
                      "rss_peak_kb": peak_rss_kb(),
                      "samples_ms": [round(m, 4) for m in ms]}), flush=True)


def fail(runtime, message, status=3):
    print(json.dumps({"runtime": runtime, "error": " ".join(str(message).split())}), flush=True)
    sys.exit(status)


def measure(runtime, options, load_and_first_run):
    """load_and_first_run() -> run_once. Times it as load_ms, then the runs; prints the result.
    An exception while loading is reported as 'cannot load: ...'."""
    rss_before = peak_rss_kb()
    t0 = time.perf_counter()
    try:
        run_once = load_and_first_run()
    except Exception as e:  # the runtime's own error, whatever its type
        fail(runtime, f"cannot load: {type(e).__name__}: {e}")
    load_ms = (time.perf_counter() - t0) * 1e3
    try:
        ms = time_runs(options.warmup, options.runs, run_once)
    except Exception as e:
        fail(runtime, f"run failed: {type(e).__name__}: {e}", 1)
    print_result(runtime, ms, load_ms, rss_before)
