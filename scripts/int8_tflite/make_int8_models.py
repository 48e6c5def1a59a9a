#!/usr/bin/env python3
"""Writes the full-integer TFLite test models and native LiteRT reference outputs.

    make_int8_models.py OUTDIR

Three seeded Keras models (MobileNetV2 224, MobileNetV3Small 224, a small two-head detector 128),
each converted by tf.lite.TFLiteConverter to full integer (int8 activations, per-channel int8
weights, float32 input and output so the Plan API takes them as they are), calibrated on the
project's photos (build/data/sample1-6.jpg). For each model, the photos preprocessed the same way
(resized bilinear, scaled to [-1, 1]) are run through LiteRT (ai_edge_litert, its default
XNNPACK delegate) and through LiteRT's reference kernels; inputs and outputs are written as raw
little-endian float32 files, described by OUTDIR/manifest.json, so the C++ agreement test
(tests/e2e/test_tflite_int8_models.cc) needs no Python. Each model's float32 twin
(NAME_fp32.tflite, same weights, no quantization) is written too, for benchmarks/int8.sh.
Called by scripts/make_int8_tflite_models.sh.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from ai_edge_litert import interpreter as litert  # noqa: E402

SEED = 14
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "build", "data")
# Calibration photos; the first three are also the reference inputs.
CALIB = ["sample%d.jpg" % i for i in range(1, 7)]
REFERENCE = ["sample1.jpg", "sample2.jpg", "sample3.jpg"]


def detector(size=128):
    """BlazeFace-lite: a stride-2 stem, depthwise-separable blocks (one with a residual ADD),
    box and score heads at 16x16 and 8x8, concatenated like SSD anchors."""
    L = tf.keras.layers
    x_in = tf.keras.Input((size, size, 3), name="image")

    def dw_block(x, channels, stride):
        y = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        y = L.BatchNormalization()(y)
        y = L.ReLU(6.0)(y)
        y = L.Conv2D(channels, 1, use_bias=False)(y)
        y = L.BatchNormalization()(y)
        if stride == 1 and x.shape[-1] == channels:
            y = L.Add()([x, y])
        return L.ReLU()(y)

    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x_in)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)                                   # 64x64x16
    x = dw_block(x, 24, 2)                            # 32x32x24
    x = dw_block(x, 24, 1)
    x = dw_block(x, 48, 2)                            # 16x16x48
    x = dw_block(x, 48, 1)
    f16 = x
    x = dw_block(x, 96, 2)                            # 8x8x96
    f8 = dw_block(x, 96, 1)
    boxes, scores = [], []
    for f, anchors in ((f16, 2), (f8, 6)):
        b = L.Conv2D(anchors * 4, 1)(f)
        boxes.append(L.Reshape((-1, 4))(b))
        s = L.Conv2D(anchors, 1)(f)
        scores.append(L.Reshape((-1, 1))(s))
    box = L.Concatenate(axis=1, name="boxes")(boxes)
    score = L.Activation("sigmoid", name="scores")(L.Concatenate(axis=1)(scores))
    return tf.keras.Model(x_in, [box, score], name="detector")


# (name, builder, input size). classifier_activation=None: the logits, not a softmax whose int8
# output (scale 1/256) would be ~all -128 on 1000 near-equal classes of random weights.
MODELS = [
    ("mobilenet_v2_int8", lambda: tf.keras.applications.MobileNetV2(
        input_shape=(224, 224, 3), alpha=1.0, weights=None, classifier_activation=None), 224),
    ("mobilenet_v3_small_int8", lambda: tf.keras.applications.MobileNetV3Small(
        input_shape=(224, 224, 3), weights=None, include_preprocessing=False,
        classifier_activation=None), 224),
    ("detector_int8", detector, 128),
]


def load_photo(name, size, crop=None, flip=False):
    """RGB, optionally cropped (left, top, right, bottom fractions) and mirrored, resized
    bilinear to size x size, scaled to [-1, 1] (Keras MobileNet's preprocess_input)."""
    img = Image.open(os.path.join(DATA, name)).convert("RGB")
    if crop:
        w, h = img.size
        img = img.crop((int(crop[0] * w), int(crop[1] * h), int(crop[2] * w), int(crop[3] * h)))
    if flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    img = img.resize((size, size), Image.BILINEAR)
    return (np.asarray(img, dtype=np.float32) / 127.5 - 1.0)[None]


def calibration_set(size):
    out = []
    for name in CALIB:
        out.append(load_photo(name, size))
        out.append(load_photo(name, size, flip=True))
        out.append(load_photo(name, size, crop=(0.1, 0.1, 0.9, 0.9)))
    return out


def settle_batchnorm(model, images, rng):
    """Gives the untrained network trained-like activation ranges. With weights=None every
    BatchNormalization has mean 0 and variance 1, and a deep random net's activations shrink
    block after block (MobileNetV2's logits came out ~1e-6, quantized with scale ~1e-8). In
    graph order, each BatchNormalization gets the statistics of its input on the calibration
    photos (as training would estimate them) and a seeded random gain and offset."""
    batch = np.concatenate(images)
    for layer in model.layers:
        if not isinstance(layer, tf.keras.layers.BatchNormalization):
            continue
        probe = tf.keras.Model(model.inputs[0], layer.input)
        x = np.asarray(probe(batch, training=False))
        axes = tuple(range(x.ndim - 1))
        channels = x.shape[-1]
        gamma = rng.uniform(0.5, 1.5, channels).astype(np.float32)
        beta = rng.normal(0.0, 0.25, channels).astype(np.float32)
        layer.set_weights([gamma, beta, x.mean(axis=axes), x.var(axis=axes) + layer.epsilon])


def convert(model, size):
    """(full-integer .tflite, float32 .tflite) of the model: the float twin is what
    benchmarks/int8.sh measures the int8 model against."""
    # Through a SavedModel: Keras 3 variables are not captured by a bare concrete function
    # (the converter then leaves READ_VARIABLE ops that fail at calibration).
    saved = tempfile.mkdtemp(prefix="int8_tflite_")
    try:
        model.export(saved, format="tf_saved_model", verbose=False,
                     input_signature=[tf.TensorSpec((1, size, size, 3), tf.float32, name="input")])
        conv = tf.lite.TFLiteConverter.from_saved_model(saved)
        int8 = convert_configured(conv, size)
        fp32 = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
        return int8, fp32
    finally:
        shutil.rmtree(saved, ignore_errors=True)


def convert_configured(conv, size):
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    calib = calibration_set(size)
    conv.representative_dataset = lambda: ([c] for c in calib)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.float32
    conv.inference_output_type = tf.float32
    return conv.convert()


def output_quantization(interp, detail):
    """The int8 tensor DEQUANTIZE reads for this float output: its scale and zero point are the
    grid both runtimes' outputs lie on, so the test compares in the quantized domain."""
    ops = interp._get_ops_details()
    for op in ops:
        if detail["index"] in op["outputs"] and op["op_name"] == "DEQUANTIZE":
            src = interp._get_tensor_details(op["inputs"][0], 0)
            q = src["quantization_parameters"]
            return {"int8_tensor": src["name"], "scale": float(q["scales"][0]),
                    "zero_point": int(q["zero_points"][0])}
    return None


def run(path, inputs, resolver):
    interp = litert.Interpreter(model_path=path, num_threads=1,
                                experimental_op_resolver_type=resolver)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()
    results = []
    for x in inputs:
        interp.set_tensor(ins[0]["index"], x)
        interp.invoke()
        results.append([interp.get_tensor(o["index"]).copy() for o in outs])
    return interp, outs, results


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    manifest = {
        "generator": "scripts/make_int8_tflite_models.sh (scripts/int8_tflite/make_int8_models.py)",
        "versions": {"tensorflow": tf.__version__, "keras": tf.keras.__version__,
                     "numpy": np.__version__,
                     "ai_edge_litert": __import__("importlib.metadata").metadata.version(
                         "ai-edge-litert")},
        "seed": SEED,
        "calibration": CALIB,
        "preprocessing": "RGB, resized bilinear (PIL) to the input size, x / 127.5 - 1",
        "models": [],
    }
    Resolver = litert.OpResolverType
    for name, build, size in MODELS:
        tf.keras.utils.set_random_seed(SEED)
        model = build()
        settle_batchnorm(model, calibration_set(size), np.random.default_rng(SEED))
        blob, fp32 = convert(model, size)
        path = os.path.join(out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        fp32_path = os.path.join(out, name.replace("_int8", "_fp32") + ".tflite")
        with open(fp32_path, "wb") as f:
            f.write(fp32)
        inputs = [load_photo(p, size) for p in REFERENCE]
        entry = {"name": name, "file": name + ".tflite", "bytes": len(blob),
                 "sha256": sha256(path),
                 "fp32_twin": {"file": os.path.basename(fp32_path), "bytes": len(fp32),
                               "sha256": sha256(fp32_path)},
                 "input_shape": [1, size, size, 3], "samples": []}
        interp, outs, default = run(path, inputs, Resolver.AUTO)
        _, _, reference = run(path, inputs, Resolver.BUILTIN_REF)
        entry["outputs"] = [{"name": o["name"], "shape": [int(d) for d in o["shape"]],
                             "quantization": output_quantization(interp, o)} for o in outs]
        for i, (photo, x) in enumerate(zip(REFERENCE, inputs)):
            sample = {"photo": photo, "input": "%s.in%d.f32" % (name, i),
                      "litert": [], "litert_reference_kernels": []}
            x.astype("<f4").tofile(os.path.join(out, sample["input"]))
            for k in range(len(outs)):
                for key, res in (("litert", default), ("litert_reference_kernels", reference)):
                    file = "%s.in%d.out%d.%s.f32" % (name, i, k, key)
                    res[i][k].astype("<f4").tofile(os.path.join(out, file))
                    sample[key].append(file)
            entry["samples"].append(sample)
        manifest["models"].append(entry)
        print("make_int8_models: %s %d bytes" % (name, len(blob)), flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
