#!/usr/bin/env python3
"""Checks that the peers compute the same function: runs every suite model once in each peer that
loads it, on one seeded input, and compares every output with the reference runtime's (LiteRT for
.tflite sources, ONNX Runtime for .onnx ones). Run with the peers' virtualenv:

    build/peers-venv/bin/python benchmarks/peers/check_outputs.py --cases build/peers/cases.json \
        --bin build/release/bin

Prints, per model and peer, max |peer - reference| / max |reference| for each output (outputs are
paired by element count, which differs between the outputs of every suite model) and exits 1 if
one exceeds --tolerance. Polyhead runs through `polyhead run --dump`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def reference_outputs(source, x):
    if source.endswith(".tflite"):
        from ai_edge_litert import interpreter as litert
        it = litert.Interpreter(model_path=source, num_threads=1)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return "litert", [it.get_tensor(d["index"]) for d in it.get_output_details()]
    import onnxruntime as ort
    s = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return "onnxruntime", s.run(None, {s.get_inputs()[0].name: x})


def input_name(source):
    if source.endswith(".tflite"):
        from ai_edge_litert import interpreter as litert
        return litert.Interpreter(model_path=source).get_input_details()[0]["name"]
    import onnxruntime as ort
    return ort.InferenceSession(source, providers=["CPUExecutionProvider"]).get_inputs()[0].name


def polyhead_outputs(entry, source, x, bin_dir):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "input.f32")
        x.tofile(path)
        out = os.path.join(tmp, "out")
        subprocess.run([os.path.join(bin_dir, "polyhead"), "run", entry["models"][0], "--input",
                        f"{input_name(source)}={path}", "--dump", out],
                       check=True, capture_output=True)
        with open(os.path.join(out, "outputs.json")) as f:
            listing = json.load(f)["outputs"]
        return [np.fromfile(os.path.join(out, o["file"]), np.float32) for o in listing]


def mnn_outputs(entry, x):
    import MNN.expr as expr
    import MNN.nn as nn
    net = nn.load_module_from_file(entry["models"][0], [], [])
    layout = expr.NHWC if entry["layouts"][0] == "NHWC" else expr.NCHW
    # read() may return a view of memory the module owns: copy before the module is freed.
    outputs = net.forward([expr.const(x, list(x.shape), layout)])
    return [np.array(o.read(), copy=True) for o in outputs]


def ncnn_outputs(entry, x):
    import ncnn
    net = ncnn.Net()
    for option in ("use_fp16_storage", "use_fp16_packed", "use_fp16_arithmetic",
                   "use_bf16_storage"):
        setattr(net.opt, option, False)
    param = entry["models"][0]
    net.load_param(param)
    net.load_model(param[: -len(".param")] + ".bin")
    ex = net.create_extractor()
    ex.input(net.input_names()[0], ncnn.Mat(x[0]))
    return [np.array(ex.extract(name)[1]) for name in net.output_names()]


def compare(reference, outputs):
    """Relative max error per reference output, paired by element count."""
    by_size = {np.asarray(o).size: np.asarray(o).ravel() for o in outputs}
    errors = []
    for r in reference:
        r = np.asarray(r).ravel()
        got = by_size.get(r.size)
        if got is None:
            errors.append(float("inf"))
            continue
        errors.append(float(np.abs(got - r).max() / max(np.abs(r).max(), 1e-12)))
    return errors


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--tolerance", type=float, default=1e-3)
    args = p.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    worst = 0.0
    with open(args.cases) as f:
        cases = [c for c in json.load(f) if "source" in c]
    for c in cases:
        source = os.path.join(root, c["source"])
        peers = c["peers"]
        shape = next(e["shapes"][0] for e in peers.values() if "shapes" in e)
        x = np.random.default_rng(7).uniform(-1, 1, shape).astype(np.float32)
        ref_name, reference = reference_outputs(source, x)
        runs = {"polyhead": lambda e: polyhead_outputs(e, source, x, args.bin),
                "mnn": lambda e: mnn_outputs(e, x), "ncnn": lambda e: ncnn_outputs(e, x)}
        for peer, run in runs.items():
            entry = peers.get(peer, {})
            if "models" not in entry:
                continue
            errors = compare(reference, run(entry))
            worst = max(worst, *errors)
            print(f"{c['key']:28s} {peer:9s} vs {ref_name:11s} relative max error per output: "
                  + ", ".join(f"{e:.1e}" for e in errors), flush=True)
    print(f"worst relative error {worst:.1e} (tolerance {args.tolerance:.0e})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
