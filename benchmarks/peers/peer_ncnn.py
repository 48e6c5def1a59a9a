#!/usr/bin/env python3
"""ncnn driver of the peer suite (Python ncnn wheel, CPU): runs NAME.ncnn.param/.bin pairs that
pnnx wrote from ONNX (--models takes the .param files; --shapes the NCHW input shapes).
opt.num_threads = N. fp16/bf16 storage and arithmetic are switched off before load_param so that
ncnn computes in float32 like every other peer here (on x86 with F16C/AVX512-FP16 its defaults
would store or compute in fp16). One extractor per inference, as ncnn's examples do; every output
is extracted. Protocol: peer_common.py."""
import ncnn

import peer_common


def main():
    o = peer_common.parse_options(__doc__.splitlines()[0])
    if len(o.shapes) != len(o.models):
        peer_common.fail("ncnn", "--shapes is required (one NCHW shape per model)", 2)

    def load():
        nets = []
        for seed, (param, shape) in enumerate(zip(o.models, o.shapes), 1):
            net = ncnn.Net()
            net.opt.num_threads = o.threads
            net.opt.use_fp16_storage = False
            net.opt.use_fp16_packed = False
            net.opt.use_fp16_arithmetic = False
            net.opt.use_bf16_storage = False
            if net.load_param(param) != 0:
                raise RuntimeError(f"load_param failed for {param}")
            if net.load_model(param[: -len(".param")] + ".bin") != 0:
                raise RuntimeError(f"load_model failed for {param}")
            x = peer_common.input_values(shape, seed * 10)
            # ncnn blobs have no batch dimension: C x H x W.
            data = ncnn.Mat(x.reshape(shape[1:]) if shape[0] == 1 else x)
            nets.append((net, net.input_names(), net.output_names(), data))

        def run_once():
            for net, inputs, outputs, data in nets:
                ex = net.create_extractor()
                ex.input(inputs[0], data)
                for name in outputs:
                    status, _ = ex.extract(name)
                    if status != 0:
                        raise RuntimeError(f"extract {name} returned {status}")
        run_once()
        return run_once

    peer_common.measure("ncnn", o, load)


if __name__ == "__main__":
    main()
