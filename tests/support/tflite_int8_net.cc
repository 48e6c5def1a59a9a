#include "support/tflite_int8_net.h"

#include <string>

#include "converters/tflite/tflite_ops.h"
#include "support/tflite_builder.h"

namespace polyhead::testing {

namespace tfl = polyhead::tflite;

Int8Net::Int8Net(bool dequantize_taps, bool same_concat_params) {
  if (same_concat_params) {
    avg_scale = cat_scale = kSumScale;
    avg_zp = cat_zp = kSumZp;
  }
  for (int c = 0; c < O; ++c) conv_ws.push_back(0.0015f * static_cast<float>(c + 1));
  for (int c = 0; c < O; ++c) dw_ws.push_back(0.004f + 0.001f * static_cast<float>(c));
  for (int c = 0; c < K; ++c) fc_ws.push_back(0.003f + 0.0005f * static_cast<float>(c));
  conv_w = random_i8(static_cast<size_t>(O * 3 * 3 * C), 1);
  dw_w = random_i8(static_cast<size_t>(3 * 3 * O), 2);
  fc_w = random_i8(static_cast<size_t>(K * 2 * O), 3);
  conv_b = random_i32(O, 4, -2000, 2000);
  dw_b = random_i32(O, 5, -2000, 2000);
  fc_b = random_i32(K, 6, -1000, 1000);

  TfliteWriter w;
  auto scales = [](const std::vector<float>& a, float s) {
    std::vector<float> r;
    for (float v : a) r.push_back(v * s);
    return r;
  };
  auto per_channel = [](const std::vector<float>& s, int dim) {
    return TfQuant{s, std::vector<int64_t>(s.size(), 0), dim};
  };
  const int in = w.f32("image", {1, H, W, C});
  const int q_in = w.i8("image_q", {1, H, W, C}, kInScale, kInZp);
  w.op(tfl::kQuantize, {in}, {q_in}, {}, kOptNone);
  const int cw = w.const_i8("conv_w", {O, 3, 3, C}, conv_w, per_channel(conv_ws, 0));
  const int cb = w.const_i32("conv_b", {O}, conv_b, per_channel(scales(conv_ws, kInScale), 0));
  const int conv = w.i8("conv", {1, H, W, O}, kConvScale, kConvZp);
  w.op(tfl::kConv2D, {q_in, cw, cb}, {conv}, conv_options(kSame, 1, kActRelu), kOptConv);
  const int dww = w.const_i8("dw_w", {1, 3, 3, O}, dw_w, per_channel(dw_ws, 3));
  const int dwb = w.const_i32("dw_b", {O}, dw_b, per_channel(scales(dw_ws, kConvScale), 0));
  const int dw = w.i8("dw", {1, H, W, O}, kDwScale, kDwZp);
  w.op(tfl::kDepthwiseConv2D, {conv, dww, dwb}, {dw}, depthwise_options(kSame, 1, 1, kActRelu6),
       kOptDepthwise);
  const int sum = w.i8("sum", {1, H, W, O}, kSumScale, kSumZp);
  w.op(tfl::kAdd, {conv, dw}, {sum}, {TfField::byte(0, kActNone)}, kOptAdd);
  const int pool = w.i8("pool", {1, 3, 3, O}, kSumScale, kSumZp);
  w.op(tfl::kMaxPool2D, {sum}, {pool}, pool_options(kValid, 2, 2), kOptPool);
  const int avg = w.i8("avg", {1, 3, 3, O}, avg_scale, avg_zp);
  w.op(tfl::kAveragePool2D, {pool}, {avg}, pool_options(kSame, 1, 3), kOptPool);
  const int cat = w.i8("cat", {1, 3, 3, 2 * O}, cat_scale, cat_zp);
  w.op(tfl::kConcatenation, {pool, avg}, {cat}, {TfField::i32(0, 3), TfField::byte(1, kActNone)},
       kOptConcat);
  const int axes = w.const_i32("axes", {2}, {1, 2});
  const int gap = w.i8("gap", {1, 2 * O}, kGapScale, kGapZp);
  w.op(tfl::kMean, {cat, axes}, {gap}, {TfField::boolean(0, false)}, kOptReducer);
  const int fw = w.const_i8("fc_w", {K, 2 * O}, fc_w, per_channel(fc_ws, 0));
  const int fb = w.const_i32("fc_b", {K}, fc_b, per_channel(scales(fc_ws, kGapScale), 0));
  const int fc = w.i8("logits", {1, K}, kFcScale, kFcZp);
  w.op(tfl::kFullyConnected, {gap, fw, fb}, {fc}, {TfField::byte(0, kActNone)}, kOptFc);
  const int sig = w.i8("gate", {1, K}, kSigScale, kSigZp);
  w.op(tfl::kLogistic, {fc}, {sig}, {}, kOptNone);
  const int probs = w.i8("probs_q", {1, K}, kProbScale, kProbZp);
  w.op(tfl::kSoftmax, {fc}, {probs}, {TfField::f32(0, 1.f)}, kOptSoftmax);
  const int out = w.f32("probs", {1, K});
  w.op(tfl::kDequantize, {probs}, {out}, {}, kOptNone);
  w.inputs({in});
  std::vector<int32_t> outputs = {out};
  for (int t : {q_in, conv, dw, sum, pool, avg, cat, gap, fc, sig}) {
    if (dequantize_taps) {
      // The tap is named after the int8 tensor; the int8 tensor gets a suffix.
      const std::string name = w.at(t).name;
      w.at(t).name = name + "_q8";
      const int f = w.f32(name, w.at(t).shape);
      w.op(tfl::kDequantize, {t}, {f}, {}, kOptNone);
      outputs.push_back(f);
    } else {
      outputs.push_back(t);
    }
  }
  w.outputs(outputs);
  tflite = w.finish();
}

}  // namespace polyhead::testing
