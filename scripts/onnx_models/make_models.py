#!/usr/bin/python3
"""Generates the ONNX test models for Polyhead's ONNX importer (`polyhead convert MODEL.onnx`).

    /usr/bin/python3 scripts/onnx_models/make_models.py OUTDIR [--only NAME,NAME...]

Uses Debian's python3-torch, python3-torchvision and python3-onnx (apt); nothing is downloaded.
Every weight is seeded-random: no pretrained weights. BatchNorm layers get random affine
parameters and running statistics measured on seeded random images (so activations keep a sane
scale through deep networks and the statistics are far from mean 0 / variance 1: folding BN into
the previous convolution is really exercised). Export is static-shape, batch 1, input "input"
(NCHW float32). Writes OUTDIR/<model>.onnx, OUTDIR/unsupported.txt and OUTDIR/manifest.json and
prints one line per model: name, opset, bytes, sha256. See docs/onnx_models.md.
"""
import argparse
import collections
import hashlib
import io
import json
import os
import sys
import time
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SEED = 20240611
INPUT = "input"

torch.set_num_threads(1)  # bit-reproducible reductions during BN calibration
# torch 1.13's exporter warns about its own shape inference and unfoldable Slice nodes; the
# models are checked below (onnx.checker full check + static output shapes), so keep quiet.
warnings.filterwarnings("ignore", category=UserWarning)


# ----------------------------------------------------------------------------------------------
# Weight initialisation
# ----------------------------------------------------------------------------------------------

def randomise(model, seed, image_size, calib_batches=2, batch=4):
    """Seeded random weights; random BN affine parameters; BN running statistics measured on
    seeded random images (train-mode passes with a cumulative average)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                std = (2.0 / m.weight[0].numel()) ** 0.5  # He-like scale
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * std)
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 0.4)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 1.0 + 0.5)  # [0.5, 1.5]
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2)      # [-0.2, 0.2]
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                m.num_batches_tracked.zero_()
                m.momentum = None  # cumulative moving average over the calibration batches
        model.train()
        for _ in range(calib_batches):
            model(torch.randn((batch, 3) + image_size, generator=gen))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 0.1
                # Spread the variances so no BN is close to identity even where the measured
                # statistics happen to be: factor in [0.5, 2] (log-uniform).
                f = torch.exp((torch.rand(m.running_var.shape, generator=gen) * 2 - 1) * 0.6931)
                m.running_var.mul_(f)
    model.eval()
    return model


# ----------------------------------------------------------------------------------------------
# Multi-task model: MobileNetV2 (width 0.5) backbone + three heads at different depths
# ----------------------------------------------------------------------------------------------

MT_SIZE = (160, 160)
SEG_CLASSES = 4
DET_CLASSES = 5
DET_ANCHORS = 3
CLS_CLASSES = 10


class Backbone(nn.Module):
    """torchvision MobileNetV2(width_mult=0.5).features split at the taps the heads use:
    features[0:7] -> stride 8 (16 ch), [7:14] -> stride 16 (48 ch), [14:18] -> stride 32 (80->160
    ch), [18] -> 1x1 conv to 1280 ch (stride 32)."""
    STAGES = {"s8": (0, 7), "s16": (7, 14), "s32": (14, 18), "last": (18, 19)}

    def __init__(self):
        super().__init__()
        self.features = torchvision.models.mobilenet_v2(width_mult=0.5).features

    def stage(self, x, name):
        begin, end = self.STAGES[name]
        for i in range(begin, end):
            x = self.features[i](x)
        return x


class ClassifyHead(nn.Module):
    def __init__(self, channels, classes):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(x), 1))


class LRASPPHead(nn.Module):
    """LR-ASPP-style: a 1x1 conv+BN+ReLU branch on the stride-16 features gated by a sigmoid of
    their global average, upsampled x2 to stride 8 and added to a 1x1 classifier of the stride-8
    features, then upsampled x8 (bilinear) to the input size."""

    def __init__(self, low_channels, high_channels, classes, inter=64):
        super().__init__()
        self.cbr = nn.Sequential(nn.Conv2d(high_channels, inter, 1, bias=False),
                                 nn.BatchNorm2d(inter), nn.ReLU(inplace=True))
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                                   nn.Conv2d(high_channels, inter, 1, bias=False), nn.Sigmoid())
        self.low_classifier = nn.Conv2d(low_channels, classes, 1)
        self.high_classifier = nn.Conv2d(inter, classes, 1)

    def forward(self, low, high):
        x = self.cbr(high) * self.scale(high)
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = self.low_classifier(low) + self.high_classifier(x)
        return F.interpolate(x, scale_factor=8.0, mode="bilinear", align_corners=False)


def _separable_predictor(channels, outputs):
    return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                         nn.BatchNorm2d(channels), nn.ReLU6(inplace=True),
                         nn.Conv2d(channels, outputs, 1))


class SSDLiteHead(nn.Module):
    """SSDLite-style: per feature map a depthwise-separable box predictor and class predictor;
    [1, A*K, H, W] -> permute to [1, H, W, A*K] -> reshape [1, H*W*A, K] -> concat over maps."""

    def __init__(self, channels, anchors, classes):
        super().__init__()
        self.anchors, self.classes = anchors, classes
        self.box = nn.ModuleList([_separable_predictor(c, anchors * 4) for c in channels])
        self.cls = nn.ModuleList([_separable_predictor(c, anchors * classes) for c in channels])

    def forward(self, features):
        boxes, scores = [], []
        for f, box, cls in zip(features, self.box, self.cls):
            boxes.append(box(f).permute(0, 2, 3, 1).reshape(1, -1, 4))
            scores.append(cls(f).permute(0, 2, 3, 1).reshape(1, -1, self.classes))
        return torch.cat(boxes, 1), torch.cat(scores, 1)


class MultiTask(nn.Module):
    def __init__(self, backbone, classify, segment, detect):
        super().__init__()
        self.backbone, self.classify, self.segment, self.detect = backbone, classify, segment, detect

    def forward(self, x):
        s8 = self.backbone.stage(x, "s8")
        s16 = self.backbone.stage(s8, "s16")
        s32 = self.backbone.stage(s16, "s32")
        last = self.backbone.stage(s32, "last")
        seg = self.segment(s8, s16)
        boxes, scores = self.detect([s16, s32])
        return self.classify(last), seg, boxes, scores


class ClassifyOnly(nn.Module):  # the whole backbone
    def __init__(self, backbone, classify):
        super().__init__()
        self.backbone, self.classify = backbone, classify

    def forward(self, x):
        x = self.backbone.stage(x, "s8")
        x = self.backbone.stage(x, "s16")
        x = self.backbone.stage(x, "s32")
        return self.classify(self.backbone.stage(x, "last"))


class SegmentOnly(nn.Module):  # backbone up to stride 16 (features[0:14])
    def __init__(self, backbone, segment):
        super().__init__()
        self.backbone, self.segment = backbone, segment

    def forward(self, x):
        s8 = self.backbone.stage(x, "s8")
        return self.segment(s8, self.backbone.stage(s8, "s16"))


class DetectOnly(nn.Module):  # backbone up to stride 32 without the final 1x1 conv (features[0:18])
    def __init__(self, backbone, detect):
        super().__init__()
        self.backbone, self.detect = backbone, detect

    def forward(self, x):
        s16 = self.backbone.stage(self.backbone.stage(x, "s8"), "s16")
        return self.detect([s16, self.backbone.stage(s16, "s32")])


def multitask_models():
    torch.manual_seed(SEED)
    backbone = Backbone()
    heads = (ClassifyHead(1280, CLS_CLASSES), LRASPPHead(16, 48, SEG_CLASSES),
             SSDLiteHead([48, 160], DET_ANCHORS, DET_CLASSES))
    mt = MultiTask(backbone, *heads)
    randomise(mt, SEED + 1, MT_SIZE)  # one set of weights shared by all four models
    return {
        "multitask": (mt, ["classify_logits", "segment_logits", "detect_boxes", "detect_scores"]),
        "classify": (ClassifyOnly(backbone, heads[0]).eval(), ["classify_logits"]),
        "segment": (SegmentOnly(backbone, heads[1]).eval(), ["segment_logits"]),
        "detect": (DetectOnly(backbone, heads[2]).eval(), ["detect_boxes", "detect_scores"]),
    }


# ----------------------------------------------------------------------------------------------
# Operator coverage models
# ----------------------------------------------------------------------------------------------

class OpsNet(nn.Module):
    """Small net (1x3x32x32) touching every operator on the importer's list. Exported with
    TrainingMode.PRESERVE so BatchNormalization stays in the graph (after a Conv and after an
    Add) instead of being folded by torch."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn_conv = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.grouped = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.prelu = nn.PReLU(8)
        self.bn_add = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2)  # after F.pad(0,1,0,1): asymmetric padding
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.fc = nn.Linear(40, 10)
        self.proj = nn.Linear(16, 12)

    def forward(self, x):
        a = F.relu(self.bn_conv(self.conv(x)))             # Conv, BatchNormalization, Relu
        b = F.relu6(self.dw(a))                            # depthwise Conv, Clip
        c = F.leaky_relu(self.grouped(b), 0.1)             # grouped Conv, LeakyRelu
        d = self.prelu(self.dilated(c))                    # dilated Conv, PRelu
        e = self.bn_add(a + d)                             # Add -> BatchNormalization
        s = (e - b) * torch.sigmoid(c)                     # Sub, Sigmoid, Mul
        q = s / (torch.sigmoid(d) + 1.0)                   # Div
        h = F.hardswish(q) + F.hardsigmoid(e)              # HardSwish (decomposed < opset 14), HardSigmoid
        p = F.relu(self.down(F.pad(h, (0, 1, 0, 1))))      # Pad, Conv stride 2 -> 16x16x16
        u = torch.tanh(self.up(p))                         # ConvTranspose (stride 2, output_padding), Tanh
        m1 = F.max_pool2d(u, 2)                            # MaxPool 2x2 -> 8x16x16
        m2 = F.max_pool2d(u, 3, stride=2, padding=1)       # MaxPool 3x3 s2 p1
        a1 = F.avg_pool2d(m1, 3, stride=1, padding=1, count_include_pad=True)
        a2 = F.avg_pool2d(m2, 3, stride=1, padding=1, count_include_pad=False)
        a3 = F.avg_pool2d(u, 2)                            # AveragePool 2x2, no padding
        cat = torch.cat([a1, a2, a3], 1)                   # Concat (channels) -> 24x16x16
        r1 = F.interpolate(cat, scale_factor=2.0, mode="nearest")
        r2 = F.interpolate(cat, scale_factor=2.0, mode="bilinear", align_corners=False)
        r3 = F.interpolate(cat, scale_factor=2.0, mode="bilinear", align_corners=True)
        out_a = r1 + r2 - r3                               # 1x24x32x32
        g = F.adaptive_avg_pool2d(cat, 1)                  # GlobalAveragePool -> 1x24x1x1
        rm = torch.mean(p, dim=(2, 3), keepdim=True)       # ReduceMean over H,W -> 1x16x1x1
        flat = torch.flatten(torch.cat([g, rm], 1), 1)     # Flatten -> 1x40
        out_b = torch.softmax(self.fc(flat), dim=1)        # Gemm, Softmax
        t = p.permute(0, 2, 3, 1).reshape(1, -1, 16)       # Transpose, Reshape -> 1x256x16
        out_c = torch.tanh(self.proj(t))                   # MatMul + Add (Linear on 3-D)
        out_d = rm.reshape(1, -1)                          # Reshape to 2-D -> 1x16
        return out_a, out_b, out_c, out_d


class ShapeSubgraphNet(nn.Module):
    """Shape arithmetic left in the graph, as torch writes it without constant folding:
    F.pad's pads are computed by ConstantOfShape/Concat/Reshape/Slice(step -1)/Transpose/Cast
    (torch 1.13 cannot fold that Slice even with do_constant_folding=True), and
    x.view(x.size(0), -1) reads the batch size with Shape/Gather/Unsqueeze/Concat -> Reshape.
    Exported with a dynamic batch (else torch resolves Shape itself), then the batch is fixed
    to 1 in the declared input/output shapes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.fc = nn.Linear(8 * 16 * 16, 10)

    def forward(self, x):
        x = F.relu(self.conv(F.pad(x, (0, 1, 0, 1))))       # 33x33 -> 16x16
        return self.fc(x.view(x.size(0), -1))


class SlicingNet(nn.Module):
    """Selecting parts of activations (1x3x32x32): torch.split with explicit sizes (Split: an
    attribute at opset 11, an input from 13), the halves concatenated back the other way round,
    chunk(2) (torch writes Shape/Gather/Div/Mul arithmetic into Slice bounds), ShuffleNet's
    view/transpose/view channel shuffle, strided slices of H and W, torch.flip (Slice with step
    -1), indexing with a channel list (Gather, 1-D indices) and with one channel (Gather, a scalar
    index: the axis goes), a negative slice of the resulting 3-D tensor, and a Gather of columns
    of a 2-D activation before a Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.conv_a = nn.Conv2d(6, 8, 1)
        self.conv_b = nn.Conv2d(10, 8, 3, padding=1)
        self.fc = nn.Linear(3, 10)

    def forward(self, x):
        y = F.relu(self.conv(x))                              # 1x16x32x32
        a, b = torch.split(y, [6, 10], dim=1)                 # Split, explicit sizes
        c = torch.cat([self.conv_b(b), self.conv_a(a)], 1)    # Concat of the parts -> 16
        lo, hi = c.chunk(2, dim=1)                            # Slice x2 (computed bounds)
        s = lo * torch.sigmoid(hi)                            # 1x8x32x32
        n, ch, h, w = c.shape
        shuffled = c.view(n, 4, ch // 4, h, w).transpose(1, 2).contiguous().view(n, ch, h, w)
        out_a = shuffled[:, :, ::2, 1::2]                     # Slice with steps -> 1x16x16x16
        flipped = torch.flip(s, dims=[3])                     # Slice, step -1
        out_b = shuffled[:, [1, 3, 5, 0]] * flipped[:, 2:6]   # Gather 1-D, Slice -> 1x4x32x32
        out_c = shuffled[:, 0][:, -5:]                        # Gather scalar, Slice -> 1x5x32
        g = F.adaptive_avg_pool2d(s, 1).flatten(1)            # 1x8
        out_d = self.fc(g[:, [7, 0, 3]])                      # Gather on a 2-D activation, Gemm
        return out_a, out_b, out_c, out_d


class UnsupportedNet(nn.Module):
    """Operators no Polyhead importer supports: Erf (x2), Cos, Sin."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        y = torch.erf(y) + torch.erf(y * 0.5)
        return torch.cos(y) * torch.sin(y)


UNSUPPORTED_OPS = ("Erf", "Cos", "Sin")


# ----------------------------------------------------------------------------------------------
# Export helpers
# ----------------------------------------------------------------------------------------------

def export(model, shape, opset, output_names, fold=True, preserve=False, dynamic_batch=False):
    """torch.onnx.export to a ModelProto; the declared input/output shapes are then made
    static (batch 1) from torch's own outputs."""
    buf = io.BytesIO()
    dynamic = {n: {0: "batch"} for n in [INPUT] + output_names} if dynamic_batch else None
    torch.onnx.export(model, torch.zeros(shape), buf, opset_version=opset,
                      input_names=[INPUT], output_names=output_names,
                      do_constant_folding=fold, dynamic_axes=dynamic,
                      training=torch.onnx.TrainingMode.PRESERVE if preserve
                      else torch.onnx.TrainingMode.EVAL)
    proto = onnx.load_from_string(buf.getvalue())
    with torch.no_grad():
        outputs = model(torch.zeros(shape))
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    set_static_shapes(proto.graph.input, [shape])
    set_static_shapes(proto.graph.output, [tuple(o.shape) for o in outputs])
    return proto


def set_static_shapes(values, shapes):
    assert len(values) == len(shapes)
    for v, shape in zip(values, shapes):
        dims = v.type.tensor_type.shape.dim
        del dims[:]
        for d in shape:
            dims.add().dim_value = d


_FOLDABLE = {"ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Cast", "Unsqueeze",
             "Squeeze", "Gather"}


def fold_constant_subgraphs(proto):
    """Evaluates nodes whose inputs are all constant (only the small integer ops torch uses for
    F.pad's pads: ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast...), stores their
    results as initializers and drops nodes nobody reads any more. Constant nodes that still
    feed an operator stay (they are part of what the operator coverage models test)."""
    g = proto.graph
    values = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            values[n.output[0]] = onnx.numpy_helper.to_array(n.attribute[0].t)
    attrs = lambda n: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
    folded = []
    for n in g.node:
        if n.op_type not in _FOLDABLE or not all(i in values for i in n.input if i):
            continue
        x = [values[i] if i else None for i in n.input]
        a = attrs(n)
        if n.op_type == "ConstantOfShape":
            fill = onnx.numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            y = np.full(tuple(x[0]), fill[0], dtype=fill.dtype)
        elif n.op_type == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif n.op_type == "Reshape":
            shape = [x[0].shape[i] if d == 0 and not a.get("allowzero", 0) else d
                     for i, d in enumerate(x[1])]
            y = x[0].reshape(shape)
        elif n.op_type == "Slice":
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(x[1]))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(x[1])
            index = [slice(None)] * x[0].ndim
            for start, end, axis, step in zip(x[1], x[2], axes, steps):
                index[axis] = slice(int(start), int(end), int(step))
            y = x[0][tuple(index)]
        elif n.op_type == "Transpose":
            y = np.transpose(x[0], a.get("perm"))
        elif n.op_type == "Cast":
            y = x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif n.op_type == "Unsqueeze":
            axes = a["axes"] if "axes" in a else x[1]
            y = np.expand_dims(x[0], tuple(int(i) for i in axes))
        elif n.op_type == "Squeeze":
            axes = a["axes"] if "axes" in a else (x[1] if len(x) > 1 else None)
            y = np.squeeze(x[0], None if axes is None else tuple(int(i) for i in axes))
        else:  # Gather
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        values[n.output[0]] = np.asarray(y)
        g.initializer.append(onnx.numpy_helper.from_array(np.asarray(y), n.output[0]))
        folded.append(n)
    for n in folded:
        g.node.remove(n)
    while True:  # dead code: nodes and initializers no one reads
        read = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        dead = [n for n in g.node if not any(o in read for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    unused = [t for t in g.initializer if t.name not in read]
    for t in unused:
        g.initializer.remove(t)
    return proto


def add_identity_dropout_constant(proto, opset):
    """torch drops Dropout and Identity in inference export and folds constants into
    initializers; other exporters keep them. Splice one of each into the graph so the importer is
    tested on them, without changing the result: out_d -> Identity -> Dropout -> Mul(Constant 1)."""
    g = proto.graph
    out = g.output[-1].name
    src = out + "_pre"
    for n in g.node:
        n.output[:] = [src if o == out else o for o in n.output]
    helper = onnx.helper
    dropout_attrs = {"ratio": 0.5} if opset < 12 else {}
    g.node.extend([
        helper.make_node("Identity", [src], ["out_d_identity"], name="/extra/Identity"),
        helper.make_node("Dropout", ["out_d_identity"], ["out_d_dropout"], name="/extra/Dropout",
                         **dropout_attrs),
        helper.make_node("Constant", [], ["out_d_one"], name="/extra/Constant",
                         value=helper.make_tensor("one", onnx.TensorProto.FLOAT, [1], [1.0])),
        helper.make_node("Mul", ["out_d_dropout", "out_d_one"], [out], name="/extra/Mul"),
    ])
    return proto


def shapes_of(values):
    result = []
    for v in values:
        t = v.type.tensor_type
        result.append({"name": v.name,
                       "dtype": onnx.TensorProto.DataType.Name(t.elem_type).lower(),
                       "shape": [d.dim_value if d.HasField("dim_value") else d.dim_param
                                 for d in t.shape.dim]})
    return result


def op_histogram(proto):
    return dict(sorted(collections.Counter(n.op_type for n in proto.graph.node).items()))


# ----------------------------------------------------------------------------------------------
# The model list
# ----------------------------------------------------------------------------------------------

def build_all(only):
    """Yields (name, description, proto, opset)."""
    def want(*names):
        return only is None or any(n in only for n in names)

    if want("mobilenet_v2"):
        torch.manual_seed(SEED + 10)
        m = randomise(torchvision.models.mobilenet_v2(), SEED + 11, (224, 224))
        yield ("mobilenet_v2", "torchvision mobilenet_v2 (width 1.0), 1000 classes, seeded weights",
               export(m, (1, 3, 224, 224), 13, ["logits"]), 13)
    if want("mobilenet_v2_035_96"):
        torch.manual_seed(SEED + 20)
        m = randomise(torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10),
                      SEED + 21, (96, 96))
        yield ("mobilenet_v2_035_96", "torchvision mobilenet_v2 width 0.35, 96x96, 10 classes",
               export(m, (1, 3, 96, 96), 11, ["logits"]), 11)
    if want("mobilenet_v3_small"):
        torch.manual_seed(SEED + 30)
        m = randomise(torchvision.models.mobilenet_v3_small(), SEED + 31, (224, 224))
        yield ("mobilenet_v3_small", "torchvision mobilenet_v3_small, 1000 classes",
               export(m, (1, 3, 224, 224), 17, ["logits"]), 17)
    if want("multitask", "classify", "segment", "detect"):
        descriptions = {
            "multitask": "MobileNetV2-0.5 backbone (160x160) + classify (features[18]), "
                         "LR-ASPP segment (strides 8+16), SSDLite detect (strides 16+32)",
            "classify": "multitask's backbone features[0:19] + its classification head",
            "segment": "multitask's backbone features[0:14] (stride 16) + its LR-ASPP head",
            "detect": "multitask's backbone features[0:18] (stride 32, no final 1x1) + its SSDLite head",
        }
        for name, (model, outputs) in multitask_models().items():
            if want(name):
                yield name, descriptions[name], export(model, (1, 3) + MT_SIZE, 13, outputs), 13
    for opset in (11, 17):
        name = f"ops_opset{opset}"
        if want(name):
            torch.manual_seed(SEED + 40)
            m = randomise(OpsNet(), SEED + 41, (32, 32))
            proto = export(m, (1, 3, 32, 32), opset, ["out_a", "out_b", "out_c", "out_d"],
                           preserve=True)
            # F.pad's pads arrive as a ConstantOfShape/Slice/Cast... sub-graph torch cannot fold;
            # fold it here so these models test operators (shape_subgraph.onnx keeps it).
            fold_constant_subgraphs(proto)
            yield (name, f"operator coverage at opset {opset} (+ Identity/Dropout/Constant spliced in)",
                   add_identity_dropout_constant(proto, opset), opset)
    if want("shape_subgraph"):
        torch.manual_seed(SEED + 50)
        m = randomise(ShapeSubgraphNet(), SEED + 51, (32, 32))
        yield ("shape_subgraph", "F.pad + x.view(x.size(0), -1) exported without constant folding",
               export(m, (1, 3, 32, 32), 13, ["logits"], fold=False, dynamic_batch=True), 13)
    if want("shufflenet_v2_x0_5"):
        torch.manual_seed(SEED + 70)
        m = randomise(torchvision.models.shufflenet_v2_x0_5(), SEED + 71, (224, 224))
        yield ("shufflenet_v2_x0_5", "torchvision shufflenet_v2_x0_5: channel split (Slice with "
               "computed bounds), Concat, channel shuffle (Reshape/Transpose/Reshape)",
               export(m, (1, 3, 224, 224), 13, ["logits"]), 13)
    for opset in (11, 17):
        name = f"slicing_opset{opset}"
        if want(name):
            torch.manual_seed(SEED + 80)
            m = randomise(SlicingNet(), SEED + 81, (32, 32))
            yield (name, f"Split, Slice, Gather and a channel shuffle on activations at opset "
                   f"{opset}", export(m, (1, 3, 32, 32), opset,
                                      ["out_a", "out_b", "out_c", "out_d"]), opset)
    if want("unsupported"):
        torch.manual_seed(SEED + 60)
        m = randomise(UnsupportedNet(), SEED + 61, (16, 16))
        yield ("unsupported", "uses Erf x2, Cos, Sin (unsupported by Polyhead's importers)",
               export(m, (1, 3, 16, 16), 13, ["output"]), 13)


def check_shared_backbone(protos):
    """classify/segment/detect must contain multitask's backbone op for op: same node names, op
    types, attributes and activation inputs, and byte-identical weights (torch names the folded
    Conv+BN initializers onnx::Conv_<n>, with n differing between files). Returns a summary."""
    mt = protos["multitask"]
    mt_nodes = {n.name: n for n in mt.graph.node}
    mt_init = {t.name: t for t in mt.graph.initializer}
    summary = []
    for name in ("classify", "segment", "detect"):
        p = protos[name]
        init = {t.name: t for t in p.graph.initializer}
        shared = [n for n in p.graph.node if n.name.startswith("/features.")]
        weights = 0
        for n in shared:
            o = mt_nodes.get(n.name)
            assert o is not None and o.op_type == n.op_type and o.attribute == n.attribute, \
                f"{name}: backbone node {n.name} differs from multitask"
            assert len(o.input) == len(n.input), n.name
            for a, b in zip(n.input, o.input):
                if a in init:
                    assert b in mt_init and init[a].dims == mt_init[b].dims and \
                        init[a].raw_data == mt_init[b].raw_data, f"{name}: weight {a} of {n.name}"
                    weights += len(init[a].raw_data)
                else:
                    assert a == b, f"{name}: input {a} of {n.name} differs from multitask ({b})"
        last = max(int(n.name.split("/")[1].split(".")[1]) for n in shared)
        summary.append(f"{name}: features[0:{last + 1}], {len(shared)} nodes, "
                       f"{weights} weight bytes identical to multitask")
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--only", help="comma-separated model names (default: all)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    os.makedirs(args.outdir, exist_ok=True)
    manifest = {"generator": "scripts/onnx_models/make_models.py",
                "torch": torch.__version__, "torchvision": torchvision.__version__,
                "onnx": onnx.__version__, "seed": SEED, "models": {}}
    start = time.time()
    protos = {}
    for name, description, proto, opset in build_all(only):
        protos[name] = proto
        onnx.checker.check_model(proto, full_check=True)
        data = proto.SerializeToString()
        path = os.path.join(args.outdir, name + ".onnx")
        with open(path, "wb") as f:
            f.write(data)
        digest = hashlib.sha256(data).hexdigest()
        manifest["models"][name] = {
            "file": name + ".onnx", "description": description, "opset": opset,
            "bytes": len(data), "sha256": digest,
            "inputs": shapes_of(proto.graph.input),
            "outputs": shapes_of(proto.graph.output),
            "initializers": len(proto.graph.initializer),
            "ops": op_histogram(proto),
        }
        print(f"{name:22s} opset {opset:2d} {len(data):9d} bytes sha256 {digest}", flush=True)
        if name == "unsupported":
            lines = []
            for op in UNSUPPORTED_OPS:
                nodes = [n.name for n in proto.graph.node if n.op_type == op]
                lines.append(f"{op} {len(nodes)} {nodes[0]}\n")
            with open(os.path.join(args.outdir, "unsupported.txt"), "w") as f:
                f.writelines(lines)
    if all(n in protos for n in ("multitask", "classify", "segment", "detect")):
        for line in check_shared_backbone(protos):
            print("shared backbone check: " + line)
    if only is None:
        with open(os.path.join(args.outdir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
    print(f"generated {len(manifest['models'])} models in {time.time() - start:.1f} s "
          f"(torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__})")


if __name__ == "__main__":
    sys.exit(main())
