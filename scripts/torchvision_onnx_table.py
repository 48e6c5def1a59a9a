#!/usr/bin/python3
"""Which torchvision models Polyhead's ONNX importer converts, and whether they then agree with
ONNX Runtime: the table of docs/onnx_models.md ("torchvision coverage").

    /usr/bin/python3 scripts/torchvision_onnx_table.py [--models a,b] [--opsets 13,17]
        [--max-params 31] [--segmentation-max-params 45] [--workdir DIR] [--markdown FILE]
        [--json FILE] [--polyhead build/release/bin/polyhead]

For every torchvision classification model of at most --max-params million parameters (and the
segmentation models of at most --segmentation-max-params million), at each opset: build it with
seeded random weights (weights=None, torch.manual_seed, then make_models.py's randomise(): He-like
weights, BatchNorm statistics measured on seeded random images), export it with torch.onnx.export
(static shapes, batch 1, input "input"), convert it with `polyhead convert`, run ONNX Runtime
(scripts/ort_reference.sh: its generated LCG input in [-1, 1)) and `polyhead run` on the same
input bytes, and check every output: max |polyhead - ort| <= 1e-4 x max |ort|. A row that
disagrees also gets the distances of Polyhead, ONNX Runtime and torch (float32) from the model
run in float64, which tell an ill-conditioned network (every float32 evaluation off) from a wrong
conversion. Prints one row per model and opset as it goes, then a summary; --markdown writes the
table docs/onnx_models.md shows. Long (tens of minutes on two cores): a script, not a CI test. Exit status 0 when it ran,
whatever the rows say; 2 on bad usage.

Uses Debian's python3-torch, python3-torchvision, python3-onnx and python3-numpy (apt), the pinned
onnxruntime-node of tests/reference_runtimes/ort (node), and a release build of polyhead. Nothing
is downloaded.
"""
import argparse
import copy
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
import torch
import torchvision
from torchvision import models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20240611
TOLERANCE = 1e-4  # of the reference's largest magnitude, as tests/e2e/test_onnx_vs_ort.cc

warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def load_make_models():
    """scripts/onnx_models/make_models.py as a module: its randomise() seeds the weights."""
    path = os.path.join(ROOT, "scripts", "onnx_models", "make_models.py")
    spec = importlib.util.spec_from_file_location("make_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Inputs other than 224x224: Inception-v3 is defined for 299x299.
INPUT_SIZE = {"inception_v3": 299}
SEGMENTATION_SIZE = 224


class SegmentationOut(torch.nn.Module):
    """torchvision's segmentation models return {"out": ...}: the tensor, for export."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def parameters(model):
    return sum(p.numel() for p in model.parameters())


def parameter_count(name, build):
    """From the pretrained weights' metadata (nothing is downloaded), which spares building the
    600-million-parameter models only to leave them out; else by building the model."""
    try:
        return int(models.get_model_weights(name).DEFAULT.meta["num_params"])
    except (KeyError, AttributeError, ValueError):
        return parameters(build())


def candidates(args):
    """(name, kind, params, builder) for every model within the limits, smallest first."""
    rows = []
    for name in models.list_models(module=models):
        build = lambda n=name: models.get_model(n, weights=None)  # noqa: E731
        rows.append((name, "classification", parameter_count(name, build), build))
    for name in models.list_models(module=models.segmentation):
        build = lambda n=name: SegmentationOut(  # noqa: E731
            models.get_model(n, weights=None, weights_backbone=None))
        rows.append((name, "segmentation", parameter_count(name, build), build))
    limit = {"classification": args.max_params * 1e6,
             "segmentation": args.segmentation_max_params * 1e6}
    rows = [r for r in rows if r[2] <= limit[r[1]]]
    if args.models:
        wanted = set(args.models.split(","))
        unknown = wanted - {r[0] for r in rows}
        if unknown:
            sys.exit(f"torchvision_onnx_table: not a model within the limits: {sorted(unknown)}")
        rows = [r for r in rows if r[0] in wanted]
    return sorted(rows, key=lambda r: (r[1] != "classification", r[2], r[0]))


def export(model, size, opset, output, path):
    buf = io.BytesIO()
    torch.onnx.export(model, torch.zeros((1, 3, size, size)), buf, opset_version=opset,
                      input_names=["input"], output_names=[output], do_constant_folding=True)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def short(text, limit=160):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def failing_operator(message):
    """The operator a convert error names: 'Slice' from "node '/a/Slice' (Slice): ...", the
    listed types from "unsupported operators: Erf x2 (first: ...), ...", else ''."""
    listed = re.findall(r"(?:operators: |, )([\w.]+) x\d+ \(first", message)
    if listed:
        return "+".join(listed)
    node = re.search(r"node '[^']*' \(([\w.]+)\)", message)
    return node.group(1) if node else ""


def run(cmd, timeout=1800):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def check(name, kind, build, opset, args, workdir, make_models):
    """One row: export, convert, agree."""
    row = {"model": name, "kind": kind, "opset": opset, "export": False, "convert": False,
           "agree": False, "failing_operator": "", "reason": "", "max_rel_error": None,
           "float64": None}
    size = INPUT_SIZE.get(name, 224 if kind == "classification" else SEGMENTATION_SIZE)
    output = "logits" if kind == "classification" else "out"
    base = os.path.join(workdir, f"{name}_opset{opset}")
    onnx_path, phm_path = base + ".onnx", base + ".phm"
    started = time.time()
    try:
        torch.manual_seed(SEED)
        model = make_models.randomise(build(), SEED + 1, (size, size))
        row["params"] = parameters(model)
        export(model, size, opset, output, onnx_path)
        onnx.checker.check_model(onnx_path)
        row["export"] = True
    except Exception as e:  # noqa: BLE001 - any exporter failure is a row of the table
        row["reason"] = "export: " + short(f"{type(e).__name__}: {e}")
        return row
    finally:
        row["seconds_export"] = round(time.time() - started, 1)
    converted = run([args.polyhead, "convert", onnx_path, "-o", phm_path])
    if converted.returncode != 0:
        row["reason"] = short(converted.stdout.replace(onnx_path + ": ", ""))
        row["failing_operator"] = failing_operator(converted.stdout)
        return row
    row["convert"] = True
    ort_dir, ph_dir = base + ".ort", base + ".polyhead"
    ort = run([os.path.join(ROOT, "scripts", "ort_reference.sh"), onnx_path, "--out", ort_dir])
    if ort.returncode != 0:
        row["reason"] = "onnxruntime: " + short(ort.stdout)
        return row
    ours = run([args.polyhead, "run", phm_path, "--input",
                f"input={os.path.join(ort_dir, 'input.f32')}", "--dump", ph_dir])
    if ours.returncode != 0:
        row["reason"] = "polyhead run: " + short(ours.stdout)
        return row
    with open(os.path.join(ort_dir, "outputs.json")) as f:
        ref_outputs = json.load(f)["outputs"]
    worst = 0.0
    for out in ref_outputs:
        ref = np.fromfile(os.path.join(ort_dir, out["file"]), dtype=np.float32)
        # Tasks are named after the ONNX outputs: DIR/<task>.<output>.f32.
        got = np.fromfile(os.path.join(ph_dir, f"{out['name']}.{out['name']}.f32"),
                          dtype=np.float32)
        if got.shape != ref.shape or not np.all(np.isfinite(got)):
            row["reason"] = f"output {out['name']}: {got.size} values (finite: " \
                            f"{bool(np.all(np.isfinite(got)))}), onnxruntime {ref.size}"
            return row
        scale = float(np.max(np.abs(ref.astype(np.float64))))
        diff = float(np.max(np.abs(got.astype(np.float64) - ref)))
        worst = max(worst, diff / scale if scale > 0 else float("inf"))
    row["max_rel_error"] = worst
    row["agree"] = worst <= TOLERANCE
    if not row["agree"]:
        row["reason"] = f"max |diff| = {worst:.2e} x max |onnxruntime|"
        row["float64"] = float64_errors(model, ort_dir, ph_dir, ref_outputs[0], size)
    if not args.keep:
        for path in (onnx_path, phm_path):
            os.remove(path)
    return row


def float64_errors(model, ort_dir, ph_dir, out, size):
    """For a row that disagrees: how far Polyhead, ONNX Runtime and torch itself (float32) are
    from the model evaluated in float64 on the same input, relative to its largest magnitude.
    Seeded random weights can make a deep network ill-conditioned (activations of 1e4 whose
    rounding errors grow block by block): then every float32 evaluation is off, torch's too."""
    x = np.fromfile(os.path.join(ort_dir, "input.f32"), dtype=np.float32)
    x = torch.from_numpy(x.reshape(1, 3, size, size))
    with torch.no_grad():
        ours32 = model(x).numpy().astype(np.float64).ravel()
        exact = copy.deepcopy(model).double()(x.double()).numpy().ravel()
    ref = np.fromfile(os.path.join(ort_dir, out["file"]), dtype=np.float32).astype(np.float64)
    got = np.fromfile(os.path.join(ph_dir, f"{out['name']}.{out['name']}.f32"),
                      dtype=np.float32).astype(np.float64)
    scale = float(np.max(np.abs(exact)))
    return {"polyhead": float(np.max(np.abs(got - exact))) / scale,
            "onnxruntime": float(np.max(np.abs(ref - exact))) / scale,
            "torch": float(np.max(np.abs(ours32 - exact))) / scale}


def cell(r):
    """One model at one opset, for the Markdown table."""
    if not r["export"]:
        return "export fails: " + r["reason"].replace("export: ", "").split(". ")[0]
    if not r["convert"]:
        return f"convert fails: `{r['failing_operator'] or '?'}`"
    if r["max_rel_error"] is None:
        return "error: " + r["reason"]
    if r["agree"]:
        return f"agrees ({r['max_rel_error']:.1e})"
    text = f"**differs** ({r['max_rel_error']:.1e})"
    if r["float64"]:
        f = r["float64"]
        text += (f"; from float64: polyhead {f['polyhead']:.1e}, onnxruntime "
                 f"{f['onnxruntime']:.1e}, torch {f['torch']:.1e}")
    return text


def markdown(rows, opsets):
    """One line per model, one column per opset, classification first, by size."""
    by_model = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[r["opset"]] = r
    order = sorted(by_model.values(),
                   key=lambda m: (next(iter(m.values()))["kind"] != "classification",
                                  next(iter(m.values()))["params"], next(iter(m.values()))["model"]))
    lines = ["| model | params | " + " | ".join(f"opset {o}" for o in opsets) + " |",
             "|---|---:|" + "---|" * len(opsets)]
    for m in order:
        first = next(iter(m.values()))
        cells = [cell(m[o]) if o in m else "" for o in opsets]
        lines.append(f"| {first['model']} | {first['params'] / 1e6:.1f} M | " + " | ".join(cells) +
                     " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated torchvision names (default: all within "
                                         "the limits)")
    parser.add_argument("--opsets", default="13,17")
    parser.add_argument("--max-params", type=float, default=31.0,
                        help="classification models up to this many million parameters")
    parser.add_argument("--segmentation-max-params", type=float, default=45.0)
    parser.add_argument("--polyhead", default=os.path.join(ROOT, "build", "release", "bin",
                                                           "polyhead"))
    parser.add_argument("--workdir", help="keep the exports, conversions and outputs here "
                                          "(default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the .onnx and .phm files")
    parser.add_argument("--markdown", help="write the table as Markdown to this file")
    parser.add_argument("--json", help="write every row as JSON to this file")
    args = parser.parse_args()
    if not os.access(args.polyhead, os.X_OK):
        parser.error(f"{args.polyhead} is not an executable: build the release preset first")
    opsets = [int(o) for o in args.opsets.split(",")]
    make_models = load_make_models()
    workdir = args.workdir or tempfile.mkdtemp(prefix="torchvision_onnx_")
    os.makedirs(workdir, exist_ok=True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx "
          f"{onnx.__version__}; work in {workdir}", flush=True)
    rows = []
    started = time.time()
    for name, kind, params, build in candidates(args):
        for opset in opsets:
            row = check(name, kind, build, opset, args, workdir, make_models)
            row.setdefault("params", params)  # the built model's own count once it exists
            params = row["params"]
            rows.append(row)
            err = f"{row['max_rel_error']:.1e}" if row["max_rel_error"] is not None else "-"
            status = "agree" if row["agree"] else "FAIL"
            f64 = row["float64"]
            vs = (f" (vs float64: polyhead {f64['polyhead']:.1e}, onnxruntime "
                  f"{f64['onnxruntime']:.1e}, torch {f64['torch']:.1e})" if f64 else "")
            print(f"{name:30s} {params / 1e6:6.1f}M opset {opset}  export "
                  f"{'ok' if row['export'] else 'no':3s} convert "
                  f"{'ok' if row['convert'] else 'no':3s} {status:5s} {err:8s} {row['reason']}"
                  f"{vs}", flush=True)
    exported = sum(r["export"] for r in rows)
    converted = sum(r["convert"] for r in rows)
    agreed = sum(r["agree"] for r in rows)
    print(f"\n{len(rows)} rows ({len({r['model'] for r in rows})} models): exported {exported}, "
          f"converted {converted}, agree {agreed}; {time.time() - started:.0f} s")
    blockers = {}
    for r in rows:
        if r["export"] and not r["convert"]:
            blockers.setdefault(r["failing_operator"] or "?", set()).add(r["model"])
    for op, names in sorted(blockers.items()):
        print(f"  not converted, {op}: {', '.join(sorted(names))}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(rows, opsets))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
