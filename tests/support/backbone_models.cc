#include "support/backbone_models.h"

#include <stdexcept>

#include "support/test_models.h"

namespace polyhead::testing {

namespace {

int must(Result<int> r) {
  if (!r.is_ok()) throw std::runtime_error(r.status().to_string());
  return *r;
}

std::vector<uint8_t> finish(const ModelBuilder& b) {
  auto bytes = b.finish();
  if (!bytes.is_ok()) throw std::runtime_error(bytes.status().to_string());
  return *bytes;
}

void task(ModelBuilder& b, const std::string& name, TaskKind kind,
          const std::vector<TaskOutputRef>& outputs) {
  const Status s = b.add_task(name, kind, outputs);
  if (!s.is_ok()) throw std::runtime_error(s.to_string());
}

Conv2DParams conv_params(int kernel, int stride, int groups = 1) {
  Conv2DParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = kernel / 2;
  p.groups = groups;
  p.activation = Activation::relu6();
  return p;
}

}  // namespace

std::vector<int> add_backbone(ModelBuilder& b, int input, const BackboneSpec& spec) {
  const std::string& p = spec.prefix;
  // Same seeds in every model (one frozen backbone) unless the spec re-seeds from a stage on.
  auto seed = [&](int stage, int k) {
    return static_cast<uint32_t>(10 * stage + k +
                                 (spec.differ_at >= 0 && stage >= spec.differ_at ? 1000 : 0));
  };
  auto conv = [&](const std::string& name, int stage, int x, const Shape& w, int kernel, int stride,
                  int groups = 1) {
    const int wt = random_constant(b, name + ".w", w, seed(stage, 1), 0.4f);
    const int bt = random_constant(b, name + ".b", Shape{w[0]}, seed(stage, 2), 0.1f);
    return must(b.conv2d(name, x, wt, bt, conv_params(kernel, stride, groups)));
  };
  std::vector<int> out;
  out.push_back(conv(p + ".stem", 0, input, Shape{8, 3, 3, 3}, 3, 1));
  if (spec.stages > 1) out.push_back(conv(p + ".down1", 1, out.back(), Shape{8, 3, 3, 8}, 3, 2));
  if (spec.stages > 2) {
    const int dw = conv(p + ".block2.dw", 2, out.back(), Shape{8, 3, 3, 1}, 3, 1, 8);
    const int pw = conv(p + ".block2.pw", 2, dw, Shape{8, 1, 1, 8}, 1, 1);
    out.push_back(must(b.binary(p + ".block2.add", BinaryOp::kAdd, pw, out.back())));
  }
  if (spec.stages > 3) out.push_back(conv(p + ".down3", 3, out.back(), Shape{16, 3, 3, 8}, 3, 2));
  if (spec.stages > 4) out.push_back(conv(p + ".block4", 4, out.back(), Shape{16, 1, 1, 16}, 1, 1));
  return out;
}

std::vector<uint8_t> classify_model(const BackboneSpec& spec, const std::string& name) {
  ModelBuilder b;
  const int x = b.add_input("image", spec.input, spec.preprocess);
  const std::vector<int> stages = add_backbone(b, x, spec);
  const int pooled = must(b.mean(spec.prefix + ".pool", stages.back(), false));
  const int w = random_constant(b, spec.prefix + ".fc.w", Shape{10, b.shape(pooled)[1]}, 501, 0.3f);
  const int logits =
      must(b.fully_connected(spec.prefix + ".fc", pooled, w,
                             random_constant(b, spec.prefix + ".fc.b", Shape{10}, 502, 0.1f)));
  task(b, name, TaskKind::kClassification, {{"logits", logits}});
  b.add_metadata("license", "test");
  return finish(b);
}

std::vector<uint8_t> segment_model(const BackboneSpec& spec) {
  BackboneSpec s = spec;
  s.stages = 3;
  ModelBuilder b;
  const int x = b.add_input("image", s.input, s.preprocess);
  const std::vector<int> stages = add_backbone(b, x, s);
  Conv2DParams p;
  const int skip =
      must(b.conv2d("seg.skip", stages[1],
                    random_constant(b, "seg.skip.w", Shape{4, 1, 1, 8}, 601, 0.3f), -1, p));
  const int deep =
      must(b.conv2d("seg.deep", stages[2],
                    random_constant(b, "seg.deep.w", Shape{4, 1, 1, 8}, 602, 0.3f), -1, p));
  const int sum = must(b.binary("seg.sum", BinaryOp::kAdd, skip, deep));
  const int mask = must(b.clamp("seg.mask", sum, 0.f, 6.f));
  task(b, "segment", TaskKind::kSegmentation, {{"mask", mask}});
  return finish(b);
}

std::vector<uint8_t> detect_model(const BackboneSpec& spec) {
  ModelBuilder b;
  const int w2 = random_constant(b, "det.s2.w", Shape{4, 1, 1, 8}, 701, 0.3f);
  const int w4 = random_constant(b, "det.s4.w", Shape{4, 1, 1, 16}, 702, 0.3f);
  const int x = b.add_input("image", spec.input, spec.preprocess);
  const std::vector<int> stages = add_backbone(b, x, spec);
  Conv2DParams p;
  const int c2 = must(b.conv2d("det.s2", stages[2], w2, -1, p));
  const int r2 = must(b.reshape("det.s2.flat", c2, Shape{1, 64, 4}));
  const int c4 = must(b.conv2d("det.s4", stages[4], w4, -1, p));
  const int r4 = must(b.reshape("det.s4.flat", c4, Shape{1, 16, 4}));
  const int boxes = must(b.concatenation("det.boxes", {r2, r4}, 1));
  const int scores = must(b.unary("det.scores", UnaryOp::kSigmoid, boxes));
  task(b, "detect", TaskKind::kDetection, {{"boxes", boxes}, {"scores", scores}});
  b.add_metadata("license", "other");
  return finish(b);
}

}  // namespace polyhead::testing
