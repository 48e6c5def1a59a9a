#!/usr/bin/env python3
"""ONNX Runtime driver of the peer suite (Python onnxruntime, CPU execution provider): graph
optimisation level ORT_ENABLE_ALL (the default), sequential execution, intra_op_num_threads = N,
inter_op_num_threads = 1. Outputs are returned as numpy arrays (ORT's run() copies them).
Protocol: peer_common.py."""
import onnxruntime as ort

import peer_common


def main():
    o = peer_common.parse_options(__doc__.splitlines()[0])

    def load():
        sessions = []
        for seed, path in enumerate(o.models, 1):
            so = ort.SessionOptions()
            so.intra_op_num_threads = o.threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            feeds = {i.name: peer_common.input_values(i.shape, seed * 10 + k)
                     for k, i in enumerate(s.get_inputs())}
            s.run(None, feeds)
            sessions.append((s, feeds))

        def run_once():
            for s, feeds in sessions:
                s.run(None, feeds)
        return run_once

    peer_common.measure("onnxruntime", o, load)


if __name__ == "__main__":
    main()
