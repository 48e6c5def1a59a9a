#include "support/test_models.h"

#include <cstring>
#include <stdexcept>

namespace polyhead::testing {

std::vector<float> random_values(size_t count, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

int random_constant(ModelBuilder& b, const std::string& name, const Shape& shape, uint32_t seed,
                    float scale) {
  return b.add_constant(name, shape,
                        random_values(static_cast<size_t>(shape.elements()), seed, scale));
}

AlignedBytes::AlignedBytes(const std::vector<uint8_t>& bytes)
    : data(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes.size() + 64) / 64 * 64)),
           &std::free),
      size(bytes.size()) {
  if (!data) throw std::bad_alloc();
  if (!bytes.empty()) std::memcpy(data.get(), bytes.data(), bytes.size());
}

namespace {
int must(Result<int> r) {
  if (!r.is_ok()) throw std::runtime_error(r.status().to_string());
  return *r;
}
}  // namespace

std::vector<uint8_t> tiny_two_task_model() {
  ModelBuilder b;
  const int x = b.add_input("image", Shape{1, 8, 8, 3});
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu6();
  const int w0 = random_constant(b, "stem.w", Shape{4, 3, 3, 3}, 1, 0.5f);
  const int b0 = random_constant(b, "stem.b", Shape{4}, 2, 0.1f);
  const int stem = must(b.conv2d("stem", x, w0, b0, c));
  const int pooled = must(b.mean("classify.pool", stem, false));
  const int fw = random_constant(b, "classify.w", Shape{5, 4}, 3, 0.5f);
  const int logits = must(b.fully_connected("classify.fc", pooled, fw, -1));
  Conv2DParams s;
  const int sw = random_constant(b, "segment.w", Shape{2, 1, 1, 4}, 4, 0.5f);
  const int mask = must(b.conv2d("segment.conv", stem, sw, -1, s));
  if (!b.add_task("classify", TaskKind::kClassification, {{"logits", logits}}).is_ok() ||
      !b.add_task("segment", TaskKind::kSegmentation, {{"mask", mask}}).is_ok())
    throw std::runtime_error("add_task failed");
  auto bytes = b.finish();
  if (!bytes.is_ok()) throw std::runtime_error(bytes.status().to_string());
  return *bytes;
}

// A model that uses every operator kind the builder writes (DEPTHWISE_CONV_2D is a reserved alias
// of CONV_2D with groups == channels, which is here too), spread over three tasks.
std::vector<uint8_t> every_operator_model() {
  ModelBuilder b;
  Preprocess pre;
  pre.width = 8;
  pre.height = 8;
  pre.mean = {0.5f, 0.5f, 0.5f, 0.5f};
  pre.std = {0.25f, 0.25f, 0.25f, 0.25f};
  const int image = b.add_input("image", Shape{1, 8, 8, 4}, pre);
  const int aux = b.add_input("aux", Shape{1, 4});

  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu6();
  const int conv =
      must(b.conv2d("conv", image, random_constant(b, "conv.w", Shape{8, 3, 3, 4}, 1, 0.3f),
                    random_constant(b, "conv.b", Shape{8}, 2, 0.1f), c));
  Conv2DParams d;
  d.stride_h = d.stride_w = 2;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  d.groups = 8;
  const int dw =
      must(b.conv2d("dw", conv, random_constant(b, "dw.w", Shape{8, 3, 3, 1}, 3, 0.3f), -1, d));
  TransposeConv2DParams t;
  t.stride_h = t.stride_w = 2;
  const int up =
      must(b.transpose_conv2d("up", dw, random_constant(b, "up.w", Shape{4, 2, 2, 8}, 4, 0.3f),
                              random_constant(b, "up.b", Shape{4}, 5, 0.1f), t));
  const int add = must(b.binary("add", BinaryOp::kAdd, up, image));
  const int sub =
      must(b.binary("sub", BinaryOp::kSub, add, random_constant(b, "sub.c", Shape{4}, 6, 0.5f)));
  const int mul = must(
      b.binary("mul", BinaryOp::kMul, sub, random_constant(b, "mul.c", Shape{1, 1, 1, 4}, 7, 1.f)));
  const int divisor = b.add_constant("div.c", Shape{4}, {1.f, 1.5f, 2.f, 1.25f});
  const int div = must(b.binary("div", BinaryOp::kDiv, mul, divisor, Activation{-4.f, 4.f}));
  Pool2DParams mp;
  mp.filter_h = mp.filter_w = 2;
  mp.stride_h = mp.stride_w = 2;
  const int maxp = must(b.pool2d("maxpool", PoolOp::kMax, div, mp));
  Pool2DParams ap;
  ap.filter_h = ap.filter_w = 3;
  ap.pad_top = ap.pad_left = ap.pad_bottom = ap.pad_right = 1;
  const int avgp = must(b.pool2d("avgpool", PoolOp::kAverage, maxp, ap));
  const int pad = must(b.pad("pad", avgp, {0, 1, 1, 0}, {0, 1, 2, 0}, 0.5f));
  const int bil = must(
      b.resize("bilinear", pad, 12, 10, ResizeMode::kBilinear, ResizeCoordinates::kAlignCorners));
  const int near =
      must(b.resize("nearest", bil, 6, 6, ResizeMode::kNearest, ResizeCoordinates::kAsymmetric));
  const int hs = must(b.unary("hardswish", UnaryOp::kHardSwish, near));
  const int sg = must(b.unary("sigmoid", UnaryOp::kSigmoid, hs));
  const int th = must(b.unary("tanh", UnaryOp::kTanh, sg));
  const int cl = must(b.clamp("clamp", th, -0.5f, 0.5f));
  const int lr = must(b.leaky_relu("leaky", cl, 0.1f));
  const int pr = must(b.prelu("prelu", lr, random_constant(b, "prelu.slope", Shape{4}, 8, 0.5f)));
  const int ab = must(b.abs("abs", near));
  const int si = must(b.silu("silu", ab));
  const int cat = must(b.concatenation("concat", {pr, si}, 3));
  const int sh = must(b.channel_shuffle("shuffle", cat, 2));
  const int d2s = must(b.depth_to_space("d2s", sh, 2));  // [1,12,12,2]
  // Rows bottom-up, every column: the same shape.
  const int flip = must(b.slice("slice", d2s, {0, 11, 0, 0}, {1, 12, 12, 2}, {1, -1, 1, 1}));
  const int tr = must(b.transpose("transpose", flip, {0, 3, 1, 2}));  // [1,2,12,12]
  const int flat = must(b.reshape("reshape", tr, Shape{1, 288}));
  const int fc =
      must(b.fully_connected("fc", flat, random_constant(b, "fc.w", Shape{4, 288}, 9, 0.1f),
                             random_constant(b, "fc.b", Shape{4}, 10, 0.1f)));
  const int mixed = must(b.binary("mix", BinaryOp::kAdd, fc, aux));
  const int probs = must(b.softmax("softmax", mixed));
  const int sharp = must(b.softmax("softmax_beta", mixed, 2.f));
  const int pooled = must(b.mean("mean", conv, true));
  const int vec = must(b.mean("mean_flat", conv, false));

  auto ok = [](const Status& s) {
    if (!s.is_ok()) throw std::runtime_error("add_task: " + s.to_string());
  };
  ok(b.add_task("classes", TaskKind::kClassification, {{"probs", probs}, {"sharp", sharp}}));
  ok(b.add_task("dense", TaskKind::kSegmentation, {{"map", d2s}}));
  ok(b.add_task("pooled", TaskKind::kEmbedding, {{"keep", pooled}, {"flat", vec}}));
  auto bytes = b.finish();
  if (!bytes.is_ok()) throw std::runtime_error("finish: " + bytes.status().to_string());
  return *bytes;
}

}  // namespace polyhead::testing
