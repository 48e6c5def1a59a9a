#!/usr/bin/python3
"""Generates the extra torchvision architectures of the peer suite (benchmarks/peers/) as ONNX.

    /usr/bin/python3 scripts/onnx_models/make_peer_models.py OUTDIR [--only NAME,NAME...]

Families other than the MobileNets of make_models.py: a plain residual network (ResNet-50), a
compound-scaled SiLU/squeeze-excitation network (EfficientNet-B0), a group-convolution network
with squeeze-excitation (RegNetY-400MF) and a channel-shuffle network (ShuffleNetV2 x1.0). Same
recipe as make_models.py, whose helpers it uses: Debian's torch/torchvision/onnx, seeded-random
weights, BatchNorm calibrated on seeded random images, static batch-1 export with constant folding,
input "input" (NCHW float32), output "logits" [1,1000]. Writes OUTDIR/<model>.onnx and
OUTDIR/manifest.json. See docs/onnx_models.md.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import onnx
import torch
import torchvision

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import SEED, export, op_histogram, randomise, shapes_of  # noqa: E402

OPSET = 13
SIZE = (224, 224)

# name -> (torchvision constructor, seed offset, description). Offsets start at 100 so no model
# shares a seed with make_models.py's.
ARCHITECTURES = {
    "resnet50": (torchvision.models.resnet50, 100,
                 "torchvision resnet50: bottleneck residual blocks, 25.6 M parameters"),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, 110,
                        "torchvision efficientnet_b0: MBConv, SiLU (Sigmoid+Mul), "
                        "squeeze-excitation"),
    "regnet_y_400mf": (torchvision.models.regnet_y_400mf, 120,
                       "torchvision regnet_y_400mf: group convolutions, squeeze-excitation"),
    "shufflenet_v2_x1_0": (torchvision.models.shufflenet_v2_x1_0, 130,
                           "torchvision shufflenet_v2_x1_0: channel split (Split), shuffle "
                           "(Reshape/Transpose/Reshape)"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--only", help="comma-separated model names (default: all)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    os.makedirs(args.outdir, exist_ok=True)
    manifest = {"generator": "scripts/onnx_models/make_peer_models.py",
                "torch": torch.__version__, "torchvision": torchvision.__version__,
                "onnx": onnx.__version__, "seed": SEED, "models": {}}
    start = time.time()
    for name, (make, offset, description) in ARCHITECTURES.items():
        if only is not None and name not in only:
            continue
        torch.manual_seed(SEED + offset)
        model = randomise(make(), SEED + offset + 1, SIZE)
        proto = export(model, (1, 3) + SIZE, OPSET, ["logits"])
        onnx.checker.check_model(proto, full_check=True)
        data = proto.SerializeToString()
        with open(os.path.join(args.outdir, name + ".onnx"), "wb") as f:
            f.write(data)
        digest = hashlib.sha256(data).hexdigest()
        manifest["models"][name] = {
            "file": name + ".onnx", "description": description, "opset": OPSET,
            "bytes": len(data), "sha256": digest,
            "inputs": shapes_of(proto.graph.input), "outputs": shapes_of(proto.graph.output),
            "initializers": len(proto.graph.initializer), "ops": op_histogram(proto),
        }
        print(f"{name:20s} opset {OPSET} {len(data):9d} bytes sha256 {digest}", flush=True)
    if only is None:
        with open(os.path.join(args.outdir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
    print(f"generated {len(manifest['models'])} models in {time.time() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
