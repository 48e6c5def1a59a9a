#!/usr/bin/env python3
"""LiteRT driver of the peer suite (ai-edge-litert, the native TFLite interpreter): runs .tflite
files with Interpreter(model_path, num_threads=N). The default op resolver applies LiteRT's default
delegate, XNNPACK, with the same thread count; --no-xnnpack uses BUILTIN_WITHOUT_DEFAULT_DELEGATES
(the reference check that XNNPACK really is applied). Protocol: peer_common.py."""
import sys

from ai_edge_litert import interpreter as litert

import peer_common


def main():
    no_xnnpack = "--no-xnnpack" in sys.argv
    if no_xnnpack:
        sys.argv.remove("--no-xnnpack")
    o = peer_common.parse_options(__doc__.splitlines()[0])
    resolver = (litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if no_xnnpack
                else litert.OpResolverType.AUTO)
    name = "litert-no-xnnpack" if no_xnnpack else "litert"

    def load():
        interpreters = []
        for seed, path in enumerate(o.models, 1):
            it = litert.Interpreter(model_path=path, num_threads=o.threads,
                                    experimental_op_resolver_type=resolver)
            it.allocate_tensors()
            for k, d in enumerate(it.get_input_details()):
                it.set_tensor(d["index"], peer_common.input_values(d["shape"], seed * 10 + k))
            it.invoke()
            interpreters.append(it)

        def run_once():
            for it in interpreters:
                it.invoke()
        return run_once

    peer_common.measure(name, o, load)


if __name__ == "__main__":
    main()
