// `polyhead prune` as a library (offline/prune): block and row norms and the selection of the
// smallest, the sparse kernel's block shapes, the per-layer allocation and the --max-drop search
// with scripted evaluators; unstructured pruning of small ModelBuilder models (which layers, which
// blocks); structured pruning (the channel ties of residual ADDs, channel PADs, a gate, channel and
// height concatenations, depthwise convolutions, PRELU; the refusals), checked by running the
// pruned model against the original with the removed channels' input columns zeroed; and
// prune_model's determinism, sensitivity, --max-drop and errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "converters/tflite/tflite_converter.h"
#include "offline/graph/source_graph.h"
#include "offline/prune/block_layers.h"
#include "offline/prune/budget_search.h"
#include "offline/prune/channel_means.h"
#include "offline/prune/channel_removal.h"
#include "offline/prune/channel_ties.h"
#include "offline/prune/layer_fractions.h"
#include "offline/prune/magnitude.h"
#include "offline/prune/pruner.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "support/test_files.h"
#include "support/test_models.h"

using namespace polyhead;
using namespace polyhead::prune;
using polyhead::testing::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int must(Result<int> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return *r;
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

std::vector<uint8_t> written(const quantize::EditModel& m) {
  auto bytes = quantize::write_model(m);
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  return *bytes;
}

struct Builder {
  ModelBuilder b;
  uint32_t seed = 11;
  int constant(const std::string& name, const Shape& shape, float scale = 0.5f) {
    return b.add_constant(
        name, shape,
        polyhead::testing::random_values(static_cast<size_t>(shape.elements()), seed++, scale));
  }
  std::vector<uint8_t> finish() {
    auto bytes = b.finish();
    if (!bytes.is_ok()) FAIL(bytes.status().to_string());
    return *bytes;
  }
};

Preprocess small_preprocess(int size) {
  Preprocess pre;
  pre.width = pre.height = size;
  pre.pixel_scale = 1.f;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  return pre;
}

// The structured pruning model, 8x8x3 input:
//   c1 conv3x3+relu [8] -> dw conv3x3 (8 groups, bias, relu6) -> prelu -> c2 conv1x1 [8]
//   r = add(c2, c1)            residual: c1 and c2 share their channels
//   m = mul(r, k[8])           a per-channel constant
//   c3 conv1x1(m) [12], padded = pad(m, channels +4), r2 = add(c3, padded)
//   squeeze-excitation: mean(r2) -> g1 conv1x1 [4] relu -> g2 conv1x1 [12] -> sigmoid -> s =
//   r2*gate c4 = conv1x1(s) [6], c5 = conv3x3(s) [4], cat = concat(c4, c5) on the channels [10] c4b
//   = conv1x1(s) [6] sharing c4's weight, tall = concat(c4, c4b) on the height [16x8x6] c6 =
//   conv1x1(maxpool(cat)) [5]                    task "dense" fc(mean(cat) [1,10]) [3] -> softmax
//   task "classify" c7 = conv1x1(s) [4] -> reshape [1,256]           task "flat" c8 = conv1x1(tall)
//   [2]                           task "tall"
std::vector<uint8_t> structured_model() {
  Builder m;
  ModelBuilder& b = m.b;
  const int image = b.add_input("image", Shape{1, 8, 8, 3}, small_preprocess(8));
  Conv2DParams same;
  same.pad_top = same.pad_left = same.pad_bottom = same.pad_right = 1;
  Conv2DParams c1p = same;
  c1p.activation = Activation::relu();
  const int c1 = must(b.conv2d("c1", image, m.constant("c1.w", Shape{8, 3, 3, 3}),
                               m.constant("c1.b", Shape{8}, 0.1f), c1p));
  Conv2DParams dwp = same;
  dwp.groups = 8;
  dwp.activation = Activation::relu6();
  const int dw = must(b.conv2d("dw", c1, m.constant("dw.w", Shape{8, 3, 3, 1}),
                               m.constant("dw.b", Shape{8}, 0.2f), dwp));
  const int pr = must(b.prelu("prelu", dw, m.constant("prelu.slope", Shape{8}, 0.3f)));
  const int c2 = must(b.conv2d("c2", pr, m.constant("c2.w", Shape{8, 1, 1, 8}),
                               m.constant("c2.b", Shape{8}, 0.1f), {}));
  const int r = must(b.binary("r", BinaryOp::kAdd, c2, c1));
  const int mu = must(b.binary("m", BinaryOp::kMul, r, m.constant("k", Shape{8}, 1.f)));
  const int c3 = must(b.conv2d("c3", mu, m.constant("c3.w", Shape{12, 1, 1, 8}), -1, {}));
  const int padded = must(b.pad("padded", mu, {0, 0, 0, 0}, {0, 0, 0, 4}));
  const int r2 = must(b.binary("r2", BinaryOp::kAdd, c3, padded, Activation::relu()));
  const int squeeze = must(b.mean("squeeze", r2, true));
  Conv2DParams relu;
  relu.activation = Activation::relu();
  const int g1 = must(b.conv2d("g1", squeeze, m.constant("g1.w", Shape{4, 1, 1, 12}),
                               m.constant("g1.b", Shape{4}, 0.1f), relu));
  const int g2 = must(b.conv2d("g2", g1, m.constant("g2.w", Shape{12, 1, 1, 4}),
                               m.constant("g2.b", Shape{12}, 0.1f), {}));
  const int gate = must(b.unary("gate", UnaryOp::kSigmoid, g2));
  const int s = must(b.binary("s", BinaryOp::kMul, r2, gate));
  const int c4w = m.constant("c4.w", Shape{6, 1, 1, 12});
  const int c4 = must(b.conv2d("c4", s, c4w, m.constant("c4.b", Shape{6}, 0.1f), {}));
  const int c5 = must(b.conv2d("c5", s, m.constant("c5.w", Shape{4, 3, 3, 12}), -1, same));
  const int cat = must(b.concatenation("cat", {c4, c5}, 3));
  const int c4b = must(b.conv2d("c4b", s, c4w, -1, {}));
  const int tall = must(b.concatenation("tall", {c4, c4b}, 1));
  Pool2DParams pool;
  pool.filter_h = pool.filter_w = pool.stride_h = pool.stride_w = 2;
  const int pooled = must(b.pool2d("pool", PoolOp::kMax, cat, pool));
  const int c6 = must(b.conv2d("c6", pooled, m.constant("c6.w", Shape{5, 1, 1, 10}), -1, {}));
  const int avg = must(b.mean("avg", cat, false));
  const int fc = must(b.fully_connected("fc", avg, m.constant("fc.w", Shape{3, 10}, 1.f),
                                        m.constant("fc.b", Shape{3}, 0.1f)));
  const int probs = must(b.softmax("softmax", fc));
  const int c7 = must(b.conv2d("c7", s, m.constant("c7.w", Shape{4, 1, 1, 12}), -1, {}));
  const int flat = must(b.reshape("flat", c7, Shape{1, 256}));
  const int c8 = must(b.conv2d("c8", tall, m.constant("c8.w", Shape{2, 1, 1, 6}), -1, {}));
  REQUIRE(b.add_task("dense", TaskKind::kOther, {{"map", c6}}).is_ok());
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"probs", probs}}).is_ok());
  REQUIRE(b.add_task("flat", TaskKind::kOther, {{"vector", flat}}).is_ok());
  REQUIRE(b.add_task("tall", TaskKind::kOther, {{"map", c8}}).is_ok());
  b.add_metadata("license", "test");
  return m.finish();
}

// A model for unstructured pruning: 16x16x3 input,
//   stem conv3x3 s2 [16] -> dw (16 groups) -> p1 conv1x1 [16] -> p2 conv1x1 [12] -> p3 conv1x1 [6]
//   -> mean [1,6] -> fc [5] -> softmax              task "classify"
//   p2 -> p4 conv1x1 [7]                             task "side"
//   p2 -> p5 conv1x1 sharing p4's weight [7]         task "twin"
std::vector<uint8_t> block_model() {
  Builder m;
  ModelBuilder& b = m.b;
  const int image = b.add_input("image", Shape{1, 16, 16, 3}, small_preprocess(16));
  Conv2DParams s2;
  s2.stride_h = s2.stride_w = 2;
  s2.pad_bottom = s2.pad_right = 1;
  s2.activation = Activation::relu6();
  const int stem = must(b.conv2d("stem", image, m.constant("stem.w", Shape{16, 3, 3, 3}),
                                 m.constant("stem.b", Shape{16}, 0.1f), s2));
  Conv2DParams dwp;
  dwp.pad_top = dwp.pad_left = dwp.pad_bottom = dwp.pad_right = 1;
  dwp.groups = 16;
  const int dw = must(b.conv2d("dw", stem, m.constant("dw.w", Shape{16, 3, 3, 1}), -1, dwp));
  Conv2DParams relu;
  relu.activation = Activation::relu();
  const int p1 = must(b.conv2d("p1", dw, m.constant("p1.w", Shape{16, 1, 1, 16}), -1, relu));
  const int p2 = must(b.conv2d("p2", p1, m.constant("p2.w", Shape{12, 1, 1, 16}),
                               m.constant("p2.b", Shape{12}, 0.1f), relu));
  const int p3 = must(b.conv2d("p3", p2, m.constant("p3.w", Shape{6, 1, 1, 12}), -1, {}));
  const int mean = must(b.mean("mean", p3, false));
  const int fc = must(b.fully_connected("fc", mean, m.constant("fc.w", Shape{5, 6}, 1.f),
                                        m.constant("fc.b", Shape{5}, 0.1f)));
  const int soft = must(b.softmax("softmax", fc));
  const int p4w = m.constant("p4.w", Shape{7, 1, 1, 12});
  const int p4 = must(b.conv2d("p4", p2, p4w, -1, {}));
  const int p5 = must(b.conv2d("p5", p2, p4w, -1, {}));
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"probs", soft}}).is_ok());
  REQUIRE(b.add_task("side", TaskKind::kOther, {{"out", p4}}).is_ok());
  REQUIRE(b.add_task("twin", TaskKind::kOther, {{"out", p5}}).is_ok());
  return m.finish();
}

// Every output of every task on one fixed pseudo-random input, in task order.
std::vector<std::vector<float>> run(const std::vector<uint8_t>& bytes) {
  const Model model = load(bytes);
  auto engine = Engine::create(model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());
  for (const InputInfo& in : model.inputs()) {
    const auto values =
        polyhead::testing::random_values(static_cast<size_t>(in.shape.elements()), 99, 2.f);
    REQUIRE(plan->set_input(in.name, values.data(), values.size()).is_ok());
  }
  REQUIRE(plan->run().is_ok());
  std::vector<std::vector<float>> out;
  for (const TaskInfo& t : model.tasks())
    for (const TaskOutputInfo& o : t.outputs) {
      auto v = plan->output(t.name, o.name);
      REQUIRE(v.is_ok());
      out.emplace_back(v->f32(), v->f32() + v->shape.elements());
    }
  return out;
}

void require_close(const std::vector<std::vector<float>>& a,
                   const std::vector<std::vector<float>>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (size_t k = 0; k < a[i].size(); ++k) {
      INFO("output " << i << " value " << k);
      REQUIRE(a[i][k] == Approx(b[i][k]).margin(1e-5).epsilon(1e-4));
    }
  }
}

const schema::Tensor* weight_of(const schema::Model& root, const std::string& node, int slot = 1) {
  for (const schema::Node* n : *root.nodes())
    if (n->name()->str() == node)
      return root.tensors()->Get(
          static_cast<unsigned>(n->inputs()->Get(static_cast<unsigned>(slot))));
  return nullptr;
}

std::vector<int> shape_of(const schema::Tensor* t) {
  return std::vector<int>(t->shape()->begin(), t->shape()->end());
}

// The original model with, for every consumer (a convolution or fully connected layer reading a
// tensor that loses channels), the input columns of the removed channels set to 0: what the
// pruned model must compute exactly, since nothing else reads the removed channels.
std::vector<uint8_t> zeroed_reference(const merge::SourceGraph& g, const ChannelTies& ties,
                                      const std::vector<bool>& removed) {
  quantize::EditModel m = quantize::edit_copy(g);
  std::map<int, size_t> position;
  for (size_t i = 0; i < g.order.size(); ++i) position[g.order[i]] = i;
  std::set<int> done;
  for (const ConstantSlice& s : ties.slices) {
    const schema::OpKind op = g.node(s.node).op();
    const bool consumer = (op == schema::OpKind::CONV_2D || op == schema::OpKind::FULLY_CONNECTED ||
                           op == schema::OpKind::TRANSPOSE_CONV_2D) &&
                          s.slot == 1 && s.axis == ConstantSlice::Axis::kLast;
    if (!consumer) continue;
    const std::vector<int> kept = ties.kept(s.by, removed);
    const size_t full = ties.tensor_atoms[static_cast<size_t>(s.by)].size();
    const int w = m.nodes[position[s.node]].inputs[1];
    if (!done.insert(w).second) continue;  // a shared weight is zeroed once, for both readers
    quantize::EditTensor& t = m.tensors[static_cast<size_t>(w)];
    std::vector<float> v(t.size / sizeof(float));
    std::memcpy(v.data(), t.data, t.size);
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::binary_search(kept.begin(), kept.end(), static_cast<int>(i % full))) v[i] = 0.f;
    std::vector<uint8_t> bytes(t.size);
    std::memcpy(bytes.data(), v.data(), t.size);
    t.data = m.store(std::move(bytes));
  }
  return written(m);
}

std::vector<std::string> write_photos(const TempDir& dir, int count) {
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

const ChannelUnit* unit_of(const merge::SourceGraph& g, const ChannelTies& ties,
                           const std::string& node) {
  for (const ChannelUnit& u : ties.units)
    for (int p : u.producers)
      if (g.node_name(p) == node) return &u;
  return nullptr;
}

std::vector<std::string> producer_names(const merge::SourceGraph& g, const std::vector<int>& ps) {
  std::vector<std::string> out;
  for (int p : ps) out.push_back(g.node_name(p));
  return out;
}

std::string skip_reason(const PruneReport& r, const std::string& node) {
  for (const LayerSkip& s : r.skipped)
    if (s.node == node) return s.reason;
  return "";
}

Result<PruneResult> prune_with(const std::vector<uint8_t>& bytes, const PruneOptions& o,
                               const std::vector<std::string>& images = {}) {
  return prune_model(load(bytes), images, o);
}

}  // namespace

TEST_CASE("prune: block and row norms, smallest by value then index", "[prune]") {
  // 4 x 3, block of 2 rows: blocks (rows 0-1, col c) and (rows 2-3, col c).
  const float w[] = {3, 0, 1,   //
                     4, 0, -1,  //
                     0, 1, 2,   //
                     0, 1, 2};
  const std::vector<double> b = block_norms(w, 4, 3, 2);
  REQUIRE(b.size() == 6);
  CHECK(b[0] == Approx(5.0));
  CHECK(b[1] == Approx(0.0));
  CHECK(b[2] == Approx(std::sqrt(2.0)));
  CHECK(b[3] == Approx(0.0));
  CHECK(b[4] == Approx(std::sqrt(2.0)));
  CHECK(b[5] == Approx(std::sqrt(8.0)));
  const std::vector<double> r = row_norms(w, 4, 3);
  CHECK(r[0] == Approx(std::sqrt(10.0)));
  CHECK(r[3] == Approx(std::sqrt(5.0)));
  CHECK(smallest(b, 3) == std::vector<size_t>{1, 2, 3});  // 0, 0, then the first sqrt(2)
  CHECK(smallest(b, 0).empty());
  CHECK(smallest(b, 100).size() == 6);
  CHECK(smallest({1.0, 1.0, 1.0, 1.0}, 2) == std::vector<size_t>{0, 1});
}

TEST_CASE("prune: the sparse kernel's block rows", "[prune]") {
  CHECK(sparse_block_rows(16) == 8);
  CHECK(sparse_block_rows(1000) == 8);
  CHECK(sparse_block_rows(12) == 4);
  CHECK(sparse_block_rows(6) == 2);
  CHECK(sparse_block_rows(273) == 1);
  CHECK(sparse_block_rows(1) == 1);
}

TEST_CASE("prune: per-layer fractions meet the target, less sensitive layers give more",
          "[prune]") {
  const std::vector<size_t> sizes = {100, 400, 50, 1000};
  const std::vector<double> uniform = tolerance_by_rank({}, 4);
  for (double target : {0.1, 0.5, 0.9}) {
    const std::vector<double> f = allocate_fractions(sizes, uniform, target, fraction_cap(target));
    for (double v : f) CHECK(v == Approx(target).margin(1e-9));
  }
  // Least sensitive first: layer 2, 0, 3, 1.
  const std::vector<double> t = tolerance_by_rank({2, 0, 3, 1}, 4);
  CHECK(t[2] == Approx(2.0));
  CHECK(t[1] == Approx(0.5));
  CHECK(t[0] > t[3]);
  for (double target : {0.2, 0.5, 0.8, 0.95}) {
    const double cap = fraction_cap(target);
    const std::vector<double> f = allocate_fractions(sizes, t, target, cap);
    double removed = 0, total = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      removed += f[i] * static_cast<double>(sizes[i]);
      total += static_cast<double>(sizes[i]);
      CHECK(f[i] <= cap + 1e-12);
      CHECK(f[i] >= 0);
    }
    CHECK(removed / total == Approx(target).margin(1e-6));
    CHECK(f[2] >= f[0]);
    CHECK(f[0] >= f[3]);
    CHECK(f[3] >= f[1]);
    CHECK(f[1] < target);  // the most sensitive layer keeps more than the average
  }
  CHECK(fraction_cap(0.5) == Approx(0.875));
}

TEST_CASE("prune: the --max-drop search bisects the grid", "[prune]") {
  std::vector<double> asked;
  auto drop_is_sparsity = [&](double s) -> Result<quantize::Evaluation> {
    asked.push_back(s);
    quantize::Evaluation e;
    e.worst_drop = s * s;  // grows with the sparsity
    return e;
  };
  auto r = search_budget(default_sparsity_grid(), 0.2, drop_is_sparsity);
  REQUIRE(r.is_ok());
  CHECK(r->within_budget);
  CHECK(r->sparsity == Approx(0.40));  // 0.45^2 = 0.2025 > 0.2
  CHECK(r->evaluation.worst_drop == Approx(0.16));
  CHECK(asked.size() <= 5);
  CHECK(r->steps.size() == asked.size());

  asked.clear();
  auto none = search_budget(default_sparsity_grid(), 0.001, drop_is_sparsity);
  REQUIRE(none.is_ok());
  CHECK_FALSE(none->within_budget);
  REQUIRE(none->best() != nullptr);
  CHECK(none->best()->sparsity == Approx(0.05));
  CHECK(none->best()->evaluation.worst_drop == Approx(0.0025));

  auto all = search_budget(default_sparsity_grid(), 1.0, drop_is_sparsity);
  REQUIRE(all.is_ok());
  CHECK(all->sparsity == Approx(0.95));

  auto failing =
      search_budget(default_sparsity_grid(), 0.5, [](double) -> Result<quantize::Evaluation> {
        return Status(ErrorCode::kInternal, "scripted failure");
      });
  REQUIRE_FALSE(failing.is_ok());
  CHECK(contains(failing.status().message(), "scripted failure"));
}

TEST_CASE("prune: unstructured layers are the float 1x1 convolutions and fully connected layers",
          "[prune]") {
  const Model model = load(block_model());
  const merge::SourceGraph g = graph(model);
  const BlockLayers found = find_block_layers(g);
  std::vector<std::string> names;
  for (const BlockLayer& l : found.layers) names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"p1", "p2", "p3", "fc"});
  std::map<std::string, std::string> skipped;
  for (const LayerSkip& s : found.skipped) skipped[s.node] = s.reason;
  REQUIRE(skipped.size() == 4);
  CHECK(contains(skipped["stem"], "3x3 convolution"));
  CHECK(contains(skipped["dw"], "depthwise"));
  CHECK(contains(skipped["p4"], "shared with node 'p5'"));
  CHECK(contains(skipped["p5"], "shared with node 'p4'"));
  const BlockLayer& p2 = found.layers[1];
  CHECK(p2.rows == 12);
  CHECK(p2.cols == 16);
  CHECK(p2.block_rows == 4);
  CHECK(p2.blocks() == 48);
  CHECK(found.layers[0].block_rows == 8);
  CHECK(found.layers[2].block_rows == 2);
  CHECK(found.layers[3].block_rows == 1);
  CHECK(found.layers[3].shape == "[5,6]");
}

TEST_CASE("prune: unstructured pruning zeroes exactly the smallest blocks", "[prune]") {
  const std::vector<uint8_t> original = block_model();
  const Model model = load(original);
  const merge::SourceGraph g = graph(model);
  const BlockLayers found = find_block_layers(g);
  const std::vector<size_t> removed = {10, 24, 0, 7};
  const std::vector<uint8_t> bytes = written(prune_blocks(g, found.layers, removed));
  const Model pruned = load(bytes);
  const merge::SourceGraph pg = graph(pruned);
  for (size_t i = 0; i < found.layers.size(); ++i) {
    const BlockLayer& l = found.layers[i];
    INFO(l.name);
    const auto* before = reinterpret_cast<const float*>(g.constant_data(l.weights));
    const schema::Tensor* w = weight_of(*pg.root, l.name);
    REQUIRE(w != nullptr);
    int index = -1;
    for (unsigned t = 0; t < pg.root->tensors()->size(); ++t)
      if (pg.root->tensors()->Get(t) == w) index = static_cast<int>(t);
    const auto* after = reinterpret_cast<const float*>(pg.constant_data(index));
    const size_t br = static_cast<size_t>(l.block_rows);
    // Per block: zeroed or kept whole; the zeroed ones are the smallest by L2 norm.
    double largest_zeroed = 0, smallest_kept = 1e30;
    size_t zeroed = 0;
    for (size_t rb = 0; rb < l.rows / br; ++rb)
      for (size_t c = 0; c < l.cols; ++c) {
        double norm = 0;
        bool all_zero = true, all_same = true;
        for (size_t r = rb * br; r < rb * br + br; ++r) {
          const float v = before[r * l.cols + c], u = after[r * l.cols + c];
          norm += static_cast<double>(v) * v;
          all_zero = all_zero && u == 0.f;
          all_same = all_same && u == v;
        }
        REQUIRE((all_zero || all_same));
        if (all_zero && norm > 0) {
          ++zeroed;
          largest_zeroed = std::max(largest_zeroed, norm);
        } else {
          smallest_kept = std::min(smallest_kept, norm);
        }
      }
    CHECK(zeroed == removed[i]);
    if (zeroed) CHECK(largest_zeroed <= smallest_kept);
  }
  // Everything else is untouched: the biases and the dense layers.
  const auto* stem_before =
      reinterpret_cast<const float*>(g.constant_data(g.node(g.order[0]).inputs()->Get(1)));
  const auto* stem_after =
      reinterpret_cast<const float*>(pg.constant_data(pg.node(pg.order[0]).inputs()->Get(1)));
  CHECK(std::equal(stem_before, stem_before + 16 * 27, stem_after));
}

TEST_CASE("prune: channel ties through residual ADDs, channel PAD, a gate and concatenations",
          "[prune]") {
  const Model model = load(structured_model());
  const merge::SourceGraph g = graph(model);
  auto ties = tie_channels(g);
  REQUIRE(ties.is_ok());
  // c1 and c2 meet at the residual ADD; c3 meets them (and the padding) at r2, and the gate's g2
  // multiplies the same channels: one unit of 12 channels.
  const ChannelUnit* main = unit_of(g, *ties, "c1");
  REQUIRE(main != nullptr);
  CHECK(producer_names(g, main->producers) == std::vector<std::string>{"c1", "c2", "c3", "g2"});
  CHECK(main->channels == 12);
  CHECK(main->classes.size() == 12);
  // c4 and c4b meet at the height concatenation; the channel concatenation keeps c4 and c5 apart.
  const ChannelUnit* c4 = unit_of(g, *ties, "c4");
  REQUIRE(c4 != nullptr);
  CHECK(producer_names(g, c4->producers) == std::vector<std::string>{"c4", "c4b"});
  const ChannelUnit* c5 = unit_of(g, *ties, "c5");
  REQUIRE(c5 != nullptr);
  CHECK(c5->producers.size() == 1);
  REQUIRE(unit_of(g, *ties, "g1") != nullptr);
  // Pinned: task outputs, SOFTMAX and RESHAPE readers.
  CHECK(unit_of(g, *ties, "c6") == nullptr);
  CHECK(unit_of(g, *ties, "fc") == nullptr);
  CHECK(unit_of(g, *ties, "c7") == nullptr);
  CHECK(unit_of(g, *ties, "c8") == nullptr);
  std::map<std::string, std::string> skipped;
  for (const ChannelSkip& s : ties->skipped) skipped[g.node_name(s.producers[0])] = s.reason;
  CHECK(contains(skipped["c6"], "reach output 'map' of task 'dense'"));
  CHECK(contains(skipped["fc"], "read by SOFTMAX node 'softmax'"));
  CHECK(contains(skipped["c7"], "read by RESHAPE node 'flat'"));
  CHECK(contains(skipped["c8"], "task 'tall'"));
  // The channel concatenation's offsets: cat holds c4's 6 atoms, then c5's 4.
  int cat = -1;
  for (unsigned t = 0; t < g.root->tensors()->size(); ++t)
    if (g.tensor_name(static_cast<int>(t)) == "cat") cat = static_cast<int>(t);
  REQUIRE(cat >= 0);
  const std::vector<int>& atoms = ties->tensor_atoms[static_cast<size_t>(cat)];
  REQUIRE(atoms.size() == 10);
  for (int k = 0; k < 10; ++k) {
    const ChannelAtom& a = ties->atoms[static_cast<size_t>(atoms[static_cast<size_t>(k)])];
    CHECK(g.node_name(a.producer) == (k < 6 ? "c4" : "c5"));
    CHECK(a.channel == (k < 6 ? k : k - 6));
  }
}

TEST_CASE("prune: a structured model computes what the original does with the channels zeroed",
          "[prune]") {
  const std::vector<uint8_t> original = structured_model();
  const Model model = load(original);
  const merge::SourceGraph g = graph(model);
  auto ties = tie_channels(g);
  REQUIRE(ties.is_ok());
  const size_t units = ties->units.size();
  // The same writer without pruning (the ModelBuilder leaves out default option values).
  const size_t unpruned = written(quantize::edit_copy(g)).size();
  for (const std::vector<size_t>& counts :
       {std::vector<size_t>(units, 1), std::vector<size_t>(units, 3),
        std::vector<size_t>(units, 100)}) {
    const std::vector<bool> removed = choose_removed_classes(*ties, counts);
    auto edited = remove_channels(g, *ties, removed);
    REQUIRE(edited.is_ok());
    const std::vector<uint8_t> pruned = written(*edited);
    require_close(run(pruned), run(zeroed_reference(g, *ties, removed)));
    CHECK(pruned.size() < unpruned);
    // Every tensor keeps a channel; removing "everything" leaves one per unit.
    for (size_t t = 0; t < ties->tensor_atoms.size(); ++t)
      if (!ties->tensor_atoms[t].empty())
        CHECK_FALSE(ties->kept(static_cast<int>(t), removed).empty());
  }
}

TEST_CASE("prune: structured bookkeeping of one removed channel", "[prune]") {
  const Model model = load(structured_model());
  const merge::SourceGraph g = graph(model);
  auto ties = tie_channels(g);
  REQUIRE(ties.is_ok());
  // Remove 2 channels of the 12-channel unit only: one of 0..7 (c1's) and one of 8..11 (padding).
  std::vector<bool> removed(ties->atoms.size(), false);
  const ChannelUnit* main = unit_of(g, *ties, "c1");
  REQUIRE(main != nullptr);
  removed[static_cast<size_t>(main->classes[3])] = true;
  removed[static_cast<size_t>(main->classes[9])] = true;
  auto edited = remove_channels(g, *ties, removed);
  REQUIRE(edited.is_ok());
  const std::vector<uint8_t> bytes = written(*edited);
  const Model pruned = load(bytes);
  const schema::Model& root = *schema::GetModel(pruned.bytes());
  CHECK(shape_of(weight_of(root, "c1")) == std::vector<int>{7, 3, 3, 3});
  CHECK(shape_of(weight_of(root, "c1", 2)) == std::vector<int>{7});
  CHECK(shape_of(weight_of(root, "dw")) == std::vector<int>{7, 3, 3, 1});
  CHECK(shape_of(weight_of(root, "prelu")) == std::vector<int>{7});
  CHECK(shape_of(weight_of(root, "c2")) == std::vector<int>{7, 1, 1, 7});
  CHECK(shape_of(weight_of(root, "m")) == std::vector<int>{7});
  CHECK(shape_of(weight_of(root, "c3")) == std::vector<int>{10, 1, 1, 7});
  CHECK(shape_of(weight_of(root, "g1")) == std::vector<int>{4, 1, 1, 10});
  CHECK(shape_of(weight_of(root, "g2")) == std::vector<int>{10, 1, 1, 4});
  CHECK(shape_of(weight_of(root, "c4")) == std::vector<int>{6, 1, 1, 10});
  CHECK(shape_of(weight_of(root, "c5")) == std::vector<int>{4, 3, 3, 10});
  for (const schema::Node* n : *root.nodes()) {
    if (n->name()->str() == "dw") CHECK(n->options_as_Conv2DOptions()->groups() == 7);
    if (n->name()->str() == "padded") CHECK(n->options_as_PadOptions()->after()->Get(3) == 3);
  }
  // c2's kept filters are the original rows 0-2 and 4-7 over input columns 0-2 and 4-7.
  const auto* before =
      reinterpret_cast<const float*>(g.constant_data(g.node([&] {
                                                        for (int n : g.order)
                                                          if (g.node_name(n) == "c2") return n;
                                                        return -1;
                                                      }())
                                                         .inputs()
                                                         ->Get(1)));
  const merge::SourceGraph pg = graph(pruned);
  int c2w = -1;
  for (int n : pg.order)
    if (pg.node_name(n) == "c2") c2w = pg.node(n).inputs()->Get(1);
  const auto* after = reinterpret_cast<const float*>(pg.constant_data(c2w));
  const int keep[] = {0, 1, 2, 4, 5, 6, 7};
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 7; ++c) CHECK(after[r * 7 + c] == before[keep[r] * 8 + keep[c]]);
  require_close(run(bytes), run(zeroed_reference(g, *ties, removed)));
}

TEST_CASE("prune: structured pruning of the shared weight of tied layers", "[prune]") {
  const Model model = load(structured_model());
  const merge::SourceGraph g = graph(model);
  auto ties = tie_channels(g);
  REQUIRE(ties.is_ok());
  std::vector<bool> removed(ties->atoms.size(), false);
  const ChannelUnit* c4 = unit_of(g, *ties, "c4");
  REQUIRE(c4 != nullptr);
  removed[static_cast<size_t>(c4->classes[0])] = true;
  auto edited = remove_channels(g, *ties, removed);
  REQUIRE(edited.is_ok());
  const std::vector<uint8_t> bytes = written(*edited);
  const schema::Model& root = *schema::GetModel(bytes.data());
  CHECK(shape_of(weight_of(root, "c4")) == std::vector<int>{5, 1, 1, 12});
  CHECK(shape_of(weight_of(root, "c4b")) == std::vector<int>{5, 1, 1, 12});
  CHECK(shape_of(weight_of(root, "c6")) == std::vector<int>{5, 1, 1, 9});
  CHECK(shape_of(weight_of(root, "fc")) == std::vector<int>{3, 9});
  CHECK(shape_of(weight_of(root, "c8")) == std::vector<int>{2, 1, 1, 5});
  require_close(run(bytes), run(zeroed_reference(g, *ties, removed)));
}

TEST_CASE("prune: prune_model without photos prunes every layer alike, deterministically",
          "[prune]") {
  const std::vector<uint8_t> original = block_model();
  PruneOptions o;
  o.sparsity = 0.5;
  auto a = prune_with(original, o);
  REQUIRE(a.is_ok());
  auto b = prune_with(original, o);
  REQUIRE(b.is_ok());
  CHECK(a->bytes == b->bytes);
  const PruneReport& r = a->report;
  CHECK_FALSE(r.structured);
  CHECK(r.evaluation_images == 0);
  REQUIRE(r.layers.size() == 4);
  for (const LayerReport& l : r.layers) {
    CHECK(l.fraction == Approx(0.5));
    CHECK_FALSE(l.has_sensitivity);
    CHECK(static_cast<double>(l.removed) / static_cast<double>(l.size) == Approx(0.5).margin(0.1));
  }
  CHECK(r.achieved() == Approx(0.5).margin(0.02));
  CHECK(r.output_bytes == a->bytes.size());
  const Model pruned = load(a->bytes);
  CHECK(pruned.metadata("pruning.method") == "blocks");
  CHECK(pruned.metadata("pruning.tool") == "polyhead prune");
  CHECK(run(a->bytes).size() == 3);

  o.structured = true;
  auto s1 = prune_with(structured_model(), o);
  REQUIRE(s1.is_ok());
  auto s2 = prune_with(structured_model(), o);
  REQUIRE(s2.is_ok());
  CHECK(s1->bytes == s2->bytes);
  CHECK(s1->report.structured);
  CHECK(s1->report.output_bytes < s1->report.input_bytes);
  CHECK(contains(skip_reason(s1->report, "c7"), "RESHAPE"));
  CHECK(skip_reason(s1->report, "c6") != "");
}

TEST_CASE("prune: --layers restricts, and a named layer that cannot be pruned is an error",
          "[prune]") {
  PruneOptions o;
  o.sparsity = 0.5;
  o.layers = {"p2", "fc"};
  auto r = prune_with(block_model(), o);
  REQUIRE(r.is_ok());
  REQUIRE(r->report.layers.size() == 2);
  CHECK(r->report.layers[0].name == "p2");
  CHECK(r->report.layers[1].name == "fc");

  o.layers = {"p4"};
  auto shared = prune_with(block_model(), o);
  REQUIRE_FALSE(shared.is_ok());
  CHECK(contains(shared.status().message(), "node 'p4' cannot be pruned: its weights are shared"));
  o.layers = {"softmax"};
  auto not_layer = prune_with(block_model(), o);
  REQUIRE_FALSE(not_layer.is_ok());
  CHECK(contains(not_layer.status().message(), "'softmax' (SOFTMAX) is not"));
  o.layers = {"nope"};
  auto unknown = prune_with(block_model(), o);
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(contains(unknown.status().message(), "no node named 'nope'"));

  o.structured = true;
  o.layers = {"c2"};  // names the unit c1, c2, c3, g2
  auto unit = prune_with(structured_model(), o);
  REQUIRE(unit.is_ok());
  REQUIRE(unit->report.layers.size() == 1);
  CHECK(unit->report.layers[0].name == "c1");
  CHECK(unit->report.layers[0].tied == std::vector<std::string>{"c2", "c3", "g2"});
  o.layers = {"c7"};
  auto pinned = prune_with(structured_model(), o);
  REQUIRE_FALSE(pinned.is_ok());
  CHECK(contains(pinned.status().message(),
                 "'c7' cannot be pruned: its output channels are read by RESHAPE"));
  o.layers = {"dw"};
  auto depthwise = prune_with(structured_model(), o);
  REQUIRE_FALSE(depthwise.is_ok());
  CHECK(contains(depthwise.status().message(), "makes output channels"));
}

TEST_CASE("prune: bad options and models with nothing to prune are errors", "[prune]") {
  const std::vector<uint8_t> model = block_model();
  for (double s : {0.0, 1.0, -0.2, 1.5}) {
    PruneOptions o;
    o.sparsity = s;
    auto r = prune_with(model, o);
    INFO(s);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kInvalidArgument);
  }
  PruneOptions both;
  both.sparsity = 0.5;
  both.max_drop = 0.1;
  auto b = prune_with(model, both, {"x.png"});
  REQUIRE_FALSE(b.is_ok());
  CHECK(contains(b.status().message(), "not both"));
  PruneOptions budget;
  budget.max_drop = 0.1;
  auto no_photos = prune_with(model, budget);
  REQUIRE_FALSE(no_photos.is_ok());
  CHECK(contains(no_photos.status().message(), "needs calibration photos"));
  PruneOptions task;
  task.sparsity = 0.5;
  task.tasks = {"segment"};
  auto t = prune_with(model, task);
  REQUIRE_FALSE(t.is_ok());
  CHECK(contains(t.status().message(), "no task 'segment' (it has classify, side, twin)"));

  // Nothing prunable: one 3x3 convolution whose output is the task's.
  ModelBuilder mb;
  const int image = mb.add_input("image", Shape{1, 4, 4, 3}, small_preprocess(4));
  const int conv = must(mb.conv2d(
      "only", image,
      mb.add_constant("w", Shape{2, 3, 3, 3}, polyhead::testing::random_values(54, 1)), -1, [] {
        Conv2DParams p;
        p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
        return p;
      }()));
  REQUIRE(mb.add_task("t", TaskKind::kOther, {{"o", conv}}).is_ok());
  auto bytes = mb.finish();
  REQUIRE(bytes.is_ok());
  PruneOptions o;
  o.sparsity = 0.5;
  auto u = prune_with(*bytes, o);
  REQUIRE_FALSE(u.is_ok());
  CHECK(contains(u.status().message(), "nothing to prune"));
  CHECK(contains(u.status().message(), "only: 3x3 convolution"));
  o.structured = true;
  auto s = prune_with(*bytes, o);
  REQUIRE_FALSE(s.is_ok());
  CHECK(contains(s.status().message(), "nothing to prune"));
  CHECK(contains(s.status().message(), "reach output 'o' of task 't'"));
}

TEST_CASE("prune: sensitivity on photos orders the layers, --max-drop finds a sparsity",
          "[prune]") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir, 2);
  const std::vector<uint8_t> model = block_model();
  PruneOptions o;
  o.sparsity = 0.4;
  std::vector<std::string> stages;
  o.progress = [&](const char* stage, size_t, size_t) {
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  };
  auto r = prune_with(model, o, photos);
  REQUIRE(r.is_ok());
  CHECK(stages == std::vector<std::string>{"means", "sensitivity", "correction"});
  CHECK(r->report.evaluation_images == 2);
  CHECK(r->report.probe == Approx(0.5));
  // The most sensitive layer gets the smallest fraction, the least sensitive the largest.
  std::vector<const LayerReport*> by_sensitivity;
  for (const LayerReport& l : r->report.layers) {
    REQUIRE(l.has_sensitivity);
    by_sensitivity.push_back(&l);
  }
  std::stable_sort(by_sensitivity.begin(), by_sensitivity.end(),
                   [](const LayerReport* a, const LayerReport* b) {
                     if (a->sensitivity.worst_drop != b->sensitivity.worst_drop)
                       return a->sensitivity.worst_drop > b->sensitivity.worst_drop;
                     if (a->sensitivity.worst_score != b->sensitivity.worst_score)
                       return a->sensitivity.worst_score > b->sensitivity.worst_score;
                     return a->name < b->name;
                   });
  CHECK(by_sensitivity.front()->fraction < by_sensitivity.back()->fraction);
  CHECK(r->report.achieved() == Approx(0.4).margin(0.05));

  PruneOptions budget;
  budget.max_drop = 1.0;  // anything goes: the highest grid sparsity
  budget.limit = 1;
  auto all = prune_with(model, budget, photos);
  REQUIRE(all.is_ok());
  CHECK(all->report.has_budget);
  CHECK(all->report.sparsity == Approx(0.95));
  CHECK(all->report.evaluation_images == 1);
  CHECK_FALSE(all->report.budget.steps.empty());

  budget.max_drop = 0.0;  // no pruning keeps every output exactly
  auto none = prune_with(model, budget, photos);
  REQUIRE_FALSE(none.is_ok());
  CHECK(contains(none.status().message(), "no sparsity meets --max-drop 0"));
  CHECK(contains(none.status().message(), "the smallest drop reached is"));
  CHECK(contains(none.status().message(), "at sparsity 0.05"));
}

TEST_CASE("prune: structured pruning of MediaPipe models is exact against the zeroed originals",
          "[prune][needs-data]") {
  // The converted models' residual chains (BlazeFace's channel-padded shortcuts, the selfie
  // model's gates and decoder) are what the small model imitates: here the real ones.
  for (const char* name : {"selfie_segmentation.tflite", "face_detection_short_range.tflite",
                           "face_detection_full_range.tflite"}) {
    INFO(name);
    const std::string path = (std::filesystem::path(polyhead::testing::data_dir()) / name).string();
    if (!std::filesystem::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
    auto converted = tflite::convert_file(path, {});
    REQUIRE(converted.is_ok());
    const Model model = load(*converted);
    const merge::SourceGraph g = graph(model);
    auto ties = tie_channels(g);
    REQUIRE(ties.is_ok());
    REQUIRE_FALSE(ties->units.empty());
    std::vector<size_t> counts;
    for (const ChannelUnit& u : ties->units) counts.push_back(u.classes.size() / 3);
    const std::vector<bool> removed = choose_removed_classes(*ties, counts);
    auto edited = remove_channels(g, *ties, removed);
    REQUIRE(edited.is_ok());
    const std::vector<uint8_t> pruned = written(*edited);
    require_close(run(pruned), run(zeroed_reference(g, *ties, removed)));
  }
}

TEST_CASE("prune: bias correction keeps a pruned layer's output means on the photos", "[prune]") {
  // image -> c1 conv3x3 + relu [8] -> p conv1x1 + bias [8] (no activation), task "out"
  Builder m;
  const int image = m.b.add_input("image", Shape{1, 8, 8, 3}, small_preprocess(8));
  Conv2DParams c1p;
  c1p.pad_top = c1p.pad_left = c1p.pad_bottom = c1p.pad_right = 1;
  c1p.activation = Activation::relu();
  const int c1 = must(m.b.conv2d("c1", image, m.constant("c1.w", Shape{8, 3, 3, 3}),
                                 m.constant("c1.b", Shape{8}, 0.3f), c1p));
  const int p = must(m.b.conv2d("p", c1, m.constant("p.w", Shape{8, 1, 1, 8}),
                                m.constant("p.b", Shape{8}, 0.1f), {}));
  REQUIRE(m.b.add_task("out", TaskKind::kOther, {{"map", p}}).is_ok());
  const std::vector<uint8_t> original = m.finish();
  const Model model = load(original);
  const merge::SourceGraph g = graph(model);
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir, 2);
  auto means = measure_channel_means(model, g, photos, 1);
  REQUIRE(means.is_ok());
  int p_out = -1;
  for (int n : g.order)
    if (g.node_name(n) == "p") p_out = g.node(n).outputs()->Get(0);
  const std::vector<double> before = (*means)[static_cast<size_t>(p_out)];
  REQUIRE(before.size() == 8);

  auto output_means = [&](const std::vector<uint8_t>& bytes) {
    const Model pruned = load(bytes);
    const merge::SourceGraph pg = graph(pruned);
    auto after = measure_channel_means(pruned, pg, photos, 1);
    REQUIRE(after.is_ok());
    for (int n : pg.order)
      if (pg.node_name(n) == "p")
        return (*after)[static_cast<size_t>(pg.node(n).outputs()->Get(0))];
    FAIL("no node p");
    return std::vector<double>{};
  };
  auto check_means = [&](const std::vector<double>& after, bool expect_same) {
    REQUIRE(after.size() == before.size());
    double moved = 0;
    for (size_t c = 0; c < after.size(); ++c) {
      if (expect_same) CHECK(after[c] == Approx(before[c]).margin(1e-4));
      moved = std::max(moved, std::abs(after[c] - before[c]));
    }
    if (!expect_same) CHECK(moved > 1e-3);
  };

  // The corrected model holds p's corrected bias instead of its old one, not both.
  auto constants = [](const std::vector<uint8_t>& bytes) {
    size_t n = 0;
    for (const schema::Tensor* t : *schema::GetModel(bytes.data())->tensors())
      n += t->buffer() != 0 ? 1 : 0;
    return n;
  };
  const size_t original_constants = constants(original);

  // Unstructured: p loses half its blocks.
  const BlockLayers found = find_block_layers(g);
  REQUIRE(found.layers.size() == 1);
  const std::vector<uint8_t> sparse = written(prune_blocks(g, found.layers, {4}, &*means));
  CHECK(constants(sparse) == original_constants);
  CHECK(written(prune_blocks(g, found.layers, {4}, &*means)) == sparse);
  check_means(output_means(sparse), true);
  check_means(output_means(written(prune_blocks(g, found.layers, {4}, nullptr))), false);

  // Structured: c1 loses 3 channels, p's input columns with them.
  auto ties = tie_channels(g);
  REQUIRE(ties.is_ok());
  REQUIRE(ties->units.size() == 1);
  const std::vector<bool> removed = choose_removed_classes(*ties, {3});
  auto corrected = remove_channels(g, *ties, removed, &*means);
  REQUIRE(corrected.is_ok());
  const std::vector<uint8_t> narrow = written(*corrected);
  CHECK(constants(narrow) == original_constants);
  check_means(output_means(narrow), true);
  auto plain = remove_channels(g, *ties, removed, nullptr);
  REQUIRE(plain.is_ok());
  check_means(output_means(written(*plain)), false);
}
