// `polyhead compare` as a library (tools/compare): each metric on inputs with known answers, the
// image listing, the pairing of tasks, and whole comparisons of small ModelBuilder models on
// synthetic photos (a model against itself, a perturbed copy, a student with a larger input).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "eval/box_matching.h"
#include "eval/class_map.h"
#include "eval/classification_metrics.h"
#include "eval/comparer.h"
#include "eval/image_set.h"
#include "eval/landmark_metrics.h"
#include "eval/mask_metrics.h"
#include "eval/task_pairing.h"
#include "eval/tensor_metrics.h"
#include "polyhead/model_builder.h"
#include "support/test_files.h"
#include "support/test_models.h"

using namespace polyhead;
using namespace polyhead::compare;
using polyhead::testing::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// softmax of `z` / t.
std::vector<double> softmax(std::vector<double> z, double t) {
  double sum = 0;
  for (double& v : z) sum += (v = std::exp(v / t));
  for (double& v : z) v /= sum;
  return z;
}

double kl(const std::vector<double>& p, const std::vector<double>& q) {
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) sum += p[i] * std::log(p[i] / q[i]);
  return sum;
}

int must(Result<int> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return *r;
}

// A small image model with one task of each kind compare decodes plus an embedding:
//   classify   [1,10] logits (softmax)        segment  [1,S,S,1] logits (sigmoid, threshold 0.5)
//   points     [1,8]  4 points "xy" in [0,1]  embed    [1,8] raw
// Weights are seeded; `delta` adds a second seeded pattern of that scale to every weight, so 0
// gives the same model and small values a slightly different one.
struct ToyOptions {
  int size = 16;
  float delta = 0.f;
  std::string segment_name = "segment";
  TaskKind segment_kind = TaskKind::kSegmentation;
  int classes = 10;
};

std::vector<uint8_t> toy_model(const ToyOptions& o) {
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = o.size;
  pre.pixel_scale = 1.f;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  const int image = b.add_input("image", Shape{1, o.size, o.size, 3}, pre);
  uint32_t seed = 1;
  auto constant = [&](const std::string& name, const Shape& shape, float scale) {
    std::vector<float> v =
        polyhead::testing::random_values(static_cast<size_t>(shape.elements()), seed, scale);
    const std::vector<float> d = polyhead::testing::random_values(v.size(), seed + 1000, 1.f);
    for (size_t i = 0; i < v.size(); ++i) v[i] += o.delta * d[i];
    ++seed;
    return b.add_constant(name, shape, v);
  };
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu();
  const int stem = must(b.conv2d("stem", image, constant("stem.w", Shape{8, 3, 3, 3}, 0.5f),
                                 constant("stem.b", Shape{8}, 0.1f), c));
  const int pooled = must(b.mean("pool", stem, false));
  const int logits = must(b.fully_connected("classify.fc", pooled,
                                            constant("classify.w", Shape{o.classes, 8}, 1.f), -1));
  Conv2DParams s;
  const int mask =
      must(b.conv2d("segment.conv", stem, constant("segment.w", Shape{1, 1, 1, 8}, 1.f),
                    constant("segment.b", Shape{1}, 0.2f), s));
  const int raw_points =
      must(b.fully_connected("points.fc", pooled, constant("points.w", Shape{8, 8}, 1.f), -1));
  const int points = must(b.unary("points.sigmoid", UnaryOp::kSigmoid, raw_points));
  PostProcessParams softmax_post;
  softmax_post.activation = OutputActivation::kSoftmax;
  PostProcessParams sigmoid_post;
  sigmoid_post.activation = OutputActivation::kSigmoid;
  auto ok = [](const Status& st) {
    if (!st.is_ok()) FAIL(st.to_string());
  };
  ok(b.add_task("classify", TaskKind::kClassification, {{"logits", logits}}, softmax_post));
  ok(b.add_task(o.segment_name, o.segment_kind, {{"mask", mask}}, sigmoid_post));
  ok(b.add_task("points", TaskKind::kLandmarks, {{"landmarks", points}}));
  ok(b.add_task("embed", TaskKind::kEmbedding, {{"vector", pooled}}));
  b.add_metadata(o.segment_name + ".threshold", "0.5");
  b.add_metadata("points.format", "xy");
  b.add_metadata("points.scale", "1,1");
  auto bytes = b.finish();
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  return *bytes;
}

Model load(const std::vector<uint8_t>& bytes) {
  auto m = Model::from_bytes(bytes);
  if (!m.is_ok()) FAIL(m.status().to_string());
  return *m;
}

// Three photos of different sizes with shapes on them, written into `dir`.
std::vector<std::string> write_photos(const TempDir& dir) {
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i) {
    cv::Mat img(40 + 10 * i, 60 - 5 * i, CV_8UC3, cv::Scalar(30 * i, 90, 200 - 40 * i));
    cv::rectangle(img, cv::Rect(5 + i, 8, 20, 15), cv::Scalar(250, 20 * i, 10), cv::FILLED);
    cv::circle(img, cv::Point(35, 20 + 3 * i), 9, cv::Scalar(0, 255, 120), cv::FILLED);
    paths.push_back(dir / ("photo" + std::to_string(i) + ".png"));
    REQUIRE(cv::imwrite(paths.back(), img));
  }
  return paths;
}

CompareOptions quick() {
  CompareOptions o;
  o.latency.rounds = 1;
  o.latency.runs = 1;
  return o;
}

const TaskComparison& task_of(const CompareReport& r, const std::string& name) {
  for (const TaskComparison& t : r.tasks)
    if (t.task == name) return t;
  FAIL("no task " << name);
  return r.tasks[0];
}

}  // namespace

TEST_CASE("compare: KL divergence of temperature-softened logits matches the closed form") {
  const std::vector<float> t = {0.f, 0.f, 1.f}, s = {0.f, std::log(3.f), 0.5f};
  for (double temperature : {1.0, 2.0, 0.5}) {
    INFO("T " << temperature);
    const RowAgreement r = compare_row(t.data(), s.data(), 3, ScoreKind::kLogits, temperature);
    const double want =
        kl(softmax({0, 0, 1}, temperature), softmax({0, std::log(3.0), 0.5}, temperature));
    CHECK(r.kl == Approx(want).epsilon(1e-6));  // the inputs are floats
    CHECK(r.kl > 0);
  }
  // A higher temperature softens both distributions towards uniform: they differ less.
  CHECK(compare_row(t.data(), s.data(), 3, ScoreKind::kLogits, 4.0).kl <
        compare_row(t.data(), s.data(), 3, ScoreKind::kLogits, 1.0).kl);
  // Equal rows, and rows differing by a constant (softmax is shift-invariant): KL 0.
  CHECK(compare_row(t.data(), t.data(), 3, ScoreKind::kLogits, 1.0).kl == 0);
  const std::vector<float> shifted = {5.f, 5.f, 6.f};
  CHECK(compare_row(t.data(), shifted.data(), 3, ScoreKind::kLogits, 1.0).kl ==
        Approx(0).margin(1e-12));
}

TEST_CASE("compare: probabilities are softened as softmax(log p / T)") {
  const std::vector<float> p = {0.2f, 0.3f, 0.5f}, q = {0.25f, 0.25f, 0.5f};
  CHECK(rows_are_distributions(p.data(), 3, 3));
  const std::vector<float> not_summing = {0.2f, 0.3f, 0.9f};
  CHECK_FALSE(rows_are_distributions(not_summing.data(), 3, 3));
  CHECK(score_kind(OutputActivation::kNone, 3, true, true) == ScoreKind::kProbabilities);
  CHECK(score_kind(OutputActivation::kNone, 3, true, false) == ScoreKind::kLogits);
  CHECK(score_kind(OutputActivation::kSoftmax, 3, true, true) == ScoreKind::kLogits);
  CHECK(score_kind(OutputActivation::kSigmoid, 3, false, false) == ScoreKind::kSigmoid);

  const RowAgreement r1 = compare_row(p.data(), q.data(), 3, ScoreKind::kProbabilities, 1.0);
  CHECK(r1.kl == Approx(kl({0.2, 0.3, 0.5}, {0.25, 0.25, 0.5})).epsilon(1e-6));
  const RowAgreement r2 = compare_row(p.data(), q.data(), 3, ScoreKind::kProbabilities, 2.0);
  auto soften = [](std::vector<double> v) {
    double sum = 0;
    for (double& x : v) sum += (x = std::sqrt(x));
    for (double& x : v) x /= sum;
    return v;
  };
  CHECK(r2.kl == Approx(kl(soften({0.2, 0.3, 0.5}), soften({0.25, 0.25, 0.5}))).epsilon(1e-6));
}

TEST_CASE("compare: top-1 and top-5 agreement rank the raw values") {
  std::vector<float> t(8, 0.f), s(8, 0.f);
  t[3] = 5.f;                                                  // the teacher's class is 3
  s[0] = 9.f, s[1] = 8.f, s[2] = 7.f, s[4] = 6.f, s[3] = 5.f;  // 3 is fifth for the student
  RowAgreement r = compare_row(t.data(), s.data(), 8, ScoreKind::kLogits, 1.0);
  CHECK_FALSE(r.top1);
  CHECK(r.top5);
  s[5] = 5.5f;  // now sixth
  r = compare_row(t.data(), s.data(), 8, ScoreKind::kLogits, 1.0);
  CHECK_FALSE(r.top5);
  r = compare_row(t.data(), t.data(), 8, ScoreKind::kLogits, 1.0);
  CHECK(r.top1);
  CHECK(r.top5);
}

TEST_CASE("compare: one value is a binary outcome, several sigmoids are Bernoulli per class") {
  // A logit: sigmoid(z / T) against sigmoid(w / T).
  auto bernoulli = [](double p, double q) {
    return p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q));
  };
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  const float z = 1.5f, w = -0.5f;
  CHECK(score_kind(OutputActivation::kNone, 1, false, false) == ScoreKind::kSigmoid);
  RowAgreement r = compare_row(&z, &w, 1, ScoreKind::kSigmoid, 2.0);
  CHECK(r.kl == Approx(bernoulli(sig(0.75), sig(-0.25))).epsilon(1e-9));
  CHECK_FALSE(r.top1);  // opposite sides of 0.5
  // A probability (the graph ends in a sigmoid): (1 - p, p).
  const float p = 0.8f, q = 0.6f;
  CHECK(rows_are_distributions(&p, 1, 1));
  CHECK(score_kind(OutputActivation::kNone, 1, true, true) == ScoreKind::kProbabilities);
  r = compare_row(&p, &q, 1, ScoreKind::kProbabilities, 1.0);
  CHECK(r.kl == Approx(bernoulli(0.8, 0.6)).epsilon(1e-6));
  CHECK(r.top1);
  // Multi-label: the mean Bernoulli KL over classes.
  const std::vector<float> a = {1.f, -2.f}, b = {0.f, -1.f};
  r = compare_row(a.data(), b.data(), 2, ScoreKind::kSigmoid, 1.0);
  CHECK(r.kl ==
        Approx((bernoulli(sig(1), sig(0)) + bernoulli(sig(-2), sig(-1))) / 2).epsilon(1e-9));
}

TEST_CASE("compare: mask IoU, probability error and class map agreement") {
  cv::Mat a = cv::Mat::zeros(20, 20, CV_8U), b = cv::Mat::zeros(20, 20, CV_8U);
  a(cv::Rect(0, 0, 10, 10)).setTo(255);
  b(cv::Rect(5, 0, 10, 10)).setTo(255);
  CHECK(*mask_iou(a, b) == Approx(50.0 / 150.0));
  CHECK(*mask_iou(a, a) == 1.0);
  const cv::Mat empty = cv::Mat::zeros(20, 20, CV_8U);
  CHECK(*mask_iou(empty, empty) == 1.0);  // both agree there is nothing
  CHECK(*mask_iou(a, empty) == 0.0);
  const auto bad = mask_iou(a, cv::Mat::zeros(10, 20, CV_8U));
  REQUIRE_FALSE(bad.is_ok());
  CHECK(contains(bad.status().message(), "20x20 and 20x10"));

  cv::Mat p(2, 2, CV_32F, cv::Scalar(0.5f)), q(2, 2, CV_32F, cv::Scalar(0.5f));
  q.at<float>(0, 0) = 0.9f;
  CHECK(*mean_abs_difference(p, q) == Approx(0.1));

  // Classes 0/1/2; the student paints the right half of class 1 as class 2.
  cv::Mat ta(4, 4, CV_32S, cv::Scalar(0)), sa(4, 4, CV_32S, cv::Scalar(0));
  ta(cv::Rect(0, 0, 4, 2)).setTo(1);
  sa(cv::Rect(0, 0, 2, 2)).setTo(1);
  sa(cv::Rect(2, 0, 2, 2)).setTo(2);
  const ClassMapAgreement c = *class_map_agreement(ta, sa, 3);
  CHECK(c.pixel_agreement == Approx(12.0 / 16.0));
  CHECK(c.mean_iou == Approx((1.0 + 0.5 + 0.0) / 3.0));  // class 0, 1 and 2 (only the student's)
  CHECK(class_map_agreement(ta, ta, 3)->mean_iou == 1.0);
  CHECK_FALSE(class_map_agreement(ta, sa, 2).is_ok());  // value 2 out of range
}

TEST_CASE("compare: class maps are mapped to the photo through the pre-processing transform") {
  // A 2x2 mask of 3 classes over a 4x4 model input, on an 8x8 photo stretched to the input.
  const std::vector<float> scores = {1, 0, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, /**/ 0, 1, 0};
  TensorView v{scores.data(), Shape{1, 2, 2, 3}, ElementType::kF32};
  vision::ImageTransform t;
  t.image_width = t.image_height = 8;
  t.model_width = t.model_height = 4;
  t.scale_x = t.scale_y = 0.5f;
  const cv::Mat m = *class_map_to_image(v, t);
  REQUIRE(m.size() == cv::Size(8, 8));
  REQUIRE(m.type() == CV_32S);
  CHECK(m.at<int32_t>(1, 1) == 0);
  CHECK(m.at<int32_t>(1, 6) == 1);
  CHECK(m.at<int32_t>(6, 1) == 2);
  CHECK(m.at<int32_t>(6, 6) == 1);
  TensorView flat{scores.data(), Shape{4, 3}, ElementType::kF32};
  CHECK_FALSE(class_map_to_image(flat, t).is_ok());
}

TEST_CASE("compare: boxes are matched greedily by IoU within a label") {
  auto det = [](float x, float y, float w, float h, float score, int label = 0) {
    vision::Detection d;
    d.box = cv::Rect2f(x, y, w, h);
    d.score = score;
    d.label = label;
    return d;
  };
  const std::vector<vision::Detection> teacher = {
      det(0, 0, 10, 10, 0.9f), det(100, 100, 10, 10, 0.8f), det(50, 0, 10, 10, 0.7f, 1)};
  const std::vector<vision::Detection> student = {
      det(1, 0, 10, 10, 0.85f),      // IoU 90/110 with teacher 0
      det(0, 0, 10, 10, 0.5f),       // IoU 1 with teacher 0: wins it
      det(50, 0, 10, 10, 0.7f, 0),   // same place as teacher 2 but another label
      det(300, 300, 10, 10, 0.9f)};  // nothing there
  const std::vector<BoxMatch> m = match_boxes(teacher, student, 0.5);
  REQUIRE(m.size() == 1);
  CHECK(m[0].teacher == 0);
  CHECK(m[0].student == 1);
  CHECK(m[0].iou == Approx(1.0));
  // Without the perfect box, the shifted one matches; a high threshold refuses it.
  const std::vector<vision::Detection> shifted = {student[0]};
  REQUIRE(match_boxes(teacher, shifted, 0.5).size() == 1);
  CHECK(match_boxes(teacher, shifted, 0.5)[0].iou == Approx(90.0 / 110.0));
  CHECK(match_boxes(teacher, shifted, 0.95).empty());
  CHECK(match_boxes({}, student, 0.5).empty());
}

TEST_CASE("compare: landmark errors are fractions of the teacher's input size") {
  vision::ImageTransform t;  // a 200x100 photo stretched onto a 100x100 input
  t.image_width = 200;
  t.image_height = 100;
  t.model_width = t.model_height = 100;
  t.scale_x = 0.5f;
  t.scale_y = 1.f;
  std::vector<vision::Landmark> a(2), b(2);
  a[0].point = {10, 10};
  b[0].point = {30, 10};  // 20 photo px = 10 input px = 10 %
  a[1].point = {50, 50};
  b[1].point = {50, 45};  // 5 input px = 5 %
  b[1].visibility = 0.5f;
  const LandmarkErrors e = *landmark_errors(a, b, t);
  CHECK(e.points == 2);
  CHECK(e.error_sum == Approx(0.15));
  CHECK(e.error_max == Approx(0.10));
  CHECK(e.visibility_error_sum == Approx(0.5));
  CHECK(landmark_errors(a, a, t)->error_sum == 0);
  const auto bad = landmark_errors(a, {b[0]}, t);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(contains(bad.status().message(), "2 points, the student 1"));
}

TEST_CASE("compare: raw differences and cosine similarity") {
  const std::vector<float> a = {1, 0, -2}, b = {1, 0.5f, -2};
  TensorDifference d;
  d.add(a.data(), b.data(), 3);
  CHECK(d.abs_error_sum == Approx(0.5));
  CHECK(d.abs_error_max == Approx(0.5));
  CHECK(d.cosine() == Approx(5.0 / std::sqrt(5.0 * 5.25)));
  TensorDifference same;
  same.add(a.data(), a.data(), 3);
  CHECK(same.cosine() == Approx(1.0));
  CHECK(same.abs_error_max == 0);
  const std::vector<float> zeros = {0, 0, 0};
  TensorDifference z;
  z.add(zeros.data(), zeros.data(), 3);
  CHECK(z.cosine() == 1.0);
}

TEST_CASE("compare: image folders are listed sorted, other files skipped, empty ones refused") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  std::ofstream(dir / "notes.txt") << "not a photo";
  std::ofstream(dir / "B.JPG") << "not decoded while listing";
  std::filesystem::create_directory(dir.path() / "sub");
  const ImageSet set = *collect_images({dir.path().string()});
  REQUIRE(set.files.size() == 4);
  CHECK(set.files[0] == dir / "B.JPG");  // upper case sorts first; extensions are case-blind
  CHECK(set.files[1] == photos[0]);
  CHECK(set.files[3] == photos[2]);
  CHECK(set.skipped == std::vector<std::string>{dir / "notes.txt", dir / "sub"});
  CHECK(collect_images({dir.path().string()}, 2)->files.size() == 2);
  // Files are taken as given, after folders in the order given.
  const ImageSet mixed = *collect_images({photos[2], dir.path().string()}, 0);
  CHECK(mixed.files.front() == photos[2]);
  CHECK(mixed.files.size() == 5);

  const auto empty = collect_images({(dir.path() / "sub").string()});
  REQUIRE_FALSE(empty.is_ok());
  CHECK(contains(empty.status().message(), "no images in " + (dir.path() / "sub").string()));
  const auto missing = collect_images({dir / "absent"});
  REQUIRE_FALSE(missing.is_ok());
  CHECK(contains(missing.status().message(), "absent"));
  CHECK_FALSE(collect_images({}).is_ok());
}

TEST_CASE("compare: tasks pair by name, kind and output shape; errors name the task") {
  const Model teacher = load(toy_model({}));
  auto pairs = pair_tasks(teacher, teacher, {});
  REQUIRE(pairs.is_ok());
  REQUIRE(pairs->size() == 4);
  CHECK((*pairs)[0].method == Method::kClassification);
  CHECK((*pairs)[1].method == Method::kMask);
  CHECK((*pairs)[2].method == Method::kLandmarks);
  CHECK((*pairs)[3].method == Method::kRaw);
  CHECK((*pairs)[3].note.empty());

  ToyOptions renamed;
  renamed.segment_name = "matte";
  const Model other_name = load(toy_model(renamed));
  auto r = pair_tasks(teacher, other_name, {});
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "'matte'"));
  r = pair_tasks(other_name, teacher, {});
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "'segment'"));
  // Choosing the common tasks works.
  CHECK(pair_tasks(teacher, other_name, {"classify", "points"}).is_ok());
  r = pair_tasks(teacher, teacher, {"nope"});
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "task 'nope' is not in the teacher"));

  ToyOptions rekinded;
  rekinded.segment_kind = TaskKind::kRegression;
  r = pair_tasks(teacher, load(toy_model(rekinded)), {});
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(),
                 "task 'segment': kind segmentation in the teacher but "
                 "regression in the student"));

  ToyOptions more_classes;
  more_classes.classes = 12;
  r = pair_tasks(teacher, load(toy_model(more_classes)), {});
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "task 'classify': output 'logits' has shape [1,10]"));
  CHECK(contains(r.status().message(), "[1,12]"));

  // A larger input: the mask grows with it, which is allowed.
  ToyOptions larger;
  larger.size = 24;
  CHECK(pair_tasks(teacher, load(toy_model(larger)), {}).is_ok());
}

TEST_CASE("compare: a model against itself agrees perfectly on every task") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  const Model model = load(toy_model({}));
  auto report = compare_models(model, model, photos, quick());
  REQUIRE(report.is_ok());
  const CompareReport& r = *report;
  CHECK(r.images == photos);
  REQUIRE(r.tasks.size() == 4);

  const ClassificationSummary& c = task_of(r, "classify").classification;
  CHECK(c.scores == "logits");
  CHECK(c.classes == 10);
  CHECK(c.samples == 3);
  CHECK(c.top1() == 1.0);
  CHECK(c.top5() == 1.0);
  CHECK(c.kl_mean() == 0.0);
  const MaskSummary& m = task_of(r, "segment").mask;
  CHECK(m.images == 3);
  CHECK(m.iou_mean() == 1.0);
  CHECK(m.iou_min == 1.0);
  CHECK(m.probability_error_mean() == 0.0);
  const LandmarkSummary& l = task_of(r, "points").landmarks;
  CHECK(l.points == 12);
  CHECK(l.error_mean() == 0.0);
  CHECK(l.error_max == 0.0);
  const RawSummary& e = task_of(r, "embed").raw;
  CHECK(e.elements == 8);
  CHECK(e.abs_error_max == 0.0);
  CHECK(e.cosine_mean() == Approx(1.0));
  CHECK(task_of(r, "segment").per_image == std::vector<double>{1.0, 1.0, 1.0});

  CHECK(r.file_ratio() == 1.0);
  CHECK(r.arena_ratio() == 1.0);
  CHECK(r.teacher.latency_ms > 0);
  CHECK(r.student.latency_ms > 0);
  CHECK(r.latency_ratio() > 0);
  CHECK(r.teacher.input_width == 16);
}

TEST_CASE("compare: a perturbed student gives measurably imperfect numbers") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  const Model teacher = load(toy_model({}));
  ToyOptions perturbed;
  perturbed.delta = 0.2f;
  const Model student = load(toy_model(perturbed));
  CompareOptions o = quick();
  auto r = compare_models(teacher, student, photos, o);
  REQUIRE(r.is_ok());
  const double kl1 = task_of(*r, "classify").classification.kl_mean();
  CHECK(kl1 > 1e-6);
  CHECK(task_of(*r, "segment").mask.probability_error_mean() > 1e-4);
  CHECK(task_of(*r, "points").landmarks.error_mean() > 1e-4);
  CHECK(task_of(*r, "points").landmarks.error_mean() < 0.5);
  CHECK(task_of(*r, "embed").raw.abs_error_max > 1e-4);
  CHECK(task_of(*r, "embed").raw.cosine_mean() < 1.0);
  // Softer distributions are closer.
  o.temperature = 8;
  auto soft = compare_models(teacher, student, photos, o);
  REQUIRE(soft.is_ok());
  CHECK(task_of(*soft, "classify").classification.kl_mean() < kl1);
}

TEST_CASE("compare: a student with a larger input is compared in photo pixels") {
  TempDir dir;
  const std::vector<std::string> photos = write_photos(dir);
  const Model teacher = load(toy_model({}));
  ToyOptions larger;
  larger.size = 32;
  const Model student = load(toy_model(larger));
  auto r = compare_models(teacher, student, photos, quick());
  REQUIRE(r.is_ok());
  CHECK(r->student.input_width == 32);
  CHECK(r->arena_ratio() > 1.0);  // four times the activations
  const MaskSummary& m = task_of(*r, "segment").mask;
  CHECK(m.images == 3);
  CHECK(m.iou_mean() >= 0.0);
  CHECK(m.iou_mean() <= 1.0);
}

TEST_CASE("compare: unreadable images, bad options and non-image models are clear errors") {
  TempDir dir;
  std::vector<std::string> photos = write_photos(dir);
  const Model model = load(toy_model({}));
  std::ofstream(dir / "broken.png") << "this is no PNG";
  photos.push_back(dir / "broken.png");
  auto r = compare_models(model, model, photos, quick());
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "broken.png"));

  photos.pop_back();
  CompareOptions o = quick();
  for (double t : {0.0, -1.0, std::nan(""), static_cast<double>(INFINITY)}) {
    o.temperature = t;
    r = compare_models(model, model, photos, o);
    REQUIRE_FALSE(r.is_ok());
    CHECK(contains(r.status().message(), "temperature"));
  }
  o = quick();
  o.match_iou = 0;
  CHECK_FALSE(compare_models(model, model, photos, o).is_ok());
  CHECK_FALSE(compare_models(model, model, {}, quick()).is_ok());

  // An RGB input declared with 4 channels cannot take a photo: the wrong channel count is named,
  // with the image it happened on.
  ModelBuilder b;
  const int x = b.add_input("image", Shape{1, 8, 8, 4});
  const int pooled = must(b.mean("pool", x, false));
  REQUIRE(b.add_task("embed", TaskKind::kEmbedding, {{"vector", pooled}}).is_ok());
  auto four_bytes = b.finish();
  REQUIRE(four_bytes.is_ok());
  const Model four = load(*four_bytes);
  r = compare_models(four, four, photos, quick());
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "needs 3 channel(s)"));
  CHECK(contains(r.status().message(), photos[0]));

  // The two-input model of the test support cannot take a photo.
  const Model two_inputs = load(polyhead::testing::every_operator_model());
  r = compare_models(two_inputs, two_inputs, photos, quick());
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "2 inputs"));
}
