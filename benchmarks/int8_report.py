#!/usr/bin/env python3
"""Markdown table of benchmarks/int8.sh: one row per task of each model, from the JSON reports of
`polyhead compare` (student = int8, teacher = fp32) and `polyhead quantize`. The LiteRT int8 column
is native LiteRT's median on the model's full-integer .tflite twin, from NAME.litert.json
({"latency_ms": ...}) when one exists: the full-integer TFLite models (keras_*_full_integer rows,
made by scripts/make_int8_tflite_models.sh); the others have none (n/a). At 1 and 2 threads with
interleaved rounds: `benchmarks/peers.sh --cases int8`."""
import json
import os
import sys


def headline(t):
    m = t.get("method")
    fmt = lambda v, f="{:.4f}": "n/a" if v is None else f.format(v)
    if m == "classification":
        return f"top-1 agreement {fmt(t['top1_agreement'], '{:.3f}')}, KL {fmt(t['kl_mean'])}"
    if m == "mask":
        return f"mask IoU mean {fmt(t['iou_mean'])}, min {fmt(t['iou_min'])}"
    if m == "class_map":
        return f"mIoU {fmt(t['miou_mean'])}, pixel agreement {fmt(t['pixel_agreement_mean'])}"
    if m == "detection":
        return (f"matched box IoU {fmt(t['iou_mean'])}, recall {fmt(t['recall'], '{:.3f}')}, "
                f"score error {fmt(t['score_error_mean'])} ({t['matched']}/{t['teacher_boxes']})")
    if m == "landmarks":
        return f"landmark error {fmt(t['error_mean'])} of the input size (max {fmt(t['error_max'])})"
    return f"max abs error {fmt(t['abs_error_max'])}, cosine {fmt(t['cosine_mean'])}"


def float_nodes(q):
    if "float_nodes" in q:
        return f"{q['float_nodes']} of {q['float_nodes'] + q['int8_nodes']}"
    return "n/a" if not q else "?"


def litert_ms(work, name):
    path = os.path.join(work, f"{name}.litert.json")
    if not os.path.exists(path):
        return "n/a"
    with open(path) as f:
        return f"{json.load(f)['latency_ms']:.3f}"


def main():
    work, names = sys.argv[1], sys.argv[2:]
    print("| model | fp32 file | int8 file | size ratio | fp32 ms | int8 ms | LiteRT int8 ms | "
          "latency ratio | nodes kept float | task | int8 vs fp32 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        with open(os.path.join(work, f"{name}.compare.json")) as f:
            c = json.load(f)
        q = {}
        qpath = os.path.join(work, f"{name}.quantize.json")
        if os.path.exists(qpath):
            with open(qpath) as f:
                q = json.load(f)
        t, s, r = c["teacher"], c["student"], c["ratios"]
        first = True
        for task in c["tasks"]:
            cells = [name, f"{t['file_bytes'] / 1e6:.2f} MB", f"{s['file_bytes'] / 1e6:.2f} MB",
                     f"{r['file_bytes']:.3f}", f"{t['latency_ms']:.3f}", f"{s['latency_ms']:.3f}",
                     litert_ms(work, name), f"{r['latency']:.3f}",
                     str(float_nodes(q))] if first else [""] * 9
            print("| " + " | ".join(cells + [task["task"], headline(task)]) + " |")
            first = False
    lat = c["latency"]
    print(f"\nLatency: medians of {lat['runs']} runs x {lat['rounds']} interleaved rounds, "
          f"{lat['threads']} thread(s), both models in one process (polyhead compare).")
    print("LiteRT int8 ms: native LiteRT (XNNPACK) on the model's full-integer .tflite, in its own "
          "process (median of rounds x runs); n/a: no such file (the MediaPipe models ship float, "
          "the torchvision models are ONNX). keras_*_full_integer: TensorFlow's own full-integer "
          "conversion, not `polyhead quantize` (no nodes kept float: n/a). Interleaved, 1 and 2 "
          "threads: `benchmarks/peers.sh --cases int8` (build/peers/peers-int8.md).")


if __name__ == "__main__":
    main()
