// `polyhead quantize` as a library (tools/quantize): the range methods on data with known answers,
// the weight and bias quantization, the int8 rewrite of small ModelBuilder models (Q/DQ placement,
// shared-quantization operators, dropped float weights, the file loads), calibration and its
// errors, and the --auto selection loop with a scripted evaluator.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "offline/graph/source_graph.h"
#include "offline/quantize/activation_ranges.h"
#include "offline/quantize/auto_selection.h"
#include "offline/quantize/calibration.h"
#include "offline/quantize/int8_support.h"
#include "offline/quantize/model_writer.h"
#include "offline/quantize/quantized_writer.h"
#include "offline/quantize/quantizer.h"
#include "offline/quantize/sensitivity.h"
#include "offline/quantize/weight_quantizer.h"
#include "polyhead/engine.h"
#include "polyhead/format_version.h"
#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/phm_writer.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_files.h"
#include "support/test_models.h"

using namespace polyhead;
using namespace polyhead::quantize;
using polyhead::testing::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

template <typename T>
T must(Result<T> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return std::move(*r);
}

// 10000 values spread evenly over [-1, 1] and one outlier at 100.
std::vector<float> with_outlier() {
  std::vector<float> v;
  for (int i = 0; i < 10000; ++i) v.push_back(-1.f + 2.f * static_cast<float>(i) / 9999.f);
  v.push_back(100.f);
  return v;
}

// A small image model:
//   image [1,8,8,3] -> c1 conv3x3+relu [1,8,8,4] -> pool max2x2 [1,4,4,4] -> c2 conv1x1 [1,4,4,4]
//   c2 -> add (+ constant k) -> mean [1,4] -> softmax         task "classify" (classification)
//   pool -> c3 conv1x1 [1,4,4,2]                             task "side" (other)
//   c2                                                       task "features" (other)
std::vector<uint8_t> small_model(int channels = 3) {
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 8;
  pre.pixel_scale = 1.f;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  const int image = b.add_input("image", Shape{1, 8, 8, channels}, pre);
  uint32_t seed = 7;
  auto constant = [&](const std::string& name, const Shape& shape, float scale) {
    return b.add_constant(
        name, shape,
        polyhead::testing::random_values(static_cast<size_t>(shape.elements()), seed++, scale));
  };
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu();
  const int c1 = must(b.conv2d("c1", image, constant("c1.w", Shape{4, 3, 3, channels}, 0.5f),
                               constant("c1.b", Shape{4}, 0.1f), c));
  Pool2DParams p;
  p.filter_h = p.filter_w = p.stride_h = p.stride_w = 2;
  const int pool = must(b.pool2d("pool", PoolOp::kMax, c1, p));
  const int c2 = must(b.conv2d("c2", pool, constant("c2.w", Shape{4, 1, 1, 4}, 1.f),
                               constant("c2.b", Shape{4}, 0.1f), {}));
  const int add = must(b.binary("add", BinaryOp::kAdd, c2, constant("k", Shape{4}, 1.f)));
  const int mean = must(b.mean("mean", add, false));
  const int soft = must(b.softmax("softmax", mean));
  const int c3 = must(b.conv2d("c3", pool, constant("c3.w", Shape{2, 1, 1, 4}, 1.f), -1, {}));
  auto ok = [](const Status& st) {
    if (!st.is_ok()) FAIL(st.to_string());
  };
  ok(b.add_task("classify", TaskKind::kClassification, {{"probs", soft}}));
  ok(b.add_task("side", TaskKind::kOther, {{"out", c3}}));
  ok(b.add_task("features", TaskKind::kOther, {{"c2", c2}}));
  b.add_metadata("license", "test");
  auto bytes = b.finish();
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  return *bytes;
}

Model load(const std::vector<uint8_t>& bytes) {
  auto m = Model::from_bytes(bytes);
  if (!m.is_ok()) FAIL(m.status().to_string());
  return *m;
}

merge::SourceGraph graph(const Model& m) {
  auto g = merge::read_source_graph(m, "model");
  if (!g.is_ok()) FAIL(g.status().to_string());
  return *g;
}

std::vector<std::string> write_photos(const TempDir& dir, int count = 3) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    cv::Mat img(30 + 10 * i, 40 - 5 * i, CV_8UC3, cv::Scalar(30 * i, 90, 200 - 40 * i));
    cv::rectangle(img, cv::Rect(3 + i, 4, 12, 10), cv::Scalar(250, 20 * i, 10), cv::FILLED);
    cv::circle(img, cv::Point(20, 12 + 3 * i), 6, cv::Scalar(0, 255, 120), cv::FILLED);
    paths.push_back(dir / ("photo" + std::to_string(i) + ".png"));
    REQUIRE(cv::imwrite(paths.back(), img));
  }
  return paths;
}

// Ranges that make every tensor [-2, 6] (inputs and activations alike).
std::vector<Range> flat_ranges(const merge::SourceGraph& g) {
  return std::vector<Range>(g.root->tensors()->size(), Range{-2.f, 6.f});
}

// The written model read back: tensors by name, nodes by op.
struct Written {
  std::vector<uint8_t> bytes;
  const schema::Model* root = nullptr;

  const schema::Tensor* tensor(const std::string& name) const {
    for (const schema::Tensor* t : *root->tensors())
      if (t->name()->str() == name) return t;
    return nullptr;
  }
  const schema::Node* node(const std::string& name) const {
    for (const schema::Node* n : *root->nodes())
      if (n->name()->str() == name) return n;
    return nullptr;
  }
  const schema::Tensor* at(int t) const { return root->tensors()->Get(static_cast<unsigned>(t)); }
  size_t count(schema::OpKind op) const {
    size_t n = 0;
    for (const schema::Node* node : *root->nodes()) n += node->op() == op ? 1 : 0;
    return n;
  }
};

Written rewrite(const Model& m, const std::set<std::string>& float_nodes,
                const RewriteOptions& o = {}) {
  const merge::SourceGraph g = graph(m);
  std::vector<bool> int8(g.root->nodes()->size());
  for (size_t n = 0; n < int8.size(); ++n)
    int8[n] = can_run_int8(g, static_cast<int>(n)) &&
              !float_nodes.count(g.node_name(static_cast<int>(n)));
  auto edited = rewrite_int8(g, int8, flat_ranges(g), o);
  if (!edited.is_ok()) FAIL(edited.status().to_string());
  auto bytes = write_model(*edited);
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  Written w;
  w.bytes = *bytes;
  auto loaded = Model::from_bytes(w.bytes);  // verifies and validates the file
  if (!loaded.is_ok()) FAIL(loaded.status().to_string());
  w.root = schema::GetModel(w.bytes.data());
  return w;
}

}  // namespace

TEST_CASE("quantize: minmax keeps an outlier, percentile and entropy clip it", "[quantize]") {
  const std::vector<float> v = with_outlier();
  RangeObserver o;
  o.observe(v.data(), 5000);  // two batches: the histogram grows when the outlier arrives
  o.observe(v.data() + 5000, v.size() - 5000);
  CHECK(o.count() == v.size());
  CHECK(o.min() == -1.f);
  CHECK(o.max() == 100.f);

  const Range minmax = choose_range(o, RangeMethod::kMinMax, 0);
  CHECK(minmax.min == -1.f);
  CHECK(minmax.max == 100.f);
  const Range pct = choose_range(o, RangeMethod::kPercentile, 99.9);
  CHECK(pct.min == -1.f);
  CHECK(pct.max >= 1.f);
  CHECK(pct.max < 1.1f);  // the 99.9th percentile of |x| is within a bin or two of 1
  const Range entropy = choose_range(o, RangeMethod::kEntropy, 0);
  CHECK(entropy.min == -1.f);
  CHECK(entropy.max >= 1.f);
  CHECK(entropy.max < 10.f);  // far below the outlier (at least 128 of 2048 bins are kept)
}

TEST_CASE("quantize: histogram growth merges bins exactly", "[quantize]") {
  RangeObserver o;
  const float a[] = {0.f, 0.25f, 0.5f, 1.f};
  o.observe(a, 4);
  CHECK(o.bin_width() == Approx(1.0 / 2048));
  const float b[] = {3.f};
  o.observe(b, 1);  // the limit grows by a whole factor (3) and neighbouring bins merge
  CHECK(o.bin_width() == Approx(3.0 / 2048));
  double total = 0;
  for (double h : o.histogram()) total += h;
  CHECK(total == 5);
  CHECK(o.histogram()[0] == 1);     // the zero
  CHECK(o.histogram()[2047] == 1);  // the 3
  CHECK(percentile_threshold(o.histogram(), o.bin_width(), 100) == Approx(3.0));
}

TEST_CASE("quantize: entropy keeps the whole range of a clean distribution", "[quantize]") {
  // Values spread evenly over [0, 1]: clipping anything loses information.
  std::vector<float> v;
  for (int i = 0; i <= 20000; ++i) v.push_back(static_cast<float>(i) / 20000.f);
  RangeObserver o;
  o.observe(v.data(), v.size());
  const Range r = choose_range(o, RangeMethod::kEntropy, 0);
  CHECK(r.min == 0.f);
  CHECK(r.max > 0.9f);
}

TEST_CASE("quantize: asymmetric activation parameters", "[quantize]") {
  const AffineParams a = affine_params({-1.f, 3.f});
  CHECK(a.scale == Approx(4.0 / 255));
  CHECK(a.zero_point == -64);  // round(-128 + 1 / (4 / 255)) = round(-64.25)
  const AffineParams relu6 = affine_params({0.f, 6.f});
  CHECK(relu6.scale == Approx(6.0 / 255));
  CHECK(relu6.zero_point == -128);
  const AffineParams positive = affine_params({2.f, 4.f});  // widened to include 0
  CHECK(positive.scale == Approx(4.0 / 255));
  CHECK(positive.zero_point == -128);
  const AffineParams negative = affine_params({-5.f, -1.f});
  CHECK(negative.scale == Approx(5.0 / 255));
  CHECK(negative.zero_point == 127);
  const AffineParams zero = affine_params({0.f, 0.f});
  CHECK(zero.scale > 0.f);
  CHECK(zero.zero_point >= -128);
  CHECK(zero.zero_point <= 127);
}

TEST_CASE("quantize: per-channel weights and int32 bias", "[quantize]") {
  // Two output channels of three weights; the second channel is all zeros.
  const std::vector<float> w = {1.f, -2.f, 0.5f, 0.f, 0.f, 0.f};
  const std::vector<float> bias = {0.1f, 0.2f};
  const QuantizedWeights q = quantize_weights(w.data(), 2, 3, bias.data(), 0.5f, false);
  REQUIRE(q.scales.size() == 2);
  CHECK(q.scales[0] == Approx(2.0 / 127));
  CHECK(q.scales[1] > 0.f);  // a tiny positive scale, never 0
  CHECK(q.scales[1] < 1e-3f);
  CHECK(q.values == std::vector<int8_t>{64, -127, 32, 0, 0, 0});  // 63.5 and 31.75 round up
  REQUIRE(q.bias.size() == 2);
  CHECK(q.bias_scales[0] == Approx(0.5 * 2.0 / 127));
  CHECK(q.bias[0] == 13);  // 0.1 / (0.5 * 2 / 127) = 12.7
  CHECK(q.bias_scales[1] == Approx(0.5 * q.scales[1]));
  CHECK(q.bias[1] == static_cast<int32_t>(std::lround(0.2 / (0.5 * q.scales[1]))));
  CHECK(q.saturated_bias == 0);

  const QuantizedWeights t = quantize_weights(w.data(), 2, 3, bias.data(), 0.5f, true);
  REQUIRE(t.scales.size() == 1);
  CHECK(t.scales[0] == Approx(2.0 / 127));
  CHECK(t.values == std::vector<int8_t>{64, -127, 32, 0, 0, 0});
  CHECK(t.bias == std::vector<int32_t>{13, 25});  // 0.2 / (0.5 * 2 / 127) = 25.4

  // A zero channel with a large bias: the scale rises so the bias still fits int32.
  const float big_bias[] = {0.f, 1e6f};
  const QuantizedWeights z = quantize_weights(w.data(), 2, 3, big_bias, 1e-3f, false);
  CHECK(z.saturated_bias == 0);
  CHECK(std::fabs(static_cast<double>(z.bias[1]) * z.bias_scales[1] - 1e6) < 1e6 * 1e-6);
}

TEST_CASE("quantize: half weight scales round to nearest, keep |q| <= 127, fall back as a whole",
          "[quantize]") {
  // Channel 0's scale 2/127 is no half; channel 1 is all zeros; channel 2's largest weight makes
  // its scale (127/128) / 127 = 2^-7, a half already.
  const std::vector<float> w = {1.f, -2.f, 0.5f, 0.f, 0.f, 0.f, 0.25f, 0.9921875f, -0.5f};
  const std::vector<float> bias = {0.1f, 0.2f, -0.3f};
  const QuantizedWeights f = quantize_weights(w.data(), 3, 3, bias.data(), 0.5f, false, false);
  const QuantizedWeights h = quantize_weights(w.data(), 3, 3, bias.data(), 0.5f, false, true);
  REQUIRE(h.scales.size() == 3);
  for (size_t c = 0; c < 3; ++c) {
    INFO("channel " << c);
    CHECK(polyhead::internal::exact_half(h.scales[c]).has_value());
    if (c != 1) CHECK(std::fabs(h.scales[c] - f.scales[c]) <= f.scales[c] / 2048.f);
    CHECK(h.bias_scales[c] == 0.5f * h.scales[c]);
  }
  CHECK(h.scales[1] == 1.f / 16384.f);  // a zero channel takes the smallest normal half
  CHECK(h.scales[2] == f.scales[2]);
  // The largest weight quantizes to 127 (clamped when the scale was rounded down), never beyond.
  for (int8_t v : h.values) CHECK(std::abs(static_cast<int>(v)) <= 127);
  CHECK(h.values[1] == -127);
  // A channel whose scale lies below the normal half range keeps every scale of the tensor float.
  const std::vector<float> tiny = {1.f, -2.f, 0.5f, 1e-4f, 0.f, 0.f};
  const QuantizedWeights t = quantize_weights(tiny.data(), 2, 3, nullptr, 0.5f, false, true);
  const QuantizedWeights tf = quantize_weights(tiny.data(), 2, 3, nullptr, 0.5f, false, false);
  CHECK(t.scales == tf.scales);
  // Per tensor: one float scale, never rounded.
  const QuantizedWeights p = quantize_weights(w.data(), 3, 3, bias.data(), 0.5f, true, true);
  CHECK(p.scales[0] == 2.f / 127.f);
}

TEST_CASE("quantize: constant operands are int8 per tensor", "[quantize]") {
  const std::vector<float> v = {-1.f, 0.f, 0.5f, 3.f};
  const QuantizedConstant q = quantize_constant(v.data(), v.size());
  CHECK(q.params.scale == Approx(4.0 / 255));
  CHECK(q.params.zero_point == -64);
  for (size_t i = 0; i < v.size(); ++i)
    CHECK(q.params.scale * (q.values[i] - q.params.zero_point) ==
          Approx(v[i]).margin(q.params.scale / 2));
}

TEST_CASE("quantize: which operators run in int8", "[quantize]") {
  using schema::OpKind;
  for (OpKind op :
       {OpKind::CONV_2D, OpKind::FULLY_CONNECTED, OpKind::ADD, OpKind::MEAN, OpKind::MAX_POOL_2D,
        OpKind::RESIZE, OpKind::CONCATENATION, OpKind::HARD_SWISH, OpKind::TRANSPOSE_CONV_2D})
    CHECK(has_int8_kernel(op));
  CHECK(has_channel_weights(OpKind::TRANSPOSE_CONV_2D));
  for (OpKind op : {OpKind::SOFTMAX, OpKind::DIV, OpKind::PRELU}) CHECK_FALSE(has_int8_kernel(op));
  for (OpKind op : {OpKind::MAX_POOL_2D, OpKind::RESIZE, OpKind::RESHAPE, OpKind::TRANSPOSE,
                    OpKind::DEPTH_TO_SPACE, OpKind::PAD})
    CHECK(shares_input_quantization(op));
  CHECK_FALSE(shares_input_quantization(OpKind::AVERAGE_POOL_2D));
  CHECK_FALSE(shares_input_quantization(OpKind::CONCATENATION));
}

TEST_CASE("quantize: int8 rewrite places QUANTIZE and DEQUANTIZE at the boundaries", "[quantize]") {
  const std::vector<uint8_t> fp32 = small_model();
  const Model m = load(fp32);
  const Written w = rewrite(m, {});
  CHECK(w.root->format_version_major() == 1);
  CHECK(w.root->format_version_minor() == kNarrowConstantsSinceMinor);  // int16-stored biases

  // One QUANTIZE (the image), DEQUANTIZE before the float softmax and for the two int8 task
  // outputs (c2 also feeds the int8 add: it keeps its I8 tensor and gets one float copy).
  CHECK(w.count(schema::OpKind::QUANTIZE) == 1);
  CHECK(w.count(schema::OpKind::DEQUANTIZE) == 3);
  CHECK(w.node("softmax")->op() == schema::OpKind::SOFTMAX);

  // Inputs and task outputs stay F32 under their names.
  const schema::Tensor* image = w.at(w.root->inputs()->Get(0)->tensor());
  CHECK(image->name()->str() == "image");
  CHECK(image->type() == schema::ElementType::F32);
  for (const schema::Task* t : *w.root->tasks())
    for (const schema::TaskOutput* o : *t->outputs())
      CHECK(w.at(o->tensor())->type() == schema::ElementType::F32);
  CHECK(w.at(w.root->tasks()->Get(2)->outputs()->Get(0)->tensor())->name()->str() == "c2");

  // Activations between int8 nodes are I8 per tensor; max pooling shares c1's parameters.
  const schema::Node* c1 = w.node("c1");
  const schema::Node* pool = w.node("pool");
  const schema::Tensor* c1_out = w.at(c1->outputs()->Get(0));
  const schema::Tensor* pool_out = w.at(pool->outputs()->Get(0));
  CHECK(c1_out->type() == schema::ElementType::I8);
  CHECK(pool_out->type() == schema::ElementType::I8);
  REQUIRE(c1_out->quantization());
  CHECK(c1_out->quantization()->axis() == -1);
  // relu fused into c1: the range [-2, 6] becomes [0, 6].
  CHECK(c1_out->quantization()->scale()->Get(0) == Approx(6.0 / 255));
  CHECK(c1_out->quantization()->zero_point()->Get(0) == -128);
  CHECK(pool_out->quantization()->scale()->Get(0) == c1_out->quantization()->scale()->Get(0));
  CHECK(pool_out->quantization()->zero_point()->Get(0) ==
        c1_out->quantization()->zero_point()->Get(0));

  // Weights I8 per output channel (axis 0, zero points 0), bias I32 at input × weight scale.
  const schema::Tensor* input = w.at(c1->inputs()->Get(0));
  const schema::Tensor* weights = w.at(c1->inputs()->Get(1));
  const schema::Tensor* bias = w.at(c1->inputs()->Get(2));
  CHECK(input->type() == schema::ElementType::I8);
  CHECK(weights->type() == schema::ElementType::I8);
  CHECK(weights->quantization()->axis() == 0);
  CHECK(weights->quantization()->scale()->size() == 4);
  CHECK(weights->quantization()->zero_point() == nullptr);  // absent: all 0
  CHECK(bias->type() == schema::ElementType::I32);
  REQUIRE(bias->quantization()->scale()->size() == 4);
  for (unsigned c = 0; c < 4; ++c)
    CHECK(bias->quantization()->scale()->Get(c) ==
          Approx(input->quantization()->scale()->Get(0) * weights->quantization()->scale()->Get(c))
              .epsilon(1e-6));
  // The add's constant operand is I8 per tensor.
  const schema::Tensor* k = w.at(w.node("add")->inputs()->Get(1));
  CHECK(k->type() == schema::ElementType::I8);
  CHECK(k->quantization()->axis() == -1);

  // No float constant is left: every weight is I8 or I32, and the constants shrank (this model
  // is too small for the file to: its graph outweighs its weights).
  auto constant_bytes = [](const schema::Model& root) {
    uint64_t sum = 0;
    if (root.buffers())
      for (const schema::BufferRef* b : *root.buffers()) sum += b->size();
    return sum;
  };
  for (const schema::Tensor* t : *w.root->tensors())
    if (t->buffer() != 0) CHECK(t->type() != schema::ElementType::F32);
  CHECK(constant_bytes(*w.root) < constant_bytes(*schema::GetModel(fp32.data())) / 3);
  // Metadata is kept.
  REQUIRE(w.root->metadata());
  CHECK(w.root->metadata()->Get(0)->key()->str() == "license");
}

TEST_CASE("quantize: float nodes between int8 ones share one converted copy per tensor",
          "[quantize]") {
  const Model m = load(small_model());
  // c3 (float) and c2 (int8) both read pool's output; mean (float) reads add's (int8).
  const Written w = rewrite(m, {"c3", "mean"});
  std::map<int, int> converters;  // tensor -> QUANTIZE/DEQUANTIZE nodes reading it
  for (const schema::Node* n : *w.root->nodes())
    if (n->op() == schema::OpKind::QUANTIZE || n->op() == schema::OpKind::DEQUANTIZE)
      ++converters[n->inputs()->Get(0)];
  for (const auto& [tensor, count] : converters) CHECK(count == 1);
  const schema::Node* c3 = w.node("c3");
  const schema::Node* c2 = w.node("c2");
  const schema::Tensor* c3_in = w.at(c3->inputs()->Get(0));
  const schema::Tensor* c2_in = w.at(c2->inputs()->Get(0));
  CHECK(c3_in->type() == schema::ElementType::F32);  // the dequantized copy of pool's output
  CHECK(c2_in->type() == schema::ElementType::I8);
  CHECK(w.at(c3->inputs()->Get(1))->type() == schema::ElementType::F32);  // float weights kept
  CHECK(w.at(w.node("mean")->inputs()->Get(0))->type() == schema::ElementType::F32);

  // Keeping the first convolution float: its output is quantized once, for the pool.
  const Written first = rewrite(m, {"c1"});
  CHECK(first.count(schema::OpKind::QUANTIZE) == 1);
  CHECK(w.at(w.node("c1")->outputs()->Get(0))->type() == schema::ElementType::I8);
  CHECK(first.at(first.node("c1")->outputs()->Get(0))->type() == schema::ElementType::F32);
}

TEST_CASE("quantize: tensors that only pass through a sigmoid are clipped to [-8, 8]",
          "[quantize]") {
  // image -> conv a -> sigmoid (graph); image -> conv b -> reshape -> task "det" output "scores"
  // (post-processing sigmoid); conv b also -> task "raw" output (read raw: not clipped).
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 4;
  const int image = b.add_input("image", Shape{1, 4, 4, 3}, pre);
  uint32_t seed = 1;
  auto w = [&](const std::string& name) {
    return b.add_constant(name, Shape{2, 1, 1, 3}, polyhead::testing::random_values(6, seed++));
  };
  const int a = must(b.conv2d("a", image, w("a.w"), -1, {}));
  const int sig = must(b.unary("sig", UnaryOp::kSigmoid, a));
  const int c = must(b.conv2d("c", image, w("c.w"), -1, {}));
  const int flat = must(b.reshape("flat", c, Shape{1, 32, 1}));
  const int d = must(b.conv2d("d", image, w("d.w"), -1, {}));
  PostProcessParams post;
  post.activation = OutputActivation::kSigmoid;
  REQUIRE(b.add_task("mask", TaskKind::kOther, {{"p", sig}}).is_ok());
  REQUIRE(b.add_task("det", TaskKind::kDetection, {{"scores", flat}}, post).is_ok());
  REQUIRE(b.add_task("raw", TaskKind::kDetection, {{"scores", d}}).is_ok());  // no sigmoid
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  const Model m = load(*bytes);
  const merge::SourceGraph g = graph(m);
  std::vector<bool> int8(g.root->nodes()->size());
  for (size_t n = 0; n < int8.size(); ++n) int8[n] = can_run_int8(g, static_cast<int>(n));
  const std::vector<Range> wide(g.root->tensors()->size(), Range{-100.f, 100.f});
  auto edited = rewrite_int8(g, int8, wide, {});
  REQUIRE(edited.is_ok());
  auto scale_of = [&](const std::string& name) {
    for (const EditTensor& t : edited->tensors)
      if (t.name == name && t.type == schema::ElementType::I8) return t.scales.at(0);
    FAIL("no I8 tensor " << name);
    return 0.f;
  };
  CHECK(scale_of("a") == Approx(16.0 / 255));            // read by the sigmoid only
  CHECK(scale_of("c") == Approx(16.0 / 255));            // reshaped into detection scores
  CHECK(scale_of("flat/int8") == Approx(16.0 / 255));    // I8 copy of a task output
  CHECK(scale_of("d/int8") == Approx(200.0 / 255));      // a task output read raw
  CHECK(scale_of("image/int8") == Approx(200.0 / 255));  // read by convolutions
}

TEST_CASE("quantize: per-tensor weights have one scale", "[quantize]") {
  const Model m = load(small_model());
  RewriteOptions o;
  o.per_tensor_weights = true;
  const Written w = rewrite(m, {}, o);
  const schema::Tensor* weights = w.at(w.node("c1")->inputs()->Get(1));
  CHECK(weights->quantization()->axis() == -1);
  CHECK(weights->quantization()->scale()->size() == 1);
  CHECK(w.at(w.node("c1")->inputs()->Get(2))->quantization()->scale()->size() == 4);
}

TEST_CASE("quantize: the calibration copy exposes every float activation", "[quantize]") {
  const Model m = load(small_model());
  const merge::SourceGraph g = graph(m);
  auto c = build_calibration_model(g);
  REQUIRE(c.is_ok());
  const Model copy = load(c->bytes);
  CHECK(copy.tasks().size() == m.tasks().size() + 1);
  const TaskInfo& task = copy.tasks().back();
  CHECK(task.name == kCalibrationTask);
  CHECK(task.outputs.size() == g.root->nodes()->size());
}

TEST_CASE("quantize: calibration observes the pre-processed input and the activations",
          "[quantize]") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  const Model m = load(small_model());
  const merge::SourceGraph g = graph(m);
  size_t calls = 0;
  CalibrationOptions o;
  o.progress = [&](size_t done, size_t total) {
    ++calls;
    CHECK(done <= total);
  };
  auto observers = calibrate(m, g, photos, o);
  REQUIRE(observers.is_ok());
  CHECK(calls == photos.size());
  const RangeObserver& input =
      (*observers)[static_cast<size_t>(g.root->inputs()->Get(0)->tensor())];
  // Pixels in [0, 1] normalised by (p - 0.5) / 0.25 lie in [-2, 2].
  CHECK(input.count() == 3u * 8 * 8 * 3);
  CHECK(input.min() >= -2.f);
  CHECK(input.max() <= 2.f);
  CHECK(input.max() > 1.f);
  // c1 has a fused relu: never negative.
  const int c1 = g.node(0).outputs()->Get(0);
  CHECK((*observers)[static_cast<size_t>(c1)].min() >= 0.f);
  CHECK((*observers)[static_cast<size_t>(c1)].count() == 3u * 8 * 8 * 4);
}

TEST_CASE("quantize: quantize_model writes a loadable int8 model", "[quantize]") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  const std::vector<uint8_t> fp32 = small_model();
  const Model m = load(fp32);
  QuantizeOptions o;
  o.method = RangeMethod::kEntropy;
  o.keep_float = {"c3"};
  auto r = quantize_model(m, photos, o);
  REQUIRE(r.is_ok());
  const Model q = load(r->bytes);
  // Per-channel weight scales as halves (the default) need format 1.8.
  CHECK(q.format_version_minor() == kHalfScalesSinceMinor);
  CHECK(q.metadata("quantization.weight_scales") == "half");
  o.half_weight_scales = false;
  auto exact = quantize_model(m, photos, o);
  REQUIRE(exact.is_ok());
  auto stores_halves = [](const std::vector<uint8_t>& bytes) {
    for (const schema::Tensor* t : *schema::GetModel(bytes.data())->tensors())
      if (t->quantization() && t->quantization()->scale_f16()) return true;
    return false;
  };
  CHECK(stores_halves(r->bytes));
  CHECK_FALSE(stores_halves(exact->bytes));
  CHECK(load(exact->bytes).metadata("quantization.weight_scales") == "float");
  CHECK(q.metadata("quantization.method") == "entropy");
  CHECK(q.metadata("quantization.calibration_images") == "3");
  CHECK(q.metadata("license") == "test");
  CHECK(r->report.stats.int8_nodes == 4);   // pool, c2, add, mean
  CHECK(r->report.stats.float_nodes == 3);  // softmax (float only), c3 (--keep-float), c1 (stem)
  CHECK(r->report.output_bytes == r->bytes.size());
  CHECK(r->report.input_bytes == fp32.size());
  std::map<std::string, std::string> reasons;
  for (const NodeChoice& c : r->report.nodes)
    if (!c.int8) reasons[c.node] = c.reason;
  CHECK(reasons["softmax"] == "float-only operator");
  CHECK(reasons["c3"] == "--keep-float");
  CHECK(reasons["c1"] == "stem (--int8-stem quantizes it)");  // it reads the 3-channel image
  // With --int8-stem the stem runs in int8 too.
  o.int8_stem = true;
  auto with_stem = quantize_model(m, photos, o);
  REQUIRE(with_stem.is_ok());
  CHECK(with_stem->report.stats.int8_nodes == 5);
  CHECK(with_stem->report.stats.float_nodes == 2);
  // The same task names and outputs, so Plan::output and compare work on it unchanged.
  REQUIRE(q.tasks().size() == m.tasks().size());
  for (size_t i = 0; i < m.tasks().size(); ++i) {
    CHECK(q.tasks()[i].name == m.tasks()[i].name);
    CHECK(q.tasks()[i].outputs[0].type == ElementType::kF32);
  }
}

TEST_CASE("quantize: a stem behind an explicit PAD of the image stays float with its PAD",
          "[quantize]") {
  // image -> pad -> stem conv 3x3 s1 (valid) -> c2 conv1x1: pose landmarks' layout. Without
  // --int8-stem the PAD and the stem stay float (no QUANTIZE of the photo for a float stem);
  // with it, both run in int8.
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 8;
  pre.pixel_scale = 1.f;
  const int image = b.add_input("image", Shape{1, 8, 8, 3}, pre);
  uint32_t seed = 11;
  auto constant = [&](const std::string& name, const Shape& shape) {
    return b.add_constant(
        name, shape,
        polyhead::testing::random_values(static_cast<size_t>(shape.elements()), seed++, 0.5f));
  };
  const int pad = must(b.pad("pad", image, {0, 1, 1, 0}, {0, 1, 1, 0}));
  Conv2DParams c;
  c.activation = Activation::relu();
  const int stem = must(b.conv2d("stem", pad, constant("stem.w", Shape{4, 3, 3, 3}),
                                 constant("stem.b", Shape{4}), c));
  const int c2 = must(b.conv2d("c2", stem, constant("c2.w", Shape{4, 1, 1, 4}), -1, {}));
  REQUIRE(b.add_task("features", TaskKind::kOther, {{"out", c2}}).is_ok());
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  const Model m = load(*bytes);
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  QuantizeOptions o;
  auto r = quantize_model(m, photos, o);
  REQUIRE(r.is_ok());
  std::map<std::string, NodeChoice> by_name;
  for (const NodeChoice& n : r->report.nodes) by_name[n.node] = n;
  CHECK_FALSE(by_name["pad"].int8);
  CHECK(by_name["pad"].reason == "stem (--int8-stem quantizes it)");
  CHECK_FALSE(by_name["stem"].int8);
  CHECK(by_name["c2"].int8);
  o.int8_stem = true;
  auto with_stem = quantize_model(m, photos, o);
  REQUIRE(with_stem.is_ok());
  for (const NodeChoice& n : with_stem->report.nodes) CHECK(n.int8);
}

TEST_CASE("quantize: --keep-float with an unknown node names it", "[quantize]") {
  TempDir dir;
  const Model m = load(small_model());
  QuantizeOptions o;
  o.keep_float = {"c1", "no_such_node"};
  auto r = quantize_model(m, write_photos(dir), o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "'no_such_node'"));
  CHECK_FALSE(contains(r.status().message(), "'c1'"));
}

TEST_CASE("quantize: bad calibration input gives clear errors", "[quantize]") {
  TempDir dir;
  const Model m = load(small_model());
  QuantizeOptions o;
  // An unreadable image is named.
  const std::string broken = dir / "broken.jpg";
  {
    std::ofstream f(broken);
    f << "not an image";
  }
  auto r = quantize_model(m, {broken}, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), broken));
  // A missing file is named.
  r = quantize_model(m, {dir / "missing.png"}, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "missing.png"));
  // No images at all.
  r = quantize_model(m, {}, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "no calibration images"));
  // A photo for an RGB input declared with 4 channels: the file and both counts are named.
  const std::vector<std::string> photos = write_photos(dir, 1);
  const Model four = load(small_model(4));
  r = quantize_model(four, photos, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), photos[0]));
  CHECK(contains(r.status().message(), "needs 3 channel(s)"));
  CHECK(contains(r.status().message(), "has 4"));
  // An int8 model is not quantized again.
  QuantizeOptions ok;
  auto once = quantize_model(m, photos, ok);
  REQUIRE(once.is_ok());
  r = quantize_model(load(once->bytes), photos, ok);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "already quantized"));
}

TEST_CASE("quantize: the drop of each task kind", "[quantize]") {
  compare::TaskComparison c;
  c.task = "t";
  c.method = compare::Method::kClassification;
  c.classification.samples = 4;
  c.classification.top1_agree = 3;
  c.classification.kl_sum = 0.2;
  TaskDrop d = task_drop(c);
  CHECK(d.drop == Approx(0.25));
  CHECK(d.score == Approx(0.05));
  c.method = compare::Method::kMask;
  c.mask.images = 2;
  c.mask.iou_sum = 1.8;
  CHECK(task_drop(c).drop == Approx(0.1));
  c.method = compare::Method::kDetection;
  c.detection.teacher_boxes = 4;
  c.detection.student_boxes = 5;
  c.detection.matched = 4;
  c.detection.iou_sum = 3.6;
  CHECK(task_drop(c).drop == Approx(1 - 3.6 / 5));
  c.detection = {};
  CHECK(task_drop(c).drop == 0);  // neither finds a box
  c.method = compare::Method::kLandmarks;
  c.landmarks.points = 10;
  c.landmarks.error_sum = 0.2;
  CHECK(task_drop(c).drop == Approx(0.02));
  c.method = compare::Method::kRaw;
  c.raw.images = 2;
  c.raw.cosine_sum = 1.9;
  CHECK(task_drop(c).drop == Approx(0.05));
}

TEST_CASE("quantize: --auto keeps the most sensitive nodes float until within budget",
          "[quantize]") {
  const std::vector<std::string> ordered = {"a", "b", "c", "d", "e", "f"};
  // Each of a and b costs 0.1 while in int8; the others nothing.
  auto scripted = [](const std::set<std::string>& kept) -> Result<Evaluation> {
    Evaluation e;
    e.worst_drop = (kept.count("a") ? 0 : 0.1) + (kept.count("b") ? 0 : 0.1);
    return e;
  };
  auto r = auto_select(ordered, DropBudget::uniform(0.05), scripted);
  REQUIRE(r.is_ok());
  CHECK(r->within_budget);
  CHECK(r->kept_float == std::vector<std::string>{"a", "b"});
  CHECK(r->final.worst_drop == 0);
  CHECK(r->steps.front().worst_drop == Approx(0.2));

  // The batches overshoot (0, 1, 2, then 4 float) when three nodes cost: the bisection finds 3.
  auto three = [](const std::set<std::string>& kept) -> Result<Evaluation> {
    Evaluation e;
    for (const char* n : {"a", "b", "c"}) e.worst_drop += kept.count(n) ? 0 : 0.1;
    return e;
  };
  r = auto_select(ordered, DropBudget::uniform(0.05), three);
  REQUIRE(r.is_ok());
  CHECK(r->within_budget);
  CHECK(r->kept_float == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(r->steps.size() == 5);
  CHECK(r->steps[3].float_nodes == 4);
  CHECK(r->steps[4].float_nodes == 3);

  // Already within budget: nothing is kept float.
  r = auto_select(ordered, DropBudget::uniform(0.5), scripted);
  REQUIRE(r.is_ok());
  CHECK(r->kept_float.empty());
  CHECK(r->steps.size() == 1);

  // A budget that only the float model meets: every node ends float, and it stops.
  auto only_float = [&](const std::set<std::string>& kept) -> Result<Evaluation> {
    Evaluation e;
    e.worst_drop = kept.size() == ordered.size() ? 0 : 0.5;
    return e;
  };
  r = auto_select(ordered, DropBudget::uniform(0.01), only_float);
  REQUIRE(r.is_ok());
  CHECK(r->within_budget);
  CHECK(r->kept_float.size() == ordered.size());
  CHECK(r->steps.size() < ordered.size() + 1);  // batches grow

  // A budget nothing meets still terminates.
  auto never = [](const std::set<std::string>&) -> Result<Evaluation> {
    Evaluation e;
    e.worst_drop = 1;
    return e;
  };
  r = auto_select(ordered, DropBudget::uniform(0.01), never);
  REQUIRE(r.is_ok());
  CHECK_FALSE(r->within_budget);
  CHECK(r->kept_float.size() == ordered.size());
}

TEST_CASE("quantize: TRANSPOSE_CONV_2D becomes int8 with per-channel weights and an i32 bias",
          "[quantize]") {
  // x [1,4,4,6] -> c conv1x1 [1,4,4,8] -> up transpose conv 2x2 stride 2 + bias [1,8,8,3]
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4, 4, 6});
  uint32_t seed = 41;
  auto constant = [&](const std::string& name, const Shape& shape, float scale) {
    return b.add_constant(
        name, shape,
        polyhead::testing::random_values(static_cast<size_t>(shape.elements()), seed++, scale));
  };
  const int c = must(b.conv2d("c", x, constant("c.w", Shape{8, 1, 1, 6}, 0.5f),
                              constant("c.b", Shape{8}, 0.1f), {}));
  TransposeConv2DParams p;
  p.stride_h = p.stride_w = 2;
  const int up = must(b.transpose_conv2d("up", c, constant("up.w", Shape{3, 2, 2, 8}, 0.5f),
                                         constant("up.b", Shape{3}, 0.2f), p));
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", up}}).is_ok());
  const auto fp32 = b.finish();
  REQUIRE(fp32.is_ok());
  const Model m = load(*fp32);
  const merge::SourceGraph g = graph(m);
  int up_node = -1;
  for (size_t n = 0; n < g.root->nodes()->size(); ++n)
    if (g.node_name(static_cast<int>(n)) == "up") up_node = static_cast<int>(n);
  REQUIRE(up_node >= 0);
  CHECK(can_run_int8(g, up_node));

  const Written w = rewrite(m, {});
  const schema::Node* deconv = w.node("up");
  REQUIRE(deconv);
  CHECK(deconv->op() == schema::OpKind::TRANSPOSE_CONV_2D);
  CHECK(w.count(schema::OpKind::QUANTIZE) == 1);    // x
  CHECK(w.count(schema::OpKind::DEQUANTIZE) == 1);  // the task output
  const schema::Tensor* input = w.at(deconv->inputs()->Get(0));
  const schema::Tensor* weights = w.at(deconv->inputs()->Get(1));
  const schema::Tensor* bias = w.at(deconv->inputs()->Get(2));
  CHECK(input->type() == schema::ElementType::I8);
  CHECK(w.at(deconv->outputs()->Get(0))->type() == schema::ElementType::I8);
  // Weights [O, KH, KW, I]: one scale per output channel along axis 0, as CONV_2D's.
  CHECK(weights->type() == schema::ElementType::I8);
  CHECK(weights->quantization()->axis() == 0);
  CHECK(weights->quantization()->scale()->size() == 3);
  CHECK(bias->type() == schema::ElementType::I32);
  REQUIRE(bias->quantization()->scale()->size() == 3);
  for (unsigned k = 0; k < 3; ++k)
    CHECK(bias->quantization()->scale()->Get(k) ==
          Approx(input->quantization()->scale()->Get(0) * weights->quantization()->scale()->Get(k))
              .epsilon(1e-6));

  // The file loads and runs; its output follows the float model's within a few int8 steps.
  const std::vector<float> in = polyhead::testing::random_values(96, 5, 1.f);
  auto run = [&](const Model& model) {
    auto engine = Engine::create(model);
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    INFO(plan.status().message());
    REQUIRE(plan.is_ok());
    REQUIRE(plan->set_input("x", in.data(), in.size()).is_ok());
    REQUIRE(plan->run().is_ok());
    const TensorView out = *plan->output("t", "y");
    const auto* f = static_cast<const float*>(out.data);
    return std::vector<float>(f, f + out.shape.elements());
  };
  const std::vector<float> want = run(m);
  const std::vector<float> got = run(load(w.bytes));
  REQUIRE(got.size() == want.size());
  float lo = 0.f, hi = 0.f, err = 0.f;
  for (size_t i = 0; i < want.size(); ++i) {
    lo = std::min(lo, want[i]), hi = std::max(hi, want[i]);
    err = std::max(err, std::fabs(got[i] - want[i]));
  }
  // flat_ranges quantizes every activation to [-2, 6]: steps of 8/255; allow a few of them.
  CHECK(err < 0.2f);
}

TEST_CASE("quantize: the compact writer keeps a -0.0 pad value", "[quantize]") {
  // A float model whose PAD stores value -0.0, which equals the schema default 0: a compact writer
  // would leave it out and every reader would see +0.0.
  using namespace polyhead::internal;
  PhmModel pm;
  PhmTensor in, out;
  in.name = "image";
  in.shape = {1, 2, 2, 1};
  out.name = "padded";
  out.shape = {1, 4, 4, 1};
  pm.tensors = {in, out};
  PhmNode pad;
  pad.name = "pad";
  pad.op = schema::OpKind::PAD;
  pad.options_type = schema::OpOptions::PadOptions;
  pad.options = [](flatbuffers::FlatBufferBuilder& b) -> Result<flatbuffers::Offset<void>> {
    const auto after = b.CreateVector(std::vector<int>{0, 1, 1, 0});
    const auto before = b.CreateVector(std::vector<int>{0, 1, 1, 0});
    schema::PadOptionsBuilder o(b);
    o.add_before(before);
    o.add_after(after);
    b.AddElement<float>(schema::PadOptions::VT_VALUE, -0.f);
    return o.Finish().Union();
  };
  pad.inputs = {0};
  pad.outputs = {1};
  pm.nodes.push_back(pad);
  pm.inputs.push_back({0, std::nullopt});
  PhmTask task;
  task.name = "t";
  task.outputs.push_back({"padded", 1});
  pm.tasks.push_back(task);
  const Model m = load(must(write_phm(pm)));
  const merge::SourceGraph g = must(merge::read_source_graph(m, "model"));
  const std::vector<uint8_t> copied = must(write_model(edit_copy(g)));
  const auto* options = schema::GetModel(copied.data())->nodes()->Get(0)->options_as_PadOptions();
  REQUIRE(options != nullptr);
  CHECK(options->value() == 0.f);
  CHECK(std::signbit(options->value()));
}
