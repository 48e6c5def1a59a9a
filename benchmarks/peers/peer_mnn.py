#!/usr/bin/env python3
"""MNN driver of the peer suite (Python MNN wheel, CPU backend): loads .mnn files (converted from
ONNX or TFLite by MNN's converter) with MNN.nn.load_module_from_file and a runtime manager
{'backend': 'CPU', 'numThread': N, 'precision': 'normal'} (normal = float32 on x86). --shapes gives
each model's input shape in its source layout: NCHW for ONNX models, NHWC for TFLite ones
(--layouts NCHW,NHWC,...). Outputs are read into numpy. Protocol: peer_common.py."""
import sys

import MNN
import MNN.expr as expr
import MNN.nn as nn

import peer_common


def main():
    layouts = []
    if "--layouts" in sys.argv:
        k = sys.argv.index("--layouts")
        layouts = sys.argv[k + 1].split(",")
        del sys.argv[k:k + 2]
    o = peer_common.parse_options(__doc__.splitlines()[0])
    if len(o.shapes) != len(o.models) or len(layouts) != len(o.models):
        peer_common.fail("mnn", "--shapes and --layouts are required (one per model)", 2)
    formats = {"NCHW": expr.NCHW, "NHWC": expr.NHWC}

    def load():
        runtime = nn.create_runtime_manager(
            ({"backend": "CPU", "numThread": o.threads, "precision": "normal"},))
        nets = []
        for seed, (path, shape, layout) in enumerate(zip(o.models, o.shapes, layouts), 1):
            net = nn.load_module_from_file(path, [], [], runtime_manager=runtime)
            if net is None:
                raise RuntimeError(f"MNN could not load {path}")
            x = peer_common.input_values(shape, seed * 10)
            nets.append((net, [expr.const(x, list(shape), formats[layout])]))

        def run_once():
            for net, inputs in nets:
                for out in net.forward(inputs):
                    out.read()
        run_once()
        return run_once

    peer_common.measure("mnn", o, load)


if __name__ == "__main__":
    main()
