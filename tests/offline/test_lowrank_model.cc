// `polyhead lowrank` as a library (offline/lowrank/lowrank.h): rank selection by energy and by
// ratio on small ModelBuilder models, layers kept whole where no rank saves MACs, the --max-drop
// search (scripted, then on photos), and every bad input failing with a clear message.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "offline/lowrank/budget_search.h"
#include "offline/lowrank/lowrank.h"
#include "polyhead/model_builder.h"
#include "support/test_files.h"
#include "support/test_models.h"

using namespace polyhead;
using namespace polyhead::lowrank;
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

// 16 x 16 weights of rank 2 (a product of random 16x2 and 2x16 factors), as floats.
std::vector<float> rank_two_weights(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 0.5f);
  std::vector<float> a(32), b(32), w(256, 0.f);
  for (float& x : a) x = d(rng);
  for (float& x : b) x = d(rng);
  for (int o = 0; o < 16; ++o)
    for (int i = 0; i < 16; ++i)
      w[static_cast<size_t>(o) * 16 + i] = a[o * 2] * b[i] + a[o * 2 + 1] * b[16 + i];
  return w;
}

// image [1,8,8,3] -> stem: conv3x3 3 -> 16, relu (not factorizable) -> low: 1x1 conv 16 -> 16
// with rank-2 weights -> full: 1x1 conv 16 -> 16, random weights, relu -> mean [1,16]
// -> fc 16 -> 10 (random). Tasks "classify" (softmax of fc) and "features" (full's output).
std::vector<uint8_t> image_model() {
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 8;
  pre.pixel_scale = 1.f;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  const int image = b.add_input("image", Shape{1, 8, 8, 3}, pre);
  Conv2DParams k3;
  k3.pad_top = k3.pad_left = k3.pad_bottom = k3.pad_right = 1;
  k3.activation = Activation::relu();
  const int stem_w = testing::random_constant(b, "stem.w", Shape{16, 3, 3, 3}, 1, 0.5f);
  const int stem_b = testing::random_constant(b, "stem.b", Shape{16}, 2, 0.1f);
  const int stem = must(b.conv2d("stem", image, stem_w, stem_b, k3));
  const int low = must(b.conv2d(
      "low", stem, b.add_constant("low.w", Shape{16, 1, 1, 16}, rank_two_weights(3)), -1, {}));
  Conv2DParams relu;
  relu.activation = Activation::relu();
  const int full_w = testing::random_constant(b, "full.w", Shape{16, 1, 1, 16}, 4, 0.5f);
  const int full = must(b.conv2d("full", low, full_w, -1, relu));
  const int mean = must(b.mean("mean", full, false));
  const int fc_w = testing::random_constant(b, "fc.w", Shape{10, 16}, 5, 1.f);
  const int fc_b = testing::random_constant(b, "fc.b", Shape{10}, 6, 0.1f);
  const int fc = must(b.fully_connected("fc", mean, fc_w, fc_b));
  const int soft = must(b.softmax("softmax", fc));
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"probs", soft}}).is_ok());
  REQUIRE(b.add_task("features", TaskKind::kOther, {{"full", full}}).is_ok());
  auto bytes = b.finish();
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  return *bytes;
}

std::vector<std::string> write_photos(const TempDir& dir, int count = 2) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    cv::Mat img(24 + 8 * i, 32 - 4 * i, CV_8UC3, cv::Scalar(30 * i, 90, 200 - 40 * i));
    cv::rectangle(img, cv::Rect(3 + i, 4, 12, 10), cv::Scalar(250, 20 * i, 10), cv::FILLED);
    cv::circle(img, cv::Point(20, 12 + 3 * i), 6, cv::Scalar(0, 255, 120), cv::FILLED);
    paths.push_back(dir / ("photo" + std::to_string(i) + ".png"));
    REQUIRE(cv::imwrite(paths.back(), img));
  }
  return paths;
}

const LayerChoice& layer(const LowrankReport& r, const std::string& name) {
  for (const LayerChoice& c : r.layers)
    if (c.node == name) return c;
  FAIL("no layer " << name);
  return r.layers[0];
}

LowrankResult must_lowrank(const std::vector<uint8_t>& bytes, const LowrankOptions& o,
                           const std::vector<std::string>& images = {}) {
  auto r = lowrank_model(load(bytes), images, o);
  if (!r.is_ok()) FAIL(r.status().to_string());
  load(r->bytes);
  return std::move(*r);
}

std::string error_of(const std::vector<uint8_t>& bytes, const LowrankOptions& o,
                     const std::vector<std::string>& images = {}) {
  auto r = lowrank_model(load(bytes), images, o);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == ErrorCode::kInvalidArgument);
  return r.status().message();
}

quantize::Evaluation drop_of(double d) {
  quantize::Evaluation e;
  e.worst_drop = d;
  e.worst_score = d;
  return e;
}

RankTrial trial(int rank, uint64_t saved, double drop) {
  RankTrial t;
  t.rank = rank;
  t.energy = 0.9;
  t.macs_saved = saved;
  t.alone = drop_of(drop);
  return t;
}

}  // namespace

TEST_CASE("lowrank: --energy factorizes only where a rank saves MACs", "[lowrank]") {
  const std::vector<uint8_t> bytes = image_model();
  LowrankOptions o;
  o.energy = 0.999;
  const LowrankResult r = must_lowrank(bytes, o);
  REQUIRE(r.report.layers.size() == 3);  // low, full, fc; not the 3x3 stem
  const LayerChoice& low = layer(r.report, "low");
  CHECK(low.kind == "CONV_2D 1x1");
  CHECK(low.rank == 2);  // the weights' rank
  CHECK(low.energy_kept == Approx(1.0));
  CHECK(low.largest_saving_rank == 7);
  CHECK(low.macs_before == 64 * 256);
  CHECK(low.macs_after == 64 * 2 * 32);
  const LayerChoice& full = layer(r.report, "full");
  CHECK(full.rank == 0);  // random weights need nearly every rank
  CHECK(full.wanted_rank > 7);
  CHECK(full.macs_after == full.macs_before);
  CHECK(contains(full.note, "saves no MACs (at most 7 does)"));
  CHECK(r.report.factorized >= 1);
  CHECK(r.report.layer_macs_after < r.report.layer_macs_before);
  CHECK(r.report.output_bytes == r.bytes.size());
  const Model m = load(r.bytes);
  CHECK(m.metadata("lowrank.tool") == "polyhead lowrank");
  CHECK(m.metadata("lowrank.mode") == "energy");
  CHECK(m.metadata("lowrank.value") == "0.999");
  CHECK(m.metadata("lowrank.factorized_layers") == std::to_string(r.report.factorized));
}

TEST_CASE("lowrank: --rank-ratio gives every layer ceil(R min(O, I))", "[lowrank]") {
  LowrankOptions o;
  o.mode = RankMode::kRankRatio;
  o.rank_ratio = 0.25;
  const LowrankResult r = must_lowrank(image_model(), o);
  CHECK(layer(r.report, "low").rank == 4);
  CHECK(layer(r.report, "full").rank == 4);
  CHECK(layer(r.report, "full").energy_kept < 1.0);
  // fc is 10x16: ceil(2.5) = 3 and at most floor(144 / 26) = 5 saves MACs.
  CHECK(layer(r.report, "fc").rank == 3);
  CHECK(r.report.factorized == 3);
  CHECK(load(r.bytes).metadata("lowrank.mode") == "rank-ratio");
}

TEST_CASE("lowrank: bad settings and models fail with clear errors", "[lowrank]") {
  const std::vector<uint8_t> bytes = image_model();
  LowrankOptions o;
  o.energy = 0;
  CHECK(error_of(bytes, o) == "energy must be in (0, 1], got 0");
  o.energy = 1.5;
  CHECK(error_of(bytes, o) == "energy must be in (0, 1], got 1.5");
  o = {};
  o.mode = RankMode::kRankRatio;
  o.rank_ratio = 1;
  CHECK(error_of(bytes, o) == "rank ratio must be in (0, 1), got 1");
  o = {};
  o.mode = RankMode::kMaxDrop;
  o.max_drop = -0.1;
  CHECK(error_of(bytes, o) == "max drop must be in [0, 1], got -0.1");
  o.max_drop = 0.1;
  CHECK(contains(error_of(bytes, o), "--max-drop needs calibration photos"));
  o = {};
  o.tasks = {"classify", "segment"};
  CHECK(error_of(bytes, o) ==
        "--tasks: the model has no task 'segment' (it has classify, features)");

  // Energy 1 keeps every random layer whole: nothing saves MACs.
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 16});
  const int fc_w = testing::random_constant(b, "fc.w", Shape{16, 16}, 1, 1.f);
  const int fc = must(b.fully_connected("fc", x, fc_w, -1));
  const int tiny_w = testing::random_constant(b, "tiny.w", Shape{2, 16}, 2, 1.f);
  const int tiny = must(b.fully_connected("tiny", fc, tiny_w, -1));
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", tiny}}).is_ok());
  const std::vector<uint8_t> dense = *b.finish();
  o = {};
  o.energy = 1;
  CHECK(error_of(dense, o) ==
        "no layer saves MACs at --energy 1: the closest, 'tiny' (2x16), needs rank 2 where at "
        "most 1 saves MACs; try a lower setting");

  // A model without a factorizable layer, and one whose layers are all too small.
  ModelBuilder c;
  const int y = c.add_input("y", Shape{1, 4, 4, 3});
  Conv2DParams k3;
  k3.pad_top = k3.pad_left = k3.pad_bottom = k3.pad_right = 1;
  const int conv_w = testing::random_constant(c, "k.w", Shape{4, 3, 3, 3}, 1, 1.f);
  const int conv = must(c.conv2d("k", y, conv_w, -1, k3));
  REQUIRE(c.add_task("t", TaskKind::kOther, {{"y", conv}}).is_ok());
  CHECK(error_of(*c.finish(), {}) ==
        "the model has no layer to factorize: lowrank takes float FULLY_CONNECTED layers and 1x1 "
        "CONV_2D layers (stride 1, groups 1, no padding) with at least 2 input and output "
        "channels, and found none among its 1 CONV_2D and 0 FULLY_CONNECTED nodes");
  ModelBuilder d;
  const int z = d.add_input("z", Shape{1, 2});
  const int small_w = testing::random_constant(d, "s.w", Shape{2, 2}, 1, 1.f);
  const int small = must(d.fully_connected("s", z, small_w, -1));
  REQUIRE(d.add_task("t", TaskKind::kOther, {{"y", small}}).is_ok());
  CHECK(error_of(*d.finish(), {}) ==
        "no layer's factorization saves MACs: the model's 1 factorizable layer(s) are too small, "
        "even rank 1 costs more than 90% of their MACs (first: 's', 2x2)");
}

TEST_CASE("lowrank: a layer's ladder stops at the first rank over budget", "[lowrank]") {
  std::vector<RankTrial> candidates = {trial(7, 10, 0), trial(5, 20, 0), trial(3, 30, 0),
                                       trial(1, 40, 0)};
  std::vector<int> asked;
  auto s = measure_layer_sensitivity("L", candidates, 0.1, [&](int rank) {
    asked.push_back(rank);
    return Result<quantize::Evaluation>(drop_of(rank >= 5 ? 0.01 : 0.5));
  });
  REQUIRE(s.is_ok());
  CHECK(asked == std::vector<int>{7, 5, 3});
  CHECK(s->within_budget == 2);
  REQUIRE(s->trials.size() == 3);
  CHECK(s->trials[2].alone.worst_drop == 0.5);
  CHECK(s->trials[1].macs_saved == 20);
}

TEST_CASE("lowrank: the --max-drop search keeps the most MACs within budget", "[lowrank]") {
  // Three layers; the scripted model's drop is the sum of the layers' drops alone.
  std::vector<LayerSensitivity> layers = {
      {"a", {trial(8, 10, 0.01), trial(4, 50, 0.04)}, 2},
      {"b", {trial(8, 100, 0.02), trial(4, 300, 0.05), trial(2, 400, 0.3)}, 2},
      {"c", {trial(6, 5, 0.2)}, 0},
  };
  auto drop_of_config = [&](const std::vector<int>& ranks) {
    double d = 0;
    for (size_t l = 0; l < layers.size(); ++l)
      for (const RankTrial& t : layers[l].trials)
        if (t.rank == ranks[l]) d += t.alone.worst_drop;
    return d;
  };
  std::vector<std::vector<int>> seen;
  auto evaluate = [&](const std::vector<int>& ranks) {
    seen.push_back(ranks);
    return Result<quantize::Evaluation>(drop_of(drop_of_config(ranks)));
  };
  // Within 0.1 at once: a 4, b 4; c was over alone.
  auto all = search_within_budget(layers, 0.1, evaluate);
  REQUIRE(all.is_ok());
  CHECK(all->ranks == std::vector<int>{4, 4, 0});
  CHECK(all->macs_saved == 350);
  CHECK(all->steps.size() == 1);
  CHECK(all->final.worst_drop == Approx(0.09));

  // Within 0.07: b (0.05 alone) backs off first, to 8: a 4 + b 8 = 0.06 saves 150.
  seen.clear();
  auto some = search_within_budget(layers, 0.07, evaluate);
  REQUIRE(some.is_ok());
  CHECK(some->ranks == std::vector<int>{4, 8, 0});
  CHECK(some->macs_saved == 150);
  CHECK(some->final.worst_drop <= 0.07);
  CHECK(seen.front() == std::vector<int>{4, 4, 0});
  REQUIRE(some->steps.size() == 2);
  CHECK(some->steps[0].worst_drop == Approx(0.09));
  CHECK(some->steps[1].backed_off == 1);
  CHECK(some->steps[1].macs_saved == 150);

  // Within 0.015: only a at 8 is left.
  auto least = search_within_budget(layers, 0.015, evaluate);
  REQUIRE(least.is_ok());
  CHECK(least->ranks == std::vector<int>{8, 0, 0});

  // Nothing within 0.001: the best drop alone is named.
  for (LayerSensitivity& l : layers) l.within_budget = 0;
  auto none = search_within_budget(layers, 0.001, evaluate);
  REQUIRE_FALSE(none.is_ok());
  CHECK(none.status().message() ==
        "no factorization meets --max-drop 0.001: the best drop reached is 0.01 (layer 'a' alone "
        "at rank 8, energy 0.9)");
}

TEST_CASE("lowrank: --max-drop on photos", "[lowrank]") {
  const TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  const std::vector<uint8_t> bytes = image_model();
  LowrankOptions o;
  o.mode = RankMode::kMaxDrop;
  std::vector<std::string> stages;
  o.progress = [&](const char* stage, size_t, size_t) {
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  };

  // Any drop is fine: every layer at its lowest rank, found at the first evaluation.
  o.max_drop = 1;
  const LowrankResult loose = must_lowrank(bytes, o, photos);
  CHECK(loose.report.factorized == 3);
  CHECK(loose.report.steps.size() == 1);
  CHECK(loose.report.evaluation_images == 2);
  CHECK(layer(loose.report, "low").rank == 1);
  REQUIRE(loose.report.sensitivity.size() == 3);
  CHECK(loose.report.sensitivity[0].layer == "low");
  CHECK(stages == std::vector<std::string>{"svd", "sensitivity", "search"});
  CHECK(load(loose.bytes).metadata("lowrank.mode") == "max-drop");

  // The features task's cosine changes with any approximation of 'full' and 'low' below rank 2;
  // low at rank 2 is exact, so it alone is within a budget of 1e-6 on that task.
  o.max_drop = 1e-6;
  o.tasks = {"features"};
  o.limit = 1;
  const LowrankResult tight = must_lowrank(bytes, o, photos);
  CHECK(tight.report.evaluation_images == 1);
  CHECK(layer(tight.report, "low").rank == 2);
  CHECK(layer(tight.report, "full").rank == 0);
  CHECK(layer(tight.report, "full").note == "over the budget alone at every rank");
  CHECK(tight.report.final.worst_drop <= 1e-6);

  // A budget of 0 on a model whose one layer is random: nothing meets it.
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 4;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  const int image = b.add_input("image", Shape{1, 4, 4, 3}, pre);
  Conv2DParams k3;
  k3.pad_top = k3.pad_left = k3.pad_bottom = k3.pad_right = 1;
  const int stem_w = testing::random_constant(b, "stem.w", Shape{16, 3, 3, 3}, 1, 1.f);
  const int stem = must(b.conv2d("stem", image, stem_w, -1, k3));
  const int pw_w = testing::random_constant(b, "pw.w", Shape{16, 1, 1, 16}, 2, 1.f);
  const int pw = must(b.conv2d("pw", stem, pw_w, -1, {}));
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", pw}}).is_ok());
  o = {};
  o.mode = RankMode::kMaxDrop;
  o.max_drop = 0;
  const std::string e = error_of(*b.finish(), o, photos);
  CHECK(contains(e, "no factorization meets --max-drop 0: the best drop reached is "));
  CHECK(contains(e, "(layer 'pw' alone at rank 7, energy "));
}
