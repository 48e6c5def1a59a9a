#!/usr/bin/env python3
"""Prepares the peer suite's models for every peer and writes the case file run_peers.py reads.

    prepare_models.py --work build/peers --bin build/release/bin --venv build/peers-venv \
        [--suite suite|multitask|all] [--models NAME,...] -o build/peers/cases.json

The suite (SUITE below) lists each model once, by its source file: a MediaPipe .tflite or a
generated ONNX model. Each peer gets it in the form it reads, converted once and cached under
--work/<peer>/ (redone when the source or the converter is newer):
  polyhead          `polyhead convert` (.tflite and .onnx) -> .phm
  litert            the .tflite itself
  onnxruntime(-node), opencv   the .onnx itself
  ncnn              pnnx (from the pinned pnnx wheel) ONNX -> .ncnn.param/.bin, fp32 weights
  mnn               MNN's converter (pinned MNN wheel) ONNX or TFLite -> .mnn
A peer without a route to the model gets {"error": "cannot load: <reason>"}; a converter that
fails gets its own last error lines as the reason. Standard library only.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "build", "data")            # scripts/fetch_data.sh
ONNX = os.path.join(ROOT, "build", "onnx_models")     # scripts/make_onnx_models.sh
ZOO = os.path.join(ROOT, "build", "peer_models")      # scripts/make_peer_models.sh
INT8 = os.path.join(ROOT, "build", "int8_tflite")     # scripts/make_int8_tflite_models.sh

# (key, table name, source file, input shape in the source's layout)
SUITE = [
    ("face_detection_short_range", "Face detection short range 128 (MediaPipe)",
     os.path.join(DATA, "face_detection_short_range.tflite"), (1, 128, 128, 3)),
    ("selfie_segmentation", "Selfie segmentation 256 (MediaPipe)",
     os.path.join(DATA, "selfie_segmentation.tflite"), (1, 256, 256, 3)),
    ("pose_landmark_lite", "Pose landmark lite 256 (MediaPipe)",
     os.path.join(DATA, "pose_landmark_lite.tflite"), (1, 256, 256, 3)),
    ("mobilenet_v2", "MobileNetV2 224", os.path.join(ONNX, "mobilenet_v2.onnx"), (1, 3, 224, 224)),
    ("mobilenet_v3_small", "MobileNetV3-small 224",
     os.path.join(ONNX, "mobilenet_v3_small.onnx"), (1, 3, 224, 224)),
    ("multitask", "Multitask 160 (3 heads, one pass)",
     os.path.join(ONNX, "multitask.onnx"), (1, 3, 160, 160)),
    ("resnet50", "ResNet-50 224", os.path.join(ZOO, "resnet50.onnx"), (1, 3, 224, 224)),
    ("efficientnet_b0", "EfficientNet-B0 224",
     os.path.join(ZOO, "efficientnet_b0.onnx"), (1, 3, 224, 224)),
    ("regnet_y_400mf", "RegNetY-400MF 224",
     os.path.join(ZOO, "regnet_y_400mf.onnx"), (1, 3, 224, 224)),
    ("shufflenet_v2_x1_0", "ShuffleNetV2 x1.0 224",
     os.path.join(ZOO, "shufflenet_v2_x1_0.onnx"), (1, 3, 224, 224)),
]

# The int8 comparison (--suite int8): full-integer TFLite models made by tensorflow-cpu's converter,
# Polyhead (the converted .phm, int8 kernels) against native LiteRT (its int8 XNNPACK kernels).
INT8_SUITE = [
    ("mobilenet_v2_int8", "MobileNetV2 224 int8 (full-integer TFLite)",
     os.path.join(INT8, "mobilenet_v2_int8.tflite"), (1, 224, 224, 3)),
    ("mobilenet_v3_small_int8", "MobileNetV3Small 224 int8 (full-integer TFLite)",
     os.path.join(INT8, "mobilenet_v3_small_int8.tflite"), (1, 224, 224, 3)),
    ("detector_int8", "Two-head detector 128 int8 (full-integer TFLite)",
     os.path.join(INT8, "detector_int8.tflite"), (1, 128, 128, 3)),
]

PEERS = ["polyhead", "litert", "onnxruntime", "onnxruntime-node", "ncnn", "mnn", "opencv"]

NO_TFLITE_ROUTE = {
    "onnxruntime": "no converter from .tflite (ONNX Runtime reads ONNX; tf2onnx would need "
                   "TensorFlow, not in the pinned set)",
    "onnxruntime-node": "no converter from .tflite (ONNX Runtime reads ONNX; tf2onnx would need "
                        "TensorFlow, not in the pinned set)",
    "ncnn": "no converter from .tflite (pnnx reads ONNX and TorchScript)",
    "opencv": "no converter from .tflite (OpenCV 4.6 has no TFLite importer; it came in 4.7)",
}
NO_ONNX_ROUTE = {
    "litert": "no .tflite of this model (no ONNX-to-TFLite converter in the pinned set: onnx2tf "
              "needs TensorFlow, and its 2.x releases Python >= 3.12; Debian's is 3.11)",
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--bin", required=True, help="folder with polyhead")
    p.add_argument("--venv", required=True)
    p.add_argument("--suite", default="suite", choices=["suite", "multitask", "int8", "all"])
    p.add_argument("--models", help="only these suite models (keys, comma separated)")
    p.add_argument("-o", "--output", required=True)
    return p.parse_args()


def stale(output, *inputs):
    return not os.path.exists(output) or any(
        os.path.getmtime(i) > os.path.getmtime(output) for i in inputs if os.path.exists(i))


def tail(text, lines=3):
    kept = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return " | ".join(kept[-lines:])[-400:] or "no message"


class Converter:
    def __init__(self, args):
        self.work = os.path.abspath(args.work)
        self.polyhead = os.path.abspath(os.path.join(args.bin, "polyhead"))
        self.python = os.path.abspath(os.path.join(args.venv, "bin", "python"))
        self.venv_stamp = os.path.abspath(os.path.join(args.venv, ".requirements"))
        # The wheel's executable itself: its `pnnx` console script imports the package, whose
        # __init__ imports torch (for the TorchScript front end), which the venv leaves out.
        found = glob.glob(os.path.join(os.path.abspath(args.venv), "lib", "python3*",
                                       "site-packages", "pnnx", "pnnx"))
        self.pnnx_exe = found[0] if found else "pnnx-not-installed"

    def out(self, peer, name):
        d = os.path.join(self.work, peer)
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, name)

    def polyhead_convert(self, key, src):
        dst = self.out("polyhead", key + ".phm")
        if stale(dst, src, self.polyhead):
            p = subprocess.run([self.polyhead, "convert", src, "-o", dst],
                               capture_output=True, text=True)
            if p.returncode != 0:
                said = tail(p.stderr + p.stdout, 1).replace(ROOT + os.sep, "")
                return None, "polyhead convert failed: " + said
        return dst, None

    def pnnx(self, key, src, shape):
        """pnnx writes next to its input: give it a link in the work folder."""
        param = self.out("ncnn", key + ".ncnn.param")
        if stale(param, src, self.venv_stamp):
            d = os.path.dirname(param)
            link = os.path.join(d, key + ".onnx")
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(os.path.abspath(src), link)
            shape_arg = "[" + ",".join(str(s) for s in shape) + "]"
            p = subprocess.run([self.pnnx_exe, link,
                                f"inputshape={shape_arg}", "fp16=0"],
                               cwd=d, capture_output=True, text=True)
            if p.returncode != 0 or not os.path.exists(param):
                return None, "pnnx failed: " + tail(p.stderr + p.stdout)
            # ncnn needs only .ncnn.param/.bin; drop pnnx's intermediate files.
            for suffix in (".onnx", ".pnnx.param", ".pnnx.bin", ".pnnx.onnx", ".pnnxsim.onnx",
                           "_pnnx.py", "_ncnn.py"):
                f = os.path.join(d, key + suffix)
                if os.path.exists(f):
                    os.remove(f)
        return param, None

    def mnn(self, key, src):
        """MNN's converter through its extension module: the wheel's `mnnconvert` entry point
        would pip-install a logging SDK and report usage to a server (MNN/tools/utils/log.py)."""
        dst = self.out("mnn", key + ".mnn")
        if stale(dst, src, self.venv_stamp):
            fmt = "TFLITE" if src.endswith(".tflite") else "ONNX"
            code = ("import sys, _tools; _tools.mnnconvert(['mnnconvert', '-f', sys.argv[1], "
                    "'--modelFile', sys.argv[2], '--MNNModel', sys.argv[3], '--bizCode', 'MNN'])")
            p = subprocess.run([self.python, "-c", code, fmt, src, dst],
                               capture_output=True, text=True)
            if p.returncode != 0 or not os.path.exists(dst) or "Converted Success" not in p.stdout:
                if os.path.exists(dst):
                    os.remove(dst)
                return None, "MNN converter failed: " + tail(p.stderr + p.stdout)
        return dst, None


def prepare_model(conv, key, src, shape):
    """{peer: {"models": [...], ...} or {"error": ...}} for one model."""
    tflite = src.endswith(".tflite")
    nchw = shape if not tflite else None
    entries = {}
    for peer in PEERS:
        if tflite and peer in NO_TFLITE_ROUTE:
            entries[peer] = {"error": "cannot load: " + NO_TFLITE_ROUTE[peer]}
            continue
        if not tflite and peer in NO_ONNX_ROUTE:
            entries[peer] = {"error": "cannot load: " + NO_ONNX_ROUTE[peer]}
            continue
        if peer == "polyhead":
            path, error = conv.polyhead_convert(key, src)
        elif peer == "ncnn":
            path, error = conv.pnnx(key, src, nchw)
        elif peer == "mnn":
            path, error = conv.mnn(key, src)
        else:
            path, error = src, None
        if error:
            entries[peer] = {"error": "cannot load: " + error}
            continue
        entry = {"models": [path], "shapes": [list(shape)]}
        if peer == "mnn":
            entry["layouts"] = ["NHWC" if tflite else "NCHW"]
        entries[peer] = entry
    return entries


def multitask_cases(conv):
    """The merge benchmark: Polyhead's merged model (one pass over three tasks) and the three
    single-task models in turn, against ONNX Runtime running the same ONNX models."""
    parts = ["classify", "segment", "detect"]
    phms = []
    for m in parts + ["multitask"]:
        path, error = conv.polyhead_convert(m, os.path.join(ONNX, m + ".onnx"))
        if error:
            sys.exit(error)
        phms.append(path)
    merged = conv.out("polyhead", "merged.phm")
    if stale(merged, *phms[:3]):
        subprocess.run([conv.polyhead, "merge", *phms[:3], "-o", merged], check=True,
                       stdout=subprocess.DEVNULL)
    shape = [1, 3, 160, 160]
    onnx = lambda m: os.path.join(ONNX, m + ".onnx")
    return [
        {"key": "merged", "name": "3 tasks: merged model, one pass",
         "peers": {"polyhead": {"models": [merged], "shapes": [shape]},
                   "onnxruntime": {"models": [onnx("multitask")], "shapes": [shape]}}},
        {"key": "separate", "name": "3 tasks: separate models in turn",
         "peers": {"polyhead": {"models": phms[:3], "shapes": [shape] * 3},
                   "onnxruntime": {"models": [onnx(m) for m in parts], "shapes": [shape] * 3}}},
    ]


def int8_cases(conv, only):
    """Polyhead against LiteRT only: the other peers have no int8 route from these files."""
    cases = []
    for key, name, src, shape in INT8_SUITE:
        if only is not None and key not in only:
            continue
        if not os.path.exists(src):
            sys.exit(f"prepare_models: {src} is missing (scripts/make_int8_tflite_models.sh "
                     f"{os.path.relpath(INT8, ROOT)})")
        path, error = conv.polyhead_convert(key, src)
        polyhead = ({"error": "cannot load: " + error} if error else
                    {"models": [path], "shapes": [list(shape)]})
        cases.append({"key": key, "name": name, "source": os.path.relpath(src, ROOT),
                      "peers": {"polyhead": polyhead,
                                "litert": {"models": [src], "shapes": [list(shape)]}}})
    return cases


def main():
    args = parse_args()
    conv = Converter(args)
    only = set(args.models.split(",")) if args.models else None
    cases = []
    if args.suite in ("suite", "all"):
        for key, name, src, shape in SUITE:
            if only is not None and key not in only:
                continue
            if not os.path.exists(src):
                sys.exit(f"prepare_models: {src} is missing (scripts/fetch_data.sh, "
                         "scripts/make_onnx_models.sh, scripts/make_peer_models.sh)")
            cases.append({"key": key, "name": name, "source": os.path.relpath(src, ROOT),
                          "peers": prepare_model(conv, key, src, shape)})
            loadable = [p for p, e in cases[-1]["peers"].items() if "error" not in e]
            print(f"prepare_models: {key}: {', '.join(loadable)}", file=sys.stderr)
    if args.suite in ("multitask", "all"):
        cases += multitask_cases(conv)
    if args.suite in ("int8", "all"):
        cases += int8_cases(conv, only)
    with open(args.output, "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
