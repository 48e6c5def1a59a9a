// Quantized (full-integer, per-channel int8) TFLite models through the importer. The models are
// synthetic, written with tests/support/tflite_builder: each is converted, then the .phm is checked
// tensor by tensor against docs/int8.md (types, quantization, weight layout, bias scales, the
// QUANTIZE/DEQUANTIZE boundaries), run end to end against a float reference computed here layer by
// layer (dequantize, compute in double, requantize: within 1 LSB of each layer's output scale), and
// fed hostile quantization parameters, which must be clear errors naming the tensor and the value.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "converters/tflite/tensor_data.h"
#include "converters/tflite/tflite_converter.h"
#include "converters/tflite/tflite_ops.h"
#include "polyhead/engine.h"
#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/int16_constants.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"
#include "support/tflite_builder.h"
#include "support/tflite_int8_net.h"

namespace {

namespace sc = polyhead::schema;
namespace tfl = polyhead::tflite;
using polyhead::testing::conv_options;
using polyhead::testing::depthwise_options;
using polyhead::testing::kActNone;
using polyhead::testing::kF32;
using polyhead::testing::kI16;
using polyhead::testing::kI32;
using polyhead::testing::kI8;
using polyhead::testing::kOptConv;
using polyhead::testing::kOptDepthwise;
using polyhead::testing::kOptNone;
using polyhead::testing::kU8;
using polyhead::testing::kValid;
using polyhead::testing::random_i8;
using polyhead::testing::TfField;
using polyhead::testing::TfliteWriter;
using polyhead::testing::TfQuant;
using Net = polyhead::testing::Int8Net;

// ---- reading the converted .phm ----------------------------------------------------------------

struct Quant {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int axis = -1;
};

class Phm {
 public:
  explicit Phm(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {
    m_ = sc::GetModel(bytes_.data());
  }
  const sc::Model* model() const { return m_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  int index(const std::string& name) const {
    for (size_t i = 0; i < m_->tensors()->size(); ++i)
      if (m_->tensors()->Get(static_cast<unsigned>(i))->name()->str() == name)
        return static_cast<int>(i);
    return -1;
  }
  const sc::Tensor* tensor(const std::string& name) const {
    const int i = index(name);
    INFO("tensor '" << name << "'");
    REQUIRE(i >= 0);
    return m_->tensors()->Get(static_cast<unsigned>(i));
  }
  const sc::Tensor* tensor(int i) const { return m_->tensors()->Get(static_cast<unsigned>(i)); }
  std::string name(int i) const { return tensor(i)->name()->str(); }
  std::vector<int> shape(const std::string& name) const {
    const auto* s = tensor(name)->shape();
    return std::vector<int>(s->begin(), s->end());
  }
  // The node writing tensor `name`.
  const sc::Node* producer(const std::string& name) const {
    const int t = index(name);
    for (const sc::Node* n : *m_->nodes())
      if (n->outputs()->size() == 1 && n->outputs()->Get(0) == t) return n;
    return nullptr;
  }
  int count(sc::OpKind op) const {
    int c = 0;
    for (const sc::Node* n : *m_->nodes()) c += n->op() == op;
    return c;
  }
  Quant quant(const std::string& name) const {
    Quant q;
    const sc::Quantization* sq = tensor(name)->quantization();
    if (!sq) return q;
    q.scale = polyhead::internal::quantization_scales(*sq);
    if (sq->zero_point()) q.zero_point.assign(sq->zero_point()->begin(), sq->zero_point()->end());
    q.axis = sq->axis();
    return q;
  }
  template <typename T>
  std::vector<T> data(const std::string& name) const {
    const sc::Tensor* t = tensor(name);
    REQUIRE(t->buffer() > 0);
    const sc::BufferRef* b = m_->buffers()->Get(t->buffer() - 1);
    REQUIRE(b->offset() + b->size() <= bytes_.size());
    if (t->storage() == sc::ConstantStorage::INT16) {  // an I32 constant the writer narrowed
      REQUIRE(sizeof(T) == sizeof(int32_t));
      std::vector<int32_t> wide(b->size() / 2);
      polyhead::internal::widen_int16(bytes_.data() + b->offset(), wide.size(), wide.data());
      std::vector<T> v(wide.size());
      std::memcpy(v.data(), wide.data(), wide.size() * sizeof(T));
      return v;
    }
    std::vector<T> v(b->size() / sizeof(T));
    std::memcpy(v.data(), bytes_.data() + b->offset(), v.size() * sizeof(T));
    return v;
  }

 private:
  std::vector<uint8_t> bytes_;
  const sc::Model* m_ = nullptr;
};

Phm convert_ok(const std::vector<uint8_t>& tflite, tfl::ConvertReport* report = nullptr) {
  auto phm = tfl::convert(tflite, tfl::ConvertOptions{}, report);
  INFO((phm.is_ok() ? "" : phm.status().to_string()));
  REQUIRE(phm.is_ok());
  // What the importer wrote also loads (the loader validates int8 conventions too).
  auto model = polyhead::Model::from_bytes(*phm);
  INFO((model.is_ok() ? "" : model.status().to_string()));
  REQUIRE(model.is_ok());
  return Phm(*phm);
}

std::string convert_error(const std::vector<uint8_t>& tflite) {
  auto phm = tfl::convert(tflite, tfl::ConvertOptions{});
  REQUIRE_FALSE(phm.is_ok());
  return phm.status().message();
}

}  // namespace

TEST_CASE("tflite int8: every layer's types, quantization and weight layout", "[tflite][int8]") {
  const Net net;
  tfl::ConvertReport report;
  const Phm phm = convert_ok(net.tflite, &report);

  // The input stays float under its TFLite name; a QUANTIZE node makes the int8 tensor.
  const auto* model = phm.model();
  REQUIRE(model->inputs()->size() == 1);
  const sc::Tensor* image = phm.tensor(model->inputs()->Get(0)->tensor());
  CHECK(image->name()->str() == "image");
  CHECK(image->type() == sc::ElementType::F32);
  const sc::Node* quantize = phm.producer("image_q");
  REQUIRE(quantize);
  CHECK(quantize->op() == sc::OpKind::QUANTIZE);
  CHECK(phm.name(quantize->inputs()->Get(0)) == "image");
  CHECK(phm.tensor("image_q")->type() == sc::ElementType::I8);
  CHECK(phm.quant("image_q").scale == std::vector<float>{Net::kInScale});
  CHECK(phm.quant("image_q").zero_point == std::vector<int64_t>{Net::kInZp});
  CHECK(phm.quant("image_q").axis == -1);

  // Activations: I8, per tensor, the TFLite parameters.
  const std::map<std::string, std::pair<float, int>> acts = {
      {"conv", {Net::kConvScale, Net::kConvZp}}, {"dw", {Net::kDwScale, Net::kDwZp}},
      {"sum", {Net::kSumScale, Net::kSumZp}},    {"pool", {Net::kSumScale, Net::kSumZp}},
      {"avg", {net.avg_scale, net.avg_zp}},      {"cat", {net.cat_scale, net.cat_zp}},
      {"gap", {Net::kGapScale, Net::kGapZp}},    {"logits", {Net::kFcScale, Net::kFcZp}},
      {"gate", {Net::kSigScale, Net::kSigZp}}};
  for (const auto& kv : acts) {
    INFO(kv.first);
    CHECK(phm.tensor(kv.first)->type() == sc::ElementType::I8);
    const Quant q = phm.quant(kv.first);
    CHECK(q.scale == std::vector<float>{kv.second.first});
    CHECK(q.zero_point == std::vector<int64_t>{kv.second.second});
    CHECK(q.axis == -1);
  }

  // CONV_2D weights: [O, kh, kw, I] as in TFLite, per channel along 0, zero points 0.
  const sc::Node* conv = phm.producer("conv");
  REQUIRE(conv);
  CHECK(conv->op() == sc::OpKind::CONV_2D);
  CHECK(phm.name(conv->inputs()->Get(0)) == "image_q");
  CHECK(phm.name(conv->inputs()->Get(1)) == "conv_w");
  CHECK(phm.tensor("conv_w")->type() == sc::ElementType::I8);
  CHECK(phm.shape("conv_w") == std::vector<int>{4, 3, 3, 3});
  CHECK(phm.quant("conv_w").scale == net.conv_ws);
  CHECK(phm.quant("conv_w").zero_point.empty());  // all 0: the writer leaves them out
  CHECK(phm.quant("conv_w").axis == 0);
  CHECK(phm.data<int8_t>("conv_w") == net.conv_w);
  // Bias: I32, scale input_scale x weight_scale[o].
  CHECK(phm.tensor("conv_b")->type() == sc::ElementType::I32);
  CHECK(phm.data<int32_t>("conv_b") == net.conv_b);
  const Quant cb = phm.quant("conv_b");
  REQUIRE(cb.scale.size() == 4);
  for (size_t c = 0; c < 4; ++c) CHECK(cb.scale[c] == Approx(Net::kInScale * net.conv_ws[c]));
  CHECK(cb.zero_point.empty());
  CHECK(cb.axis == 0);
  // The fused ReLU stays a float range in the options.
  const auto* copts = conv->options_as_Conv2DOptions();
  REQUIRE(copts);
  CHECK(copts->activation()->min() == 0.f);
  CHECK(copts->pad_top() == 1);
  CHECK(copts->groups() == 1);

  // DEPTHWISE_CONV_2D: [1, kh, kw, C] -> [C, kh, kw, 1], groups C, axis 3 -> 0.
  const sc::Node* dw = phm.producer("dw");
  REQUIRE(dw);
  CHECK(dw->op() == sc::OpKind::CONV_2D);
  CHECK(dw->options_as_Conv2DOptions()->groups() == 4);
  CHECK(dw->options_as_Conv2DOptions()->activation()->max() == 6.f);
  CHECK(phm.shape("dw_w") == std::vector<int>{4, 3, 3, 1});
  CHECK(phm.quant("dw_w").scale == net.dw_ws);
  CHECK(phm.quant("dw_w").axis == 0);
  const auto dw_w = phm.data<int8_t>("dw_w");
  REQUIRE(dw_w.size() == 36);
  for (int c = 0; c < 4; ++c)
    for (int k = 0; k < 9; ++k) {
      INFO("channel " << c << " tap " << k);
      CHECK(dw_w[static_cast<size_t>(c * 9 + k)] == net.dw_w[static_cast<size_t>(k * 4 + c)]);
    }
  const Quant dwb = phm.quant("dw_b");
  for (size_t c = 0; c < 4; ++c) CHECK(dwb.scale[c] == Approx(Net::kConvScale * net.dw_ws[c]));

  // FULLY_CONNECTED: [O, I], per channel along 0.
  CHECK(phm.producer("logits")->op() == sc::OpKind::FULLY_CONNECTED);
  CHECK(phm.shape("fc_w") == std::vector<int>{5, 8});
  CHECK(phm.quant("fc_w").axis == 0);
  CHECK(phm.data<int8_t>("fc_w") == net.fc_w);
  for (size_t c = 0; c < 5; ++c)
    CHECK(phm.quant("fc_b").scale[c] == Approx(Net::kGapScale * net.fc_ws[c]));

  CHECK(phm.producer("sum")->op() == sc::OpKind::ADD);
  CHECK(phm.producer("pool")->op() == sc::OpKind::MAX_POOL_2D);
  CHECK(phm.producer("avg")->op() == sc::OpKind::AVERAGE_POOL_2D);
  CHECK(phm.producer("cat")->op() == sc::OpKind::CONCATENATION);
  CHECK(phm.producer("gap")->op() == sc::OpKind::MEAN);
  CHECK(phm.producer("gate")->op() == sc::OpKind::SIGMOID);

  // SOFTMAX is float only: DEQUANTIZE -> SOFTMAX -> QUANTIZE, then the model's own DEQUANTIZE.
  const sc::Node* soft = phm.producer("probs_q");
  REQUIRE(soft);
  CHECK(soft->op() == sc::OpKind::SOFTMAX);
  CHECK(phm.tensor("probs_q")->type() == sc::ElementType::F32);
  const sc::Node* deq = phm.producer(phm.name(soft->inputs()->Get(0)));
  REQUIRE(deq);
  CHECK(deq->op() == sc::OpKind::DEQUANTIZE);
  CHECK(phm.name(deq->inputs()->Get(0)) == "logits");
  const sc::Node* requant = phm.producer("probs_q/quantize");
  REQUIRE(requant);
  CHECK(requant->op() == sc::OpKind::QUANTIZE);
  CHECK(phm.quant("probs_q/quantize").scale == std::vector<float>{Net::kProbScale});
  CHECK(phm.quant("probs_q/quantize").zero_point == std::vector<int64_t>{Net::kProbZp});
  CHECK(phm.producer("probs")->op() == sc::OpKind::DEQUANTIZE);
  CHECK(phm.name(phm.producer("probs")->inputs()->Get(0)) == "probs_q/quantize");

  // Task outputs stay float and keep the TFLite names; int8 outputs are read through DEQUANTIZE.
  auto loaded = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(loaded.is_ok());
  std::map<std::string, const polyhead::TaskInfo*> tasks;
  for (const auto& t : loaded->tasks()) tasks[t.name] = &t;
  for (const char* name :
       {"probs", "image_q", "conv", "dw", "sum", "pool", "avg", "cat", "gap", "logits", "gate"}) {
    INFO(name);
    REQUIRE(tasks.count(name));
    REQUIRE(tasks[name]->outputs.size() == 1);
    CHECK(tasks[name]->outputs[0].name == name);
    CHECK(tasks[name]->outputs[0].type == polyhead::ElementType::kF32);
  }
  CHECK(tasks["conv"]->outputs[0].tensor == "conv/dequantize");
  CHECK(tasks["probs"]->outputs[0].tensor == "probs");
  CHECK(report.source_ops.at("QUANTIZE") == 1);
  CHECK(report.source_ops.at("DEQUANTIZE") == 1);
}

namespace {

// ---- the float reference -----------------------------------------------------------------------

int quantize_value(double x, float scale, int zp) {
  const double q = std::round(x / scale) + zp;
  return static_cast<int>(std::min(127.0, std::max(-128.0, q)));
}
double requant(double x, float scale, int zp) {
  return scale * (quantize_value(x, scale, zp) - zp);
}

// NHWC convolution (groups 1 or depthwise), SAME padding, stride 1, with a clamp.
std::vector<double> conv_ref(const std::vector<float>& x, int h, int w, int c, int o,
                             bool depthwise, const std::vector<int8_t>& wq,
                             const std::vector<float>& ws, const std::vector<int32_t>& bias,
                             float in_scale, double lo, double hi) {
  std::vector<double> y(static_cast<size_t>(h * w * o));
  for (int oy = 0; oy < h; ++oy)
    for (int ox = 0; ox < w; ++ox)
      for (int oc = 0; oc < o; ++oc) {
        double acc = static_cast<double>(bias[static_cast<size_t>(oc)]) * in_scale *
                     ws[static_cast<size_t>(oc)];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int iy = oy + ky - 1, ix = ox + kx - 1;
            if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
            if (depthwise) {
              const double wv = wq[static_cast<size_t>((ky * 3 + kx) * o + oc)] *
                                static_cast<double>(ws[static_cast<size_t>(oc)]);
              acc += wv * x[static_cast<size_t>((iy * w + ix) * c + oc)];
            } else {
              for (int ic = 0; ic < c; ++ic) {
                const double wv = wq[static_cast<size_t>(((oc * 3 + ky) * 3 + kx) * c + ic)] *
                                  static_cast<double>(ws[static_cast<size_t>(oc)]);
                acc += wv * x[static_cast<size_t>((iy * w + ix) * c + ic)];
              }
            }
          }
        y[static_cast<size_t>((oy * w + ox) * o + oc)] = std::min(hi, std::max(lo, acc));
      }
  return y;
}

// Checks Polyhead's layer output against the reference, requantized to the layer's parameters.
void check_layer(const char* name, const std::vector<float>& got, const std::vector<double>& ref,
                 float scale, int zp) {
  INFO("layer " << name);
  REQUIRE(got.size() == ref.size());
  double worst = 0;
  size_t worst_at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = std::fabs(got[i] - requant(ref[i], scale, zp));
    if (e > worst) worst = e, worst_at = i;
  }
  INFO("worst error " << worst / scale << " LSB at " << worst_at << ": got " << got[worst_at]
                      << ", reference " << ref[worst_at]);
  CHECK(worst <= 1.001 * scale);
  // Each output value lies on the layer's quantization grid.
  for (float v : got) {
    const double steps = v / scale;
    REQUIRE(std::fabs(steps - std::round(steps)) < 1e-3);
  }
}

}  // namespace

TEST_CASE("tflite int8: the imported network runs and matches a float reference layer by layer",
          "[tflite][int8][e2e]") {
  const Net net;
  const Phm phm = convert_ok(net.tflite);
  auto model = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  INFO((engine.is_ok() ? "" : engine.status().to_string()));
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO((plan.is_ok() ? "" : plan.status().to_string()));
  REQUIRE(plan.is_ok());

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int trial = 0; trial < 3; ++trial) {
    INFO("input " << trial);
    std::vector<float> x(Net::H * Net::W * Net::C);
    for (float& v : x) v = dist(rng);
    REQUIRE(plan->set_input("image", x.data(), x.size()).is_ok());
    const polyhead::Status run = plan->run();
    INFO(run.to_string());
    REQUIRE(run.is_ok());
    auto out = [&](const std::string& task) {
      auto view = plan->output(task, task);
      REQUIRE(view.is_ok());
      const float* p = view->f32();
      REQUIRE(p);
      return std::vector<float>(p, p + view->shape.elements());
    };
    const int H = Net::H, W = Net::W, O = Net::O, K = Net::K;
    // Each layer from Polyhead's own (exact) previous layer.
    const auto image_q = out("image_q");
    std::vector<double> ref(x.begin(), x.end());
    check_layer("image_q", image_q, ref, Net::kInScale, Net::kInZp);

    const auto conv = out("conv");
    check_layer("conv", conv,
                conv_ref(image_q, H, W, Net::C, O, false, net.conv_w, net.conv_ws, net.conv_b,
                         Net::kInScale, 0, 1e30),
                Net::kConvScale, Net::kConvZp);
    const auto dw = out("dw");
    check_layer(
        "dw", dw,
        conv_ref(conv, H, W, O, O, true, net.dw_w, net.dw_ws, net.dw_b, Net::kConvScale, 0, 6),
        Net::kDwScale, Net::kDwZp);
    const auto sum = out("sum");
    ref.assign(conv.size(), 0);
    for (size_t i = 0; i < ref.size(); ++i) ref[i] = double(conv[i]) + dw[i];
    check_layer("sum", sum, ref, Net::kSumScale, Net::kSumZp);

    const auto pool = out("pool");
    ref.assign(static_cast<size_t>(3 * 3 * O), 0);
    for (int y = 0; y < 3; ++y)
      for (int xx = 0; xx < 3; ++xx)
        for (int c = 0; c < O; ++c) {
          double m = -1e30;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx)
              m = std::max(
                  m, double(sum[static_cast<size_t>(((2 * y + dy) * W + 2 * xx + dx) * O + c)]));
          ref[static_cast<size_t>((y * 3 + xx) * O + c)] = m;
        }
    check_layer("pool", pool, ref, Net::kSumScale, Net::kSumZp);

    const auto avg = out("avg");
    for (int y = 0; y < 3; ++y)
      for (int xx = 0; xx < 3; ++xx)
        for (int c = 0; c < O; ++c) {
          double s = 0;
          int n = 0;
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              const int iy = y + dy, ix = xx + dx;
              if (iy < 0 || ix < 0 || iy >= 3 || ix >= 3) continue;  // TFLite: padding not counted
              s += pool[static_cast<size_t>((iy * 3 + ix) * O + c)];
              ++n;
            }
          ref[static_cast<size_t>((y * 3 + xx) * O + c)] = s / n;
        }
    check_layer("avg", avg, ref, net.avg_scale, net.avg_zp);

    const auto cat = out("cat");
    ref.assign(static_cast<size_t>(3 * 3 * 2 * O), 0);
    for (int p = 0; p < 9; ++p)
      for (int c = 0; c < O; ++c) {
        ref[static_cast<size_t>(p * 2 * O + c)] = pool[static_cast<size_t>(p * O + c)];
        ref[static_cast<size_t>(p * 2 * O + O + c)] = avg[static_cast<size_t>(p * O + c)];
      }
    check_layer("cat", cat, ref, net.cat_scale, net.cat_zp);

    const auto gap = out("gap");
    ref.assign(static_cast<size_t>(2 * O), 0);
    for (int p = 0; p < 9; ++p)
      for (int c = 0; c < 2 * O; ++c)
        ref[static_cast<size_t>(c)] += cat[static_cast<size_t>(p * 2 * O + c)] / 9.0;
    check_layer("gap", gap, ref, Net::kGapScale, Net::kGapZp);

    const auto logits = out("logits");
    ref.assign(static_cast<size_t>(K), 0);
    for (int o = 0; o < K; ++o) {
      double acc = static_cast<double>(net.fc_b[static_cast<size_t>(o)]) * Net::kGapScale *
                   net.fc_ws[static_cast<size_t>(o)];
      for (int i = 0; i < 2 * O; ++i)
        acc += net.fc_w[static_cast<size_t>(o * 2 * O + i)] *
               static_cast<double>(net.fc_ws[static_cast<size_t>(o)]) * gap[static_cast<size_t>(i)];
      ref[static_cast<size_t>(o)] = acc;
    }
    check_layer("logits", logits, ref, Net::kFcScale, Net::kFcZp);

    const auto gate = out("gate");
    for (int o = 0; o < K; ++o)
      ref[static_cast<size_t>(o)] = 1.0 / (1.0 + std::exp(-double(logits[static_cast<size_t>(o)])));
    check_layer("gate", gate, ref, Net::kSigScale, Net::kSigZp);

    const auto probs = out("probs");
    double mx = -1e30, total = 0;
    for (float v : logits) mx = std::max(mx, double(v));
    for (int o = 0; o < K; ++o)
      total += (ref[static_cast<size_t>(o)] = std::exp(logits[static_cast<size_t>(o)] - mx));
    for (double& v : ref) v /= total;
    check_layer("probs", probs, ref, Net::kProbScale, Net::kProbZp);
  }
}

namespace {

// A tiny int8 model to break: int8 input x [1,4,4,2] -> CONV_2D 1x1 (3 channels, per channel)
// -> int8 output y. `mutate` changes the tensors before the file is written.
struct Tiny {
  int x, w, b, y;
};
std::vector<uint8_t> tiny(const std::function<void(TfliteWriter&, const Tiny&)>& mutate = {}) {
  TfliteWriter wr;
  Tiny t;
  const std::vector<float> ws = {0.01f, 0.02f, 0.03f};
  t.x = wr.i8("x", {1, 4, 4, 2}, 0.05f, 3);
  t.w = wr.const_i8("w", {3, 1, 1, 2}, {1, -2, 3, -4, 5, -6}, TfQuant{ws, {0, 0, 0}, 0});
  t.b = wr.const_i32("b", {3}, {10, -20, 30},
                     TfQuant{{0.05f * 0.01f, 0.05f * 0.02f, 0.05f * 0.03f}, {0, 0, 0}, 0});
  t.y = wr.i8("y", {1, 4, 4, 3}, 0.1f, -2);
  wr.op(tfl::kConv2D, {t.x, t.w, t.b}, {t.y}, conv_options(kValid, 1, kActNone), kOptConv);
  wr.inputs({t.x});
  wr.outputs({t.y});
  if (mutate) mutate(wr, t);
  return wr.finish();
}

void expect_error(const std::vector<uint8_t>& bytes, const std::vector<std::string>& parts) {
  const std::string message = convert_error(bytes);
  INFO(message);
  for (const std::string& p : parts) CHECK(message.find(p) != std::string::npos);
}

}  // namespace

TEST_CASE("tflite int8: int8 model input and output stay float at the boundary", "[tflite][int8]") {
  const Phm phm = convert_ok(tiny());
  const auto* model = phm.model();
  REQUIRE(model->inputs()->size() == 1);
  const sc::Tensor* x = phm.tensor(model->inputs()->Get(0)->tensor());
  CHECK(x->name()->str() == "x");
  CHECK(x->type() == sc::ElementType::F32);
  const sc::Node* q = phm.producer("x/quantize");
  REQUIRE(q);
  CHECK(q->op() == sc::OpKind::QUANTIZE);
  CHECK(phm.name(q->inputs()->Get(0)) == "x");
  CHECK(phm.quant("x/quantize").scale == std::vector<float>{0.05f});
  CHECK(phm.quant("x/quantize").zero_point == std::vector<int64_t>{3});
  CHECK(phm.name(phm.producer("y")->inputs()->Get(0)) == "x/quantize");
  CHECK(phm.tensor("y")->type() == sc::ElementType::I8);
  const sc::Node* d = phm.producer("y/dequantize");
  REQUIRE(d);
  CHECK(d->op() == sc::OpKind::DEQUANTIZE);

  auto loaded = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(loaded.is_ok());
  REQUIRE(loaded->inputs().size() == 1);
  CHECK(loaded->inputs()[0].name == "x");
  CHECK(loaded->inputs()[0].type == polyhead::ElementType::kF32);
  REQUIRE(loaded->tasks().size() == 1);
  CHECK(loaded->tasks()[0].name == "y");
  CHECK(loaded->tasks()[0].outputs[0].name == "y");
  CHECK(loaded->tasks()[0].outputs[0].type == polyhead::ElementType::kF32);
  // Per-tensor weights are accepted too.
  const Phm per_tensor = convert_ok(tiny([](TfliteWriter& w, const Tiny& t) {
    w.at(t.w).quant = TfQuant::per_tensor(0.02f, 0);
    w.at(t.b).quant = TfQuant::per_tensor(0.05f * 0.02f, 0);
  }));
  CHECK(per_tensor.quant("w").axis == -1);
  CHECK(per_tensor.quant("w").scale == std::vector<float>{0.02f});
  CHECK(per_tensor.quant("b").scale.size() == 1);
}

TEST_CASE("tflite int8: the tiny model runs: float in, float out", "[tflite][int8][e2e]") {
  const Phm phm = convert_ok(tiny());
  auto model = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO((plan.is_ok() ? "" : plan.status().to_string()));
  REQUIRE(plan.is_ok());
  std::vector<float> x(32);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -3.f + 0.2f * static_cast<float>(i);
  REQUIRE(plan->set_input("x", x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  auto view = plan->output("y", "y");
  REQUIRE(view.is_ok());
  const float* y = view->f32();
  REQUIRE(y);
  const int8_t w[3][2] = {{1, -2}, {3, -4}, {5, -6}};
  const float ws[3] = {0.01f, 0.02f, 0.03f};
  const int b[3] = {10, -20, 30};
  for (int p = 0; p < 16; ++p)
    for (int o = 0; o < 3; ++o) {
      double acc = b[o] * 0.05 * ws[o];
      for (int i = 0; i < 2; ++i) {
        const double xq = 0.05 * (quantize_value(x[static_cast<size_t>(p * 2 + i)], 0.05f, 3) - 3);
        acc += w[o][i] * static_cast<double>(ws[o]) * xq;
      }
      INFO("pixel " << p << " channel " << o);
      CHECK(std::fabs(y[p * 3 + o] - requant(acc, 0.1f, -2)) <= 0.1001);
    }
}

TEST_CASE("tflite int8: QUANTIZE int8 -> int8 requantizes, or is nothing when equal",
          "[tflite][int8]") {
  auto model = [](float scale, int zp) {
    TfliteWriter w;
    const int x = w.i8("x", {1, 8}, 0.05f, 3);
    const int y = w.i8("y", {1, 8}, scale, zp);
    w.op(tfl::kQuantize, {x}, {y}, {}, kOptNone);
    w.inputs({x});
    w.outputs({y});
    return w.finish();
  };
  const Phm changed = convert_ok(model(0.1f, -7));
  // x -> QUANTIZE (input) -> DEQUANTIZE -> QUANTIZE (requantize) -> DEQUANTIZE (output).
  CHECK(changed.count(sc::OpKind::QUANTIZE) == 2);
  CHECK(changed.count(sc::OpKind::DEQUANTIZE) == 2);
  CHECK(changed.quant("y/requantize").scale == std::vector<float>{0.1f});
  CHECK(changed.quant("y/requantize").zero_point == std::vector<int64_t>{-7});

  const Phm same = convert_ok(model(0.05f, 3));
  CHECK(same.count(sc::OpKind::QUANTIZE) == 1);
  CHECK(same.count(sc::OpKind::DEQUANTIZE) == 1);
}

TEST_CASE("tflite int8: DEQUANTIZE of int8 weights folds into float weights (hybrid)",
          "[tflite][int8]") {
  TfliteWriter w;
  const int x = w.f32("x", {1, 2, 2, 2});
  const std::vector<int8_t> q = {10, -20, 30, -40, 50, -60};
  const int wq = w.const_i8("wq", {3, 1, 1, 2}, q, TfQuant{{0.5f, 0.25f, 0.125f}, {0, 0, 0}, 0});
  const int wf = w.f32("wf", {3, 1, 1, 2});
  w.op(tfl::kDequantize, {wq}, {wf}, {}, kOptNone);
  const int bias = w.const_f32("bias", {3}, {1.f, 2.f, 3.f});
  const int y = w.f32("y", {1, 2, 2, 3});
  w.op(tfl::kConv2D, {x, wf, bias}, {y}, conv_options(kValid, 1, kActNone), kOptConv);
  w.inputs({x});
  w.outputs({y});
  const Phm phm = convert_ok(w.finish());
  CHECK(phm.count(sc::OpKind::DEQUANTIZE) == 0);
  CHECK(phm.count(sc::OpKind::QUANTIZE) == 0);
  const sc::Node* conv = phm.producer("y");
  REQUIRE(conv);
  const sc::Tensor* weights = phm.tensor(conv->inputs()->Get(1));
  CHECK(weights->type() == sc::ElementType::F32);
  const auto values = phm.data<float>(phm.name(conv->inputs()->Get(1)));
  CHECK(values == std::vector<float>{5.f, -10.f, 7.5f, -10.f, 6.25f, -7.5f});
}

TEST_CASE("tflite int8: uint8 and int16 models are rejected, naming the tensor", "[tflite][int8]") {
  expect_error(tiny([](TfliteWriter& w, const Tiny& t) { w.at(t.x).type = kU8; }),
               {"tensor 'x' is UINT8",
                "uint8 (asymmetric) models are not supported; re-export "
                "with int8"});
  expect_error(tiny([](TfliteWriter& w, const Tiny& t) { w.at(t.y).type = kI16; }),
               {"tensor 'y' is INT16", "not supported"});
}

TEST_CASE("tflite int8: hostile quantization parameters are clear errors", "[tflite][int8]") {
  using W = TfliteWriter;
  using T = const Tiny&;
  SECTION("scale zero, negative, NaN, infinite") {
    expect_error(tiny([](W& w, T t) { w.at(t.y).quant.scale = {0.f}; }),
                 {"tensor 'y'", "scale 0", "finite and > 0"});
    expect_error(tiny([](W& w, T t) { w.at(t.x).quant.scale = {-0.5f}; }),
                 {"tensor 'x'", "scale -0.5"});
    expect_error(tiny([](W& w, T t) { w.at(t.y).quant.scale = {std::nanf("")}; }),
                 {"tensor 'y'", "scale nan"});
    expect_error(tiny([](W& w, T t) { w.at(t.w).quant.scale[1] = INFINITY; }),
                 {"tensor 'w'", "scale inf at channel 1"});
  }
  SECTION("zero point out of range") {
    expect_error(tiny([](W& w, T t) { w.at(t.x).quant.zero_point = {200}; }),
                 {"tensor 'x'", "zero point 200", "[-128, 127]"});
    expect_error(tiny([](W& w, T t) { w.at(t.y).quant.zero_point = {-129}; }),
                 {"tensor 'y'", "zero point -129"});
    expect_error(tiny([](W& w, T t) {
                   w.at(t.b).quant.zero_point = {0, 5, 0};
                 }),
                 {"tensor 'b'", "zero point 5 at channel 1", "[0, 0]"});
  }
  SECTION("weights must be symmetric") {
    expect_error(tiny([](W& w, T t) {
                   w.at(t.w).quant.zero_point = {0, 0, 4};
                 }),
                 {"weights 'w'", "zero point 4 at channel 2", "symmetric"});
  }
  SECTION("number of scales and zero points") {
    expect_error(tiny([](W& w, T t) {
                   w.at(t.w).quant.scale = {0.01f, 0.02f};
                 }),
                 {"tensor 'w'", "2 scales but 3 zero points"});
    expect_error(tiny([](W& w, T t) {
                   w.at(t.w).quant.scale = {0.01f, 0.02f};
                   w.at(t.w).quant.zero_point = {0, 0};
                 }),
                 {"tensor 'w'", "2 scales for its 3 channels along dimension 0"});
    expect_error(tiny([](W& w, T t) { w.at(t.w).quant.quantized_dimension = 7; }),
                 {"tensor 'w'", "quantized_dimension 7"});
    expect_error(tiny([](W& w, T t) { w.at(t.w).quant.quantized_dimension = 3; }),
                 {"tensor 'w'", "3 scales for its 2 channels along dimension 3"});
    expect_error(tiny([](W& w, T t) {
                   w.at(t.y).quant = TfQuant{{0.1f, 0.2f}, {0, 0}, 3};
                 }),
                 {"tensor 'y'", "per channel (2 scales)", "per tensor"});
  }
  SECTION("missing or custom quantization") {
    expect_error(tiny([](W& w, T t) { w.at(t.y).quant = {}; }),
                 {"tensor 'y' (INT8) has no quantization parameters"});
    expect_error(tiny([](W& w, T t) { w.at(t.x).quant.details_type = 1; }),
                 {"tensor 'x'", "custom quantization details"});
  }
  SECTION("bias") {
    expect_error(tiny([](W& w, T t) { w.at(t.b).quant.scale[2] *= 1.01f; }),
                 {"bias 'b' has scale", "at channel 2", "input scale x weight scale is 0.0015 "});
    // Within 1e-4 relative is accepted.
    convert_ok(tiny([](W& w, T t) { w.at(t.b).quant.scale[0] *= 1.00002f; }));
    expect_error(tiny([](W& w, T t) {
                   w.at(t.b).type = kF32;
                   w.at(t.b).quant = {};
                 }),
                 {"bias 'b'", "type FLOAT32 (int32 expected)"});
    expect_error(tiny([](W& w, T t) { w.at(t.b).data.resize(8); }), {"bias 'b' holds 8 bytes"});
    // Six dimensions of 2^24 multiply past int64_t: refused by size before any count is used
    // (found by fuzz_tflite_import: signed overflow in Shape::elements()).
    expect_error(tiny([](W& w, T t) {
                   w.at(t.b).shape = {1 << 24, 1 << 24, 1 << 24, 1 << 24, 1 << 24, 1 << 24};
                 }),
                 {"tensor 'b' has shape [16777216,16777216]...",
                  "more than " + std::to_string(tfl::kMaxElements) + " elements"});
  }
  SECTION("types that do not fit") {
    expect_error(tiny([](W& w, T t) {
                   w.at(t.y).type = kF32;
                   w.at(t.y).quant = {};
                 }),
                 {"input 'x' is INT8 but output 'y' is FLOAT32"});
    expect_error(tiny([](W& w, T t) { w.at(t.w).type = kI32; }),
                 {"weights 'w'", "type INT32 (int8 expected)"});
    expect_error(tiny([](W& w, T t) { w.at(t.w).data.resize(5); }), {"'w' holds 5 bytes"});
  }
}

TEST_CASE("tflite int8: depthwise weights quantized along the wrong dimension", "[tflite][int8]") {
  TfliteWriter w;
  const int x = w.i8("x", {1, 3, 3, 2}, 0.05f, 0);
  // Per-channel along dimension 0 of [1, 3, 3, 2] cannot have 2 scales; along 1 it can, but is
  // not where TFLite puts the output channels of DEPTHWISE_CONV_2D.
  const int k =
      w.const_i8("k", {1, 3, 3, 2}, random_i8(18, 9), TfQuant{{0.01f, 0.02f, 0.03f}, {0, 0, 0}, 1});
  const int y = w.i8("y", {1, 1, 1, 2}, 0.1f, 0);
  w.op(tfl::kDepthwiseConv2D, {x, k}, {y}, depthwise_options(kValid, 1, 1, kActNone),
       kOptDepthwise);
  w.inputs({x});
  w.outputs({y});
  expect_error(w.finish(), {"weights 'k' are quantized along dimension 1", "dimension 3"});
}

TEST_CASE("tflite int8: flipped bytes of an int8 model give an error or a valid model",
          "[tflite][int8][fuzz]") {
  const Net net;
  const std::vector<uint8_t>& bytes = net.tflite;
  std::mt19937 rng(99);
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::vector<uint8_t> mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f)
      mutated[rng() % mutated.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto r = tfl::convert(mutated, tfl::ConvertOptions{});
    if (r.is_ok()) {
      ++ok;
      CHECK(polyhead::Model::from_bytes(*r).is_ok());
    } else {
      ++failed;
      CHECK_FALSE(r.status().message().empty());
    }
  }
  for (size_t k = 0; k < 32; ++k) {
    const std::vector<uint8_t> prefix(bytes.begin(),
                                      bytes.begin() + static_cast<long>(bytes.size() * k / 32));
    CHECK_FALSE(tfl::convert(prefix, tfl::ConvertOptions{}).is_ok());
  }
  INFO("converted " << ok << ", rejected " << failed);
  CHECK(failed > 0);
}

TEST_CASE("tflite int8: padding, resizing, elementwise and lookup-table operators run",
          "[tflite][int8][e2e]") {
  // int8 input x [1,4,4,2] -> PAD -> RESIZE_BILINEAR (half pixel) -> MUL (int8 constant) -> SUB
  // -> LEAKY_RELU -> HARD_SWISH -> TANH, SUB -> ABS, SUB -> RELU6, LEAKY_RELU -> RELU -> RESHAPE;
  // every tensor a model output, each checked from Polyhead's own previous layer.
  struct Q {
    float scale;
    int zp;
  };
  const Q qx{0.05f, 3}, qm{0.04f, 0}, qs{0.06f, -10}, qlr{0.04f, -60}, qhs{0.03f, -90},
      qth{1.f / 128, 0}, qr6{6.f / 255, -128}, qre{0.03f, -128};
  TfliteWriter w;
  auto act = [&](const char* name, std::vector<int32_t> shape, Q q) {
    return w.i8(name, shape, q.scale, q.zp);
  };
  const int x = act("x", {1, 4, 4, 2}, qx);
  const int pads = w.const_i32("pads", {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
  const int p = act("padded", {1, 6, 6, 2}, qx);
  w.op(tfl::kPad, {x, pads}, {p}, {}, 22);
  const int size = w.const_i32("size", {2}, {8, 8});
  const int r = act("resized", {1, 8, 8, 2}, qx);
  w.op(tfl::kResizeBilinear, {p, size}, {r},
       {TfField::boolean(2, false), TfField::boolean(3, true)}, 15);
  const int c = w.const_i8("c", {2}, {50, -75}, TfQuant::per_tensor(0.02f, 0));
  const int m = act("scaled", {1, 8, 8, 2}, qm);
  w.op(tfl::kMul, {r, c}, {m}, {TfField::byte(0, kActNone)}, 21);
  const int s = act("diff", {1, 8, 8, 2}, qs);
  w.op(tfl::kSub, {m, r}, {s}, {TfField::byte(0, kActNone)}, 28);
  const int lr = act("leaky", {1, 8, 8, 2}, qlr);
  w.op(tfl::kLeakyRelu, {s}, {lr}, {TfField::f32(0, 0.2f)}, 1);
  const int hs = act("hswish", {1, 8, 8, 2}, qhs);
  w.op(tfl::kHardSwish, {lr}, {hs}, {}, kOptNone);
  const int th = act("tanh", {1, 8, 8, 2}, qth);
  w.op(tfl::kTanh, {hs}, {th}, {}, kOptNone);
  const int ab = act("abs", {1, 8, 8, 2}, qs);
  w.op(tfl::kAbs, {s}, {ab}, {}, kOptNone);
  const int r6 = act("relu6", {1, 8, 8, 2}, qr6);
  w.op(tfl::kRelu6, {s}, {r6}, {}, kOptNone);
  const int re = act("relu", {1, 8, 8, 2}, qre);
  w.op(tfl::kRelu, {lr}, {re}, {}, kOptNone);
  const int shape = w.const_i32("shape", {2}, {1, 128});
  const int flat = act("flat", {1, 128}, qre);
  w.op(tfl::kReshape, {re, shape}, {flat}, {}, 17);
  w.inputs({x});
  w.outputs({p, r, m, s, lr, hs, th, ab, r6, re, flat});
  tfl::ConvertReport report;
  const Phm phm = convert_ok(w.finish(), &report);
  CHECK(phm.producer("relu6")->op() == sc::OpKind::CLAMP);
  CHECK(phm.producer("abs")->op() == sc::OpKind::ABS);
  CHECK(phm.tensor("c")->type() == sc::ElementType::I8);
  CHECK(phm.quant("resized").scale == std::vector<float>{qx.scale});

  auto model = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO((plan.is_ok() ? "" : plan.status().to_string()));
  REQUIRE(plan.is_ok());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-4.f, 4.f);
  std::vector<float> in(32);
  for (float& v : in) v = dist(rng);
  REQUIRE(plan->set_input("x", in.data(), in.size()).is_ok());
  const polyhead::Status run = plan->run();
  INFO(run.to_string());
  REQUIRE(run.is_ok());
  auto out = [&](const std::string& task) {
    auto view = plan->output(task, task);
    REQUIRE(view.is_ok());
    return std::vector<float>(view->f32(), view->f32() + view->shape.elements());
  };
  auto map = [](const std::vector<float>& a, const std::function<double(double)>& f) {
    std::vector<double> r;
    for (float v : a) r.push_back(f(v));
    return r;
  };

  std::vector<double> ref(72, 0.0);
  for (int y = 0; y < 4; ++y)
    for (int xx = 0; xx < 4; ++xx)
      for (int ch = 0; ch < 2; ++ch)
        ref[static_cast<size_t>(((y + 1) * 6 + xx + 1) * 2 + ch)] =
            requant(in[static_cast<size_t>((y * 4 + xx) * 2 + ch)], qx.scale, qx.zp);
  const auto padded = out("padded");
  check_layer("padded", padded, ref, qx.scale, qx.zp);

  ref.assign(128, 0.0);
  for (int y = 0; y < 8; ++y)
    for (int xx = 0; xx < 8; ++xx)
      for (int ch = 0; ch < 2; ++ch) {
        // Half-pixel centres: source = (d + 0.5) * in / out - 0.5, clamped at 0.
        const double sy = std::max(0.0, (y + 0.5) * 6 / 8 - 0.5);
        const double sx = std::max(0.0, (xx + 0.5) * 6 / 8 - 0.5);
        const int y0 = static_cast<int>(sy), x0 = static_cast<int>(sx);
        const int y1 = std::min(y0 + 1, 5), x1 = std::min(x0 + 1, 5);
        auto at = [&](int yy, int xi) {
          return padded[static_cast<size_t>((yy * 6 + xi) * 2 + ch)];
        };
        const double fy = sy - y0, fx = sx - x0;
        ref[static_cast<size_t>((y * 8 + xx) * 2 + ch)] =
            (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
            fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      }
  const auto resized = out("resized");
  check_layer("resized", resized, ref, qx.scale, qx.zp);

  const auto scaled = out("scaled");
  for (size_t i = 0; i < 128; ++i) ref[i] = resized[i] * (i % 2 ? -75 * 0.02 : 50 * 0.02);
  check_layer("scaled", scaled, ref, qm.scale, qm.zp);
  const auto diff = out("diff");
  for (size_t i = 0; i < 128; ++i) ref[i] = double(scaled[i]) - resized[i];
  check_layer("diff", diff, ref, qs.scale, qs.zp);
  const auto leaky = out("leaky");
  check_layer("leaky", leaky, map(diff, [](double v) { return v < 0 ? 0.2 * v : v; }), qlr.scale,
              qlr.zp);
  const auto hswish = out("hswish");
  check_layer("hswish", hswish,
              map(leaky, [](double v) { return v * std::min(6.0, std::max(0.0, v + 3)) / 6; }),
              qhs.scale, qhs.zp);
  check_layer("tanh", out("tanh"), map(hswish, [](double v) { return std::tanh(v); }), qth.scale,
              qth.zp);
  check_layer("abs", out("abs"), map(diff, [](double v) { return std::fabs(v); }), qs.scale, qs.zp);
  check_layer("relu6", out("relu6"),
              map(diff, [](double v) { return std::min(6.0, std::max(0.0, v)); }), qr6.scale,
              qr6.zp);
  const auto relu = out("relu");
  check_layer("relu", relu, map(leaky, [](double v) { return std::max(0.0, v); }), qre.scale,
              qre.zp);
  check_layer("flat", out("flat"), map(relu, [](double v) { return v; }), qre.scale, qre.zp);
}

// Runs a converted float model on `inputs` (by name) and returns every task output by name.
std::map<std::string, std::vector<float>> run_outputs(
    const Phm& phm, const std::map<std::string, std::vector<float>>& inputs) {
  auto model = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  for (const auto& [name, values] : inputs)
    REQUIRE(plan->set_input(name, values.data(), values.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  std::map<std::string, std::vector<float>> outputs;
  for (const auto& t : model->tasks())
    for (const auto& o : t.outputs) {
      auto v = plan->output(t.name, o.name);
      REQUIRE(v.is_ok());
      outputs[o.name] = std::vector<float>(v->f32(), v->f32() + v->shape.elements());
    }
  return outputs;
}

TEST_CASE("tflite: a RELU that is the only reader of a float node becomes its fused activation",
          "[tflite][fold]") {
  // x + k -> RELU6 (folded into the ADD); x + k with a fused RELU -> RELU_N1_TO_1 (folded: the
  // ranges intersect to [0, 1]); x + k read by a RELU and by a MUL (kept: two readers).
  TfliteWriter w;
  const int x = w.f32("x", {1, 4, 4, 3});
  const int k = w.const_f32("k", {3}, {0.5f, -1.f, 4.f});
  const std::vector<TfField> none = {TfField::byte(0, kActNone)};
  const std::vector<TfField> relu = {TfField::byte(0, polyhead::testing::kActRelu)};
  const int a = w.f32("a", {1, 4, 4, 3});
  const int y1 = w.f32("y1", {1, 4, 4, 3});
  w.op(tfl::kAdd, {x, k}, {a}, none, polyhead::testing::kOptAdd);
  w.op(tfl::kRelu6, {a}, {y1}, {}, kOptNone);
  const int b = w.f32("b", {1, 4, 4, 3});
  const int y2 = w.f32("y2", {1, 4, 4, 3});
  w.op(tfl::kAdd, {x, k}, {b}, relu, polyhead::testing::kOptAdd);
  w.op(tfl::kReluN1To1, {b}, {y2}, {}, kOptNone);
  const int c = w.f32("c", {1, 4, 4, 3});
  const int y3 = w.f32("y3", {1, 4, 4, 3});
  const int y4 = w.f32("y4", {1, 4, 4, 3});
  w.op(tfl::kAdd, {x, k}, {c}, none, polyhead::testing::kOptAdd);
  w.op(tfl::kRelu, {c}, {y3}, {}, kOptNone);
  w.op(tfl::kMul, {c, c}, {y4}, none, polyhead::testing::kOptMul);
  w.inputs({x});
  w.outputs({y1, y2, y3, y4});
  tfl::ConvertReport report;
  const Phm phm = convert_ok(w.finish(), &report);
  CHECK(report.folded_relus == 2);
  CHECK(report.nodes["CLAMP"] == 1);  // the RELU after the ADD that the MUL also reads
  CHECK(report.nodes["ADD"] == 3);

  std::vector<float> in(48);
  for (size_t i = 0; i < in.size(); ++i) in[i] = -3.f + 0.25f * static_cast<float>(i % 29);
  auto outs = run_outputs(phm, {{"x", in}});
  const std::vector<float>&o1 = outs["y1"], &o2 = outs["y2"], &o3 = outs["y3"], &o4 = outs["y4"];
  REQUIRE(o1.size() == in.size());
  const float kv[3] = {0.5f, -1.f, 4.f};
  for (size_t i = 0; i < in.size(); ++i) {
    const float s = in[i] + kv[i % 3];
    INFO("element " << i);
    CHECK(o1[i] == std::min(std::max(s, 0.f), 6.f));
    CHECK(o2[i] == std::min(std::max(s, 0.f), 1.f));
    CHECK(o3[i] == std::max(s, 0.f));
    CHECK(o4[i] == s * s);
  }
}

TEST_CASE("tflite: x * LOGISTIC(x) becomes one SILU node; other products of a sigmoid stay",
          "[tflite][fold][silu]") {
  // swish = MUL(x, LOGISTIC(x)) in both operand orders; a gate MUL(y, LOGISTIC(x)) and a
  // LOGISTIC that is also a model output are not swishes.
  TfliteWriter w;
  const int x = w.f32("x", {1, 4, 4, 3});
  const int y = w.f32("y", {1, 4, 4, 3});
  const std::vector<TfField> none = {TfField::byte(0, kActNone)};
  const int mul = polyhead::testing::kOptMul;
  const int s1 = w.f32("s1", {1, 4, 4, 3}), o1 = w.f32("swish1", {1, 4, 4, 3});
  w.op(tfl::kLogistic, {x}, {s1}, {}, kOptNone);
  w.op(tfl::kMul, {x, s1}, {o1}, none, mul);
  const int s2 = w.f32("s2", {1, 4, 4, 3}), o2 = w.f32("swish2", {1, 4, 4, 3});
  w.op(tfl::kLogistic, {y}, {s2}, {}, kOptNone);
  w.op(tfl::kMul, {s2, y}, {o2}, none, mul);
  const int s3 = w.f32("s3", {1, 4, 4, 3}), o3 = w.f32("gated", {1, 4, 4, 3});
  w.op(tfl::kLogistic, {x}, {s3}, {}, kOptNone);
  w.op(tfl::kMul, {y, s3}, {o3}, none, mul);
  const int s4 = w.f32("s4", {1, 4, 4, 3}), o4 = w.f32("swish_kept", {1, 4, 4, 3});
  w.op(tfl::kLogistic, {y}, {s4}, {}, kOptNone);
  w.op(tfl::kMul, {y, s4}, {o4}, none, mul);
  w.inputs({x, y});
  w.outputs({o1, o2, o3, o4, s4});
  tfl::ConvertReport report;
  const Phm phm = convert_ok(w.finish(), &report);
  CHECK(report.folded_swishes == 2);
  CHECK(report.nodes["SILU"] == 2);
  CHECK(report.nodes["SIGMOID"] == 2);
  CHECK(report.nodes["MUL"] == 2);

  auto model = polyhead::Model::from_bytes(phm.bytes());
  REQUIRE(model.is_ok());
  CHECK(model->format_version_minor() == 4);
  std::vector<float> xv(48), yv(48);
  for (size_t i = 0; i < xv.size(); ++i) {
    xv[i] = -6.f + 0.25f * static_cast<float>(i);
    yv[i] = 5.f - 0.2f * static_cast<float>(i);
  }
  auto outs = run_outputs(phm, {{"x", xv}, {"y", yv}});
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  const std::vector<float>&w1 = outs["swish1"], &w2 = outs["swish2"], &g = outs["gated"],
        &k = outs["swish_kept"];
  REQUIRE(w1.size() == xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    INFO("element " << i);
    CHECK(w1[i] == Approx(xv[i] * sigmoid(xv[i])).epsilon(1e-5).margin(1e-6));
    CHECK(w2[i] == Approx(yv[i] * sigmoid(yv[i])).epsilon(1e-5).margin(1e-6));
    CHECK(g[i] == Approx(yv[i] * sigmoid(xv[i])).epsilon(1e-5).margin(1e-6));
    CHECK(k[i] == Approx(yv[i] * sigmoid(yv[i])).epsilon(1e-5).margin(1e-6));
  }
}
