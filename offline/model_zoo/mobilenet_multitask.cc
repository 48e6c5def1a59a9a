#include "offline/model_zoo/mobilenet_multitask.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "polyhead/model_builder.h"

namespace polyhead::zoo {
namespace {

// The usual MobileNet rule: round to a multiple of 8 without losing more than 10%.
int make_divisible(float v, int divisor = 8) {
  int rounded = std::max(divisor, static_cast<int>(v + divisor / 2.f) / divisor * divisor);
  if (rounded < 0.9f * v) rounded += divisor;
  return rounded;
}

// TF "SAME" padding along one axis: the extra row/column goes to the bottom/right.
struct SamePad {
  int before, after;
};
SamePad same_padding(int64_t in, int kernel, int stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {static_cast<int>(total / 2), static_cast<int>(total - total / 2)};
}

// Builds the graph node by node and draws seeded weights. Weights are scaled like a network with
// BatchNorm folded in: He-uniform before ReLU/ReLU6 (keeps E[x^2] through the rectifier) and
// LeCun-uniform before linear outputs (keeps the variance), so activations stay O(1) at any depth.
class Net {
 public:
  Net(ModelBuilder& b, uint32_t seed) : b_(b), rng_(seed) {}

  int constant(const std::string& name, const Shape& shape, float bound, float offset = 0.f) {
    std::uniform_real_distribution<float> dist(-bound, bound);
    std::vector<float> v(static_cast<size_t>(shape.elements()));
    for (float& x : v) x = dist(rng_) + offset;
    return b_.add_constant(name, shape, v);
  }

  // A k x k convolution (groups = channels makes it depthwise) with "SAME" padding.
  Result<int> conv(const std::string& name, int x, int out_channels, int kernel, int stride,
                   bool depthwise, Activation act, float gain = 1.f) {
    const Shape in = b_.shape(x);
    const int in_channels = static_cast<int>(in[3]);
    const int per_group = depthwise ? 1 : in_channels;
    const int fan_in = kernel * kernel * per_group;
    const bool rectified = act.min == 0.f;
    const float bound = gain * std::sqrt((rectified ? 6.f : 3.f) / static_cast<float>(fan_in));
    const int w = constant(name + ".w", Shape{out_channels, kernel, kernel, per_group}, bound);
    // Small positive bias before a rectifier keeps units alive, as a folded BatchNorm would.
    const int bias = constant(name + ".b", Shape{out_channels}, 0.02f, rectified ? 0.02f : 0.f);
    Conv2DParams p;
    p.stride_h = p.stride_w = stride;
    const SamePad ph = same_padding(in[1], kernel, stride),
                  pw = same_padding(in[2], kernel, stride);
    p.pad_top = ph.before;
    p.pad_bottom = ph.after;
    p.pad_left = pw.before;
    p.pad_right = pw.after;
    p.groups = depthwise ? in_channels : 1;
    p.activation = act;
    return b_.conv2d(name, x, w, bias, p);
  }

  ModelBuilder& builder() { return b_; }

 private:
  ModelBuilder& b_;
  std::mt19937 rng_;
};

Status check_options(const MobileNetMultitaskOptions& o) {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kInvalidArgument, what); };
  if (o.input_size < 32 || o.input_size > 4096 || o.input_size % 32 != 0)
    return bad("input_size must be a multiple of 32 in [32, 4096], found " +
               std::to_string(o.input_size));
  if (!(o.width >= 0.1f && o.width <= 4.f))
    return bad("width must be in [0.1, 4], found " + std::to_string(o.width));
  if (o.classes < 1 || o.classes > 100000)
    return bad("classes must be in [1, 100000], found " + std::to_string(o.classes));
  if (o.seg_classes < 1 || o.seg_classes > 1024)
    return bad("seg_classes must be in [1, 1024], found " + std::to_string(o.seg_classes));
  if (o.det_classes < 1 || o.det_classes > 1024)
    return bad("det_classes must be in [1, 1024], found " + std::to_string(o.det_classes));
  if (o.anchors_per_cell < 1 || o.anchors_per_cell > 16)
    return bad("anchors_per_cell must be in [1, 16], found " + std::to_string(o.anchors_per_cell));
  return Status::ok();
}

// SSD-style anchors of one level, in the order the reshaped predictions use: row, column, anchor.
// Aspect ratios are powers of two centred on 1 (3 anchors: 1:2, 1:1, 2:1).
void append_anchors(int64_t h, int64_t w, int anchors, float scale, std::vector<float>& out) {
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      for (int a = 0; a < anchors; ++a) {
        const float ratio = std::pow(2.f, static_cast<float>(a) - (anchors - 1) / 2.f);
        out.push_back((static_cast<float>(i) + 0.5f) / static_cast<float>(h));
        out.push_back((static_cast<float>(j) + 0.5f) / static_cast<float>(w));
        out.push_back(scale / std::sqrt(ratio));
        out.push_back(scale * std::sqrt(ratio));
      }
}

struct DetectLevel {
  int boxes;   // [1, cells*anchors, 4]
  int scores;  // [1, cells*anchors, det_classes], before the softmax
};

Result<DetectLevel> detect_level(Net& net, const std::string& prefix, int feature,
                                 const MobileNetMultitaskOptions& o) {
  ModelBuilder& b = net.builder();
  const Shape s = b.shape(feature);
  const int channels = static_cast<int>(s[3]);
  const int64_t cells = s[1] * s[2];
  PH_ASSIGN_OR_RETURN(int dw,
                      net.conv(prefix + ".dw", feature, channels, 3, 1, true, Activation::relu6()));
  PH_ASSIGN_OR_RETURN(int boxes, net.conv(prefix + ".boxes", dw, o.anchors_per_cell * 4, 1, 1,
                                          false, Activation::none()));
  PH_ASSIGN_OR_RETURN(
      int scores, net.conv(prefix + ".scores", dw, o.anchors_per_cell * o.det_classes, 1, 1, false,
                           Activation::none()));
  DetectLevel level;
  PH_ASSIGN_OR_RETURN(level.boxes, b.reshape(prefix + ".boxes_flat", boxes,
                                             Shape{1, cells * o.anchors_per_cell, 4}));
  PH_ASSIGN_OR_RETURN(level.scores, b.reshape(prefix + ".scores_flat", scores,
                                              Shape{1, cells * o.anchors_per_cell, o.det_classes}));
  return level;
}

}  // namespace

Result<std::vector<uint8_t>> build_mobilenet_multitask(const MobileNetMultitaskOptions& o) {
  PH_RETURN_IF_ERROR(check_options(o));
  ModelBuilder b;
  b.set_producer("polyhead model_zoo");
  b.set_description("MobileNetV2 multi-task (classify, segment, detect) with seeded weights");
  b.add_metadata("architecture", "mobilenet_v2");
  b.add_metadata("width", std::to_string(o.width));
  b.add_metadata("seed", std::to_string(o.seed));
  Net net(b, o.seed);

  Preprocess pre;
  pre.width = pre.height = o.input_size;
  pre.layout = Layout::kNhwc;
  pre.color = ColorOrder::kRgb;
  // ImageNet statistics on pixels scaled to [0, 1].
  pre.pixel_scale = 1.f;
  pre.mean = {0.485f, 0.456f, 0.406f};
  pre.std = {0.229f, 0.224f, 0.225f};
  const int image = b.add_input("image", Shape{1, o.input_size, o.input_size, 3}, pre);

  PH_ASSIGN_OR_RETURN(int x, net.conv("backbone.stem", image, make_divisible(32 * o.width), 3, 2,
                                      false, Activation::relu6()));
  struct Stage {
    int t, c, n, s;
  };
  static const Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                  {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int block = 0;
  int stride16 = -1;  // the last 96-channel block: the heads' stride-16 branch point
  for (const Stage& st : kStages) {
    const int out_channels = make_divisible(st.c * o.width);
    for (int r = 0; r < st.n; ++r, ++block) {
      const std::string name = "backbone.block" + std::to_string(block);
      const int stride = r == 0 ? st.s : 1;
      const int in_channels = static_cast<int>(b.shape(x)[3]);
      int h = x;
      if (st.t != 1) {
        PH_ASSIGN_OR_RETURN(
            h, net.conv(name + ".expand", h, in_channels * st.t, 1, 1, false, Activation::relu6()));
      }
      PH_ASSIGN_OR_RETURN(h, net.conv(name + ".dw", h, static_cast<int>(b.shape(h)[3]), 3, stride,
                                      true, Activation::relu6()));
      const bool residual = stride == 1 && in_channels == out_channels;
      // A residual branch starts small (as a trained one tends to) so sums do not grow per block.
      PH_ASSIGN_OR_RETURN(h, net.conv(name + ".project", h, out_channels, 1, 1, false,
                                      Activation::none(), residual ? 0.5f : 1.f));
      if (residual) {
        PH_ASSIGN_OR_RETURN(h, b.binary(name + ".add", BinaryOp::kAdd, x, h));
      }
      x = h;
    }
    if (st.c == 96) stride16 = x;
  }
  PH_ASSIGN_OR_RETURN(const int stride32, net.conv("backbone.conv_last", x,
                                                   make_divisible(1280 * std::max(1.f, o.width)), 1,
                                                   1, false, Activation::relu6()));

  // classify: global average + fully connected.
  PH_ASSIGN_OR_RETURN(const int pooled, b.mean("classify.pool", stride32, false));
  const int features = static_cast<int>(b.shape(pooled)[1]);
  const int fc_w = net.constant("classify.fc.w", Shape{o.classes, features},
                                std::sqrt(3.f / static_cast<float>(features)));
  const int fc_b = net.constant("classify.fc.b", Shape{o.classes}, 0.02f);
  PH_ASSIGN_OR_RETURN(const int logits, b.fully_connected("classify.fc", pooled, fc_w, fc_b));

  // segment: LR-ASPP-like. A 1x1 branch is gated by a squeeze-excite style global branch.
  PH_ASSIGN_OR_RETURN(const int branch1,
                      net.conv("segment.conv1", stride16, 128, 1, 1, false, Activation::relu()));
  PH_ASSIGN_OR_RETURN(const int squeeze, b.mean("segment.pool", stride16, true));
  PH_ASSIGN_OR_RETURN(const int gate_logits,
                      net.conv("segment.gate", squeeze, 128, 1, 1, false, Activation::none()));
  PH_ASSIGN_OR_RETURN(const int gate,
                      b.unary("segment.gate_sigmoid", UnaryOp::kSigmoid, gate_logits));
  PH_ASSIGN_OR_RETURN(const int attended,
                      b.binary("segment.attend", BinaryOp::kMul, branch1, gate));
  PH_ASSIGN_OR_RETURN(const int seg_logits, net.conv("segment.classifier", attended, o.seg_classes,
                                                     1, 1, false, Activation::none()));
  PH_ASSIGN_OR_RETURN(const int mask,
                      b.resize("segment.upsample", seg_logits, o.input_size / 4, o.input_size / 4,
                               ResizeMode::kBilinear, ResizeCoordinates::kHalfPixel));

  // detect: SSD-style predictors on the stride-16 and stride-32 features.
  PH_ASSIGN_OR_RETURN(const DetectLevel s16, detect_level(net, "detect.s16", stride16, o));
  PH_ASSIGN_OR_RETURN(const DetectLevel s32, detect_level(net, "detect.s32", stride32, o));
  PH_ASSIGN_OR_RETURN(const int boxes, b.concatenation("detect.boxes", {s16.boxes, s32.boxes}, 1));
  PH_ASSIGN_OR_RETURN(const int score_logits,
                      b.concatenation("detect.score_logits", {s16.scores, s32.scores}, 1));
  PH_ASSIGN_OR_RETURN(const int scores, b.softmax("detect.scores", score_logits));

  PostProcessParams classify_post;
  classify_post.activation = OutputActivation::kSoftmax;
  PH_RETURN_IF_ERROR(
      b.add_task("classify", TaskKind::kClassification, {{"logits", logits}}, classify_post));
  PostProcessParams segment_post;
  segment_post.activation = OutputActivation::kSoftmax;
  PH_RETURN_IF_ERROR(
      b.add_task("segment", TaskKind::kSegmentation, {{"mask", mask}}, segment_post, 0, 1));
  PostProcessParams detect_post;  // scores are already softmaxed in the graph
  const Shape f16 = b.shape(stride16), f32 = b.shape(stride32);
  append_anchors(f16[1], f16[2], o.anchors_per_cell, 0.2f, detect_post.anchors);
  append_anchors(f32[1], f32[2], o.anchors_per_cell, 0.5f, detect_post.anchors);
  PH_RETURN_IF_ERROR(b.add_task("detect", TaskKind::kDetection,
                                {{"boxes", boxes}, {"scores", scores}}, detect_post));
  return b.finish();
}

}  // namespace polyhead::zoo
