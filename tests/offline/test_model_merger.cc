// polyhead::merge::merge_models (tools/merge): models fine-tuned on one frozen backbone become one
// model that keeps the backbone once, and every task's outputs stay bit-identical.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "offline/merge/model_merger.h"
#include "polyhead/engine.h"
#include "polyhead/format_version.h"
#include "polyhead/schema/phm_generated.h"
#include "support/backbone_models.h"
#include "support/test_files.h"
#include "support/test_models.h"

namespace testing = polyhead::testing;
using polyhead::Engine;
using polyhead::Model;
using polyhead::merge::merge_models;
using polyhead::merge::MergeOptions;
using polyhead::merge::MergeReport;

namespace {

Model load(const std::vector<uint8_t>& bytes) {
  auto m = Model::from_bytes(bytes);
  INFO(m.status().to_string());
  REQUIRE(m.is_ok());
  return *m;
}

std::vector<Model> load_all(const std::vector<std::vector<uint8_t>>& files) {
  std::vector<Model> models;
  models.reserve(files.size());
  for (const auto& f : files) models.push_back(load(f));
  return models;
}

// Every output of every task ("task/output" -> raw bytes) on seeded random inputs, filled by
// position so that a merged model (which keeps the first model's input names) gets the same data.
std::map<std::string, std::vector<uint8_t>> run_all(const Model& model, uint32_t seed) {
  auto engine = Engine::create(model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  INFO(plan.status().to_string());
  REQUIRE(plan.is_ok());
  for (size_t k = 0; k < model.inputs().size(); ++k) {
    const auto& in = model.inputs()[k];
    const auto values = testing::random_values(static_cast<size_t>(in.shape.elements()),
                                               seed + static_cast<uint32_t>(k), 2.f);
    REQUIRE(plan->set_input(in.name, values.data(), values.size()).is_ok());
  }
  REQUIRE(plan->run().is_ok());
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& task : model.tasks())
    for (const auto& o : task.outputs) {
      auto view = plan->output(task.name, o.name);
      REQUIRE(view.is_ok());
      const auto* p = static_cast<const uint8_t*>(view->data);
      out[task.name + "/" + o.name] = std::vector<uint8_t>(p, p + view->bytes());
    }
  return out;
}

// Checks that each task of each source model, renamed as the report says, gives the same bytes in
// the merged model.
void check_bit_identical(const std::vector<Model>& sources, const MergeReport& report) {
  const Model merged = load(report.bytes);
  const auto got = run_all(merged, 7);
  for (size_t m = 0; m < sources.size(); ++m) {
    const auto want = run_all(sources[m], 7);
    const auto& tasks = sources[m].tasks();
    REQUIRE(report.models[m].tasks.size() == tasks.size());
    for (size_t t = 0; t < tasks.size(); ++t)
      for (const auto& o : tasks[t].outputs) {
        const std::string from = tasks[t].name + "/" + o.name;
        const std::string to = report.models[m].tasks[t] + "/" + o.name;
        INFO("model " << m << " output " << from << " -> " << to);
        REQUIRE(got.count(to) == 1);
        const std::vector<uint8_t>& a = want.at(from);
        const std::vector<uint8_t>& b = got.at(to);
        REQUIRE(a.size() == b.size());
        CHECK(std::memcmp(a.data(), b.data(), a.size()) == 0);
      }
  }
}

bool has_warning(const MergeReport& r, const std::string& text) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t node_count(const std::vector<uint8_t>& bytes) {
  auto engine = Engine::create(load(bytes));
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  return plan->info().nodes;
}

testing::BackboneSpec spec(const std::string& prefix, int differ_at = -1) {
  testing::BackboneSpec s;
  s.prefix = prefix;
  s.differ_at = differ_at;
  return s;
}

const MergeOptions kThreeFiles{{"classify.phm", "segment.phm", "detect.phm"}, {}, ""};

}  // namespace

TEST_CASE("merge: three heads on one frozen backbone keep it once, outputs bit-identical") {
  const std::vector<Model> sources =
      load_all({testing::classify_model(spec("cls")), testing::segment_model(spec("seg")),
                testing::detect_model(spec("det"))});
  auto report = merge_models(sources, kThreeFiles);
  INFO(report.status().to_string());
  REQUIRE(report.is_ok());

  // Segmentation stops after stage 2: stages 0-2 are in all three models, stages 3-4 in
  // classification and detection only; the rest are heads.
  CHECK(report->shared_nodes == testing::kBackboneNodesThrough[2]);
  CHECK(report->partly_shared_nodes ==
        testing::kBackboneNodesThrough[4] - testing::kBackboneNodesThrough[2]);
  REQUIRE(report->models.size() == 3);
  CHECK(report->models[0].head_nodes == 2);
  CHECK(report->models[1].head_nodes == 4);
  CHECK(report->models[2].head_nodes == 6);
  CHECK(report->nodes.size() == testing::kBackboneNodesThrough[4] + 2 + 4 + 6);
  CHECK(node_count(report->bytes) == report->nodes.size());
  CHECK(report->models[0].tasks == std::vector<std::string>{"classify"});
  CHECK(report->models[1].tasks == std::vector<std::string>{"segment"});
  CHECK(report->models[2].tasks == std::vector<std::string>{"detect"});

  // Names: the backbone keeps the first model's, heads are prefixed with their model's name,
  // the part two models share with both names.
  auto named = [&](const std::string& name) {
    for (const auto& n : report->nodes)
      if (n.name == name) return n.models;
    return std::vector<size_t>{};
  };
  CHECK(named("cls.stem") == std::vector<size_t>{0, 1, 2});
  CHECK(named("cls.block2.add") == std::vector<size_t>{0, 1, 2});
  CHECK(named("classify+detect/cls.down3") == std::vector<size_t>{0, 2});
  CHECK(named("segment/seg.skip") == std::vector<size_t>{1});
  CHECK(named("detect/det.boxes") == std::vector<size_t>{2});
  CHECK(named("classify/cls.fc") == std::vector<size_t>{0});

  // Weights: one copy of the backbone's; the file is much smaller than the three together.
  uint64_t sum_files = 0, sum_params = 0;
  for (const auto& m : report->models) {
    sum_files += m.file_bytes;
    sum_params += m.param_bytes;
  }
  CHECK(report->shared_param_bytes > 0);
  CHECK(report->param_bytes ==
        sum_params - 2 * report->shared_param_bytes - report->partly_shared_param_bytes);
  CHECK(report->bytes.size() < sum_files);
  CHECK(has_warning(*report, "metadata 'license'"));
  CHECK(load(report->bytes).metadata("license") == "test");
  CHECK(load(report->bytes).metadata("detect/license") == "other");
  CHECK(contains(load(report->bytes).metadata("merged_from"), "segment: segment.phm"));
  CHECK(report->models[1].divergence.empty() == false);

  check_bit_identical(sources, *report);

  // The written file loads (and so validates) from disk as well.
  testing::TempDir dir;
  const std::string path = testing::write_file(dir / "merged.phm", report->bytes);
  auto from_disk = Model::load_file(path);
  INFO(from_disk.status().to_string());
  REQUIRE(from_disk.is_ok());
  CHECK(from_disk->producer() == "polyhead merge");
  CHECK(from_disk->tasks().size() == 3);
}

TEST_CASE("merge: the model order does not change what is shared") {
  const std::vector<Model> sources =
      load_all({testing::detect_model(spec("det")), testing::segment_model(spec("seg")),
                testing::classify_model(spec("cls"))});
  auto report = merge_models(sources, {});
  REQUIRE(report.is_ok());
  CHECK(report->shared_nodes == testing::kBackboneNodesThrough[2]);
  CHECK(report->models[0].head_nodes == 6);
  CHECK(report->models[2].head_nodes == 2);
  check_bit_identical(sources, *report);
}

TEST_CASE("merge: weights that differ at a layer stop sharing exactly before it") {
  for (int k = 1; k <= 4; ++k) {
    INFO("weights differ from stage " << k);
    const std::vector<Model> sources = load_all({testing::classify_model(spec("a"), "first"),
                                                 testing::classify_model(spec("b", k), "second")});
    auto report = merge_models(sources, {{"a.phm", "b.phm"}, {}, ""});
    INFO(report.status().to_string());
    REQUIRE(report.is_ok());
    const size_t shared = testing::kBackboneNodesThrough[k - 1];
    CHECK(report->shared_nodes == shared);
    CHECK(report->models[0].head_nodes == 7 + 2 - shared);
    CHECK(report->nodes.size() == 2 * (7 + 2) - shared);
    // The report says where and why.
    const std::string& why = report->models[1].divergence;
    INFO(why);
    CHECK(contains(why, "holds different values"));
    CHECK(contains(why, "'b.phm'"));
    check_bit_identical(sources, *report);
  }
}

TEST_CASE("merge: models that share nothing are merged side by side with a warning") {
  const std::vector<Model> sources = load_all({testing::classify_model(spec("a"), "first"),
                                               testing::classify_model(spec("b", 0), "second")});
  auto report = merge_models(sources, {});
  REQUIRE(report.is_ok());
  CHECK(report->shared_nodes == 0);
  CHECK(report->partly_shared_nodes == 0);
  CHECK(report->nodes.size() == 2 * 9);
  // The two heads happen to hold equal weights (same seeds): stored once, though computed twice.
  CHECK(report->shared_param_bytes == (10 * 16 + 10) * sizeof(float));
  CHECK(has_warning(*report, "share no node"));
  CHECK(load(report->bytes).inputs().size() == 1);
  check_bit_identical(sources, *report);
}

TEST_CASE("merge: models with different inputs are refused, naming both") {
  testing::BackboneSpec big = spec("b");
  big.input = polyhead::Shape{1, 32, 32, 3};
  auto report = merge_models(load_all({testing::classify_model(spec("a"), "first"),
                                       testing::classify_model(big, "second")}),
                             {{"a.phm", "b.phm"}, {}, ""});
  REQUIRE_FALSE(report.is_ok());
  const std::string& m = report.status().message();
  INFO(m);
  CHECK(contains(m, "'a.phm'"));
  CHECK(contains(m, "'b.phm'"));
  CHECK(contains(m, "[1,32,32,3]"));
  CHECK(contains(m, "[1,16,16,3]"));

  testing::BackboneSpec normalised = spec("b");
  normalised.preprocess.mean = {127.5f};
  report = merge_models(load_all({testing::classify_model(spec("a"), "first"),
                                  testing::classify_model(normalised, "second")}),
                        {{"a.phm", "b.phm"}, {}, ""});
  REQUIRE_FALSE(report.is_ok());
  INFO(report.status().message());
  CHECK(contains(report.status().message(), "pre-processing mean [127.5] but 'a.phm' has none"));

  report =
      merge_models(load_all({testing::classify_model(spec("a")), testing::every_operator_model()}),
                   {{"a.phm", "ops.phm"}, {}, ""});
  REQUIRE_FALSE(report.is_ok());
  CHECK(contains(report.status().message(), "'ops.phm' has 2 inputs but 'a.phm' has 1"));
}

TEST_CASE("merge: two tasks of one name are refused until --names tells them apart") {
  const std::vector<Model> sources =
      load_all({testing::classify_model(spec("a")), testing::classify_model(spec("b", 3))});
  auto report = merge_models(sources, {{"a.phm", "b.phm"}, {}, ""});
  REQUIRE_FALSE(report.is_ok());
  INFO(report.status().message());
  CHECK(report.status().code() == polyhead::ErrorCode::kInvalidArgument);
  CHECK(contains(report.status().message(), "task 'classify' is in both 'a.phm' and 'b.phm'"));
  CHECK(contains(report.status().message(), "--names"));

  report = merge_models(sources, {{"a.phm", "b.phm"}, {"imagenet", "birds"}, ""});
  INFO(report.status().to_string());
  REQUIRE(report.is_ok());
  const Model merged = load(report->bytes);
  REQUIRE(merged.tasks().size() == 2);
  CHECK(merged.tasks()[0].name == "imagenet");
  CHECK(merged.tasks()[1].name == "birds");
  CHECK(merged.tasks()[1].outputs[0].name == "logits");
  check_bit_identical(sources, *report);

  // Bad --names: wrong count, repeated, characters the names cannot carry.
  for (const std::vector<std::string>& names : std::vector<std::vector<std::string>>{
           {"one"}, {"x", "x"}, {"a,b", "c"}, {"a/b", "c"}, {"", "c"}}) {
    auto bad = merge_models(sources, {{"a.phm", "b.phm"}, names, ""});
    CHECK_FALSE(bad.is_ok());
    CHECK(contains(bad.status().message(), "--names"));
  }
}

TEST_CASE("merge: a model merged with itself shares everything, several tasks become name.task") {
  const std::vector<Model> sources =
      load_all({testing::every_operator_model(), testing::every_operator_model()});
  auto report = merge_models(sources, {{"ops.phm", "ops.phm"}, {"left", "right"}, ""});
  INFO(report.status().to_string());
  REQUIRE(report.is_ok());
  CHECK(report->shared_nodes == report->nodes.size());
  CHECK(report->models[0].head_nodes == 0);
  CHECK(report->models[1].head_nodes == 0);
  CHECK(report->models[1].divergence.empty());
  CHECK(report->models[0].tasks ==
        std::vector<std::string>{"left.classes", "left.dense", "left.pooled"});
  CHECK(report->models[1].tasks ==
        std::vector<std::string>{"right.classes", "right.dense", "right.pooled"});
  CHECK(report->bytes.size() < sources[0].file_bytes() + sources[0].file_bytes() / 2);
  // Every operator and options table survives the copy: outputs stay bit-identical.
  check_bit_identical(sources, *report);
}

TEST_CASE("merge: a model's own repeated computation stays two nodes") {
  // Two identical branches inside one model must not collapse into one when merged with itself.
  polyhead::ModelBuilder b;
  const int x = b.add_input("x", polyhead::Shape{1, 4, 4, 2});
  const int w = testing::random_constant(b, "w", polyhead::Shape{2, 1, 1, 2}, 1, 0.5f);
  polyhead::Conv2DParams p;
  const int left = *b.conv2d("left", x, w, -1, p);
  const int right = *b.conv2d("right", x, w, -1, p);
  const int sum = *b.binary("sum", polyhead::BinaryOp::kAdd, left, right);
  REQUIRE(b.add_task("t", polyhead::TaskKind::kOther, {{"y", sum}}).is_ok());
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  const std::vector<Model> sources = load_all({*bytes, *bytes});
  auto report = merge_models(sources, {{}, {"p", "q"}, ""});
  REQUIRE(report.is_ok());
  CHECK(report->nodes.size() == 3);
  CHECK(report->shared_nodes == 3);
  check_bit_identical(sources, *report);
}

TEST_CASE("merge: --split-at shares exactly the backbone up to a tensor") {
  const std::vector<Model> sources =
      load_all({testing::classify_model(spec("cls")), testing::detect_model(spec("det"))});
  MergeOptions options{{"classify.phm", "detect.phm"}, {}, "cls.block2.add"};
  auto report = merge_models(sources, options);
  INFO(report.status().to_string());
  REQUIRE(report.is_ok());
  // Stages 3 and 4 would match as well, but the user cut after stage 2.
  CHECK(report->shared_nodes == testing::kBackboneNodesThrough[2]);
  CHECK(report->models[0].head_nodes == 2 + 2);
  CHECK(report->models[1].head_nodes == 6 + 2);
  check_bit_identical(sources, *report);

  // Without the cut everything that matches is shared.
  auto automatic = merge_models(sources, {{"classify.phm", "detect.phm"}, {}, ""});
  REQUIRE(automatic.is_ok());
  CHECK(automatic->shared_nodes == testing::kBackboneNodesThrough[4]);
}

TEST_CASE("merge: --split-at names the model and node where the backbone is missing") {
  SECTION("a model whose backbone is cut earlier") {
    const std::vector<Model> sources =
        load_all({testing::classify_model(spec("cls")), testing::segment_model(spec("seg"))});
    auto report = merge_models(sources, {{"classify.phm", "segment.phm"}, {}, "cls.down3"});
    REQUIRE_FALSE(report.is_ok());
    const std::string& m = report.status().message();
    INFO(m);
    CHECK(contains(m, "'segment.phm' does not contain the backbone of 'classify.phm'"));
    CHECK(contains(m, "node 'cls.down3' (CONV_2D)"));
    // The segmentation head reads the same tensor: it is named as the closest node.
    CHECK(contains(m, "'seg.deep'"));
  }
  SECTION("weights that differ inside the backbone") {
    const std::vector<Model> sources = load_all({testing::classify_model(spec("a"), "first"),
                                                 testing::classify_model(spec("b", 2), "second")});
    auto report = merge_models(sources, {{"a.phm", "b.phm"}, {}, "a.down3"});
    REQUIRE_FALSE(report.is_ok());
    const std::string& m = report.status().message();
    INFO(m);
    CHECK(contains(m, "node 'a.block2.dw'"));
    CHECK(contains(m, "'b.phm' node 'b.block2.dw'"));
    CHECK(contains(
        m, "constant input 1 ('b.block2.dw.w', here 'a.block2.dw.w') holds different values"));
  }
  SECTION("unknown tensors, inputs and constants") {
    const std::vector<Model> sources = load_all({testing::classify_model(spec("a"), "first"),
                                                 testing::classify_model(spec("b"), "second")});
    auto report = merge_models(sources, {{"a.phm", "b.phm"}, {}, "nope"});
    REQUIRE_FALSE(report.is_ok());
    CHECK(report.status().code() == polyhead::ErrorCode::kNotFound);
    CHECK(contains(report.status().message(),
                   "--split-at 'nope': 'a.phm' has no tensor or node of that name"));
    for (const char* name : {"image", "a.stem.w"}) {
      report = merge_models(sources, {{"a.phm", "b.phm"}, {}, name});
      REQUIRE_FALSE(report.is_ok());
      CHECK(contains(report.status().message(), "not written by a node"));
    }
  }
}

TEST_CASE("merge: fewer than two models is an error") {
  auto report = merge_models(load_all({testing::classify_model(spec("a"))}), {});
  REQUIRE_FALSE(report.is_ok());
  CHECK(contains(report.status().message(), "two models or more"));
  report = merge_models({}, {});
  CHECK_FALSE(report.is_ok());
}

TEST_CASE("merge: task settings and input pre-processing are carried over unchanged") {
  auto make = [](const std::string& prefix, const std::string& task, int priority, int rate) {
    polyhead::ModelBuilder b;
    testing::BackboneSpec s = spec(prefix);
    polyhead::Preprocess pre;
    pre.width = pre.height = 16;
    pre.color = polyhead::ColorOrder::kBgr;
    pre.mean = {1.f, 2.f, 3.f};
    pre.std = {4.f, 5.f, 6.f};
    pre.pixel_scale = 1.f;
    pre.fit = polyhead::ImageFit::kLetterbox;
    const int x = b.add_input(prefix + "_in", s.input, pre);
    const auto stages = testing::add_backbone(b, x, s);
    const int pooled = *b.mean(prefix + ".pool", stages.back(), false);
    polyhead::PostProcessParams post;
    post.activation = polyhead::OutputActivation::kSigmoid;
    post.labels = {"cat", "dog"};
    post.score_threshold = 0.25f;
    post.nms_iou = 0.6f;
    post.max_detections = 7;
    post.anchors = {0.5f, 0.5f, 0.1f, 0.2f};
    REQUIRE(
        b.add_task(task, polyhead::TaskKind::kDetection, {{"emb", pooled}}, post, priority, rate)
            .is_ok());
    b.set_description(prefix + " model");
    auto bytes = b.finish();
    REQUIRE(bytes.is_ok());
    return *bytes;
  };
  const std::vector<Model> sources =
      load_all({make("p", "first", 3, 2), make("q", "second", -1, 5)});
  auto report = merge_models(sources, {{"p.phm", "q.phm"}, {}, ""});
  REQUIRE(report.is_ok());
  CHECK(has_warning(*report, "input 0 is 'q_in' in 'q.phm' and 'p_in' in 'p.phm'"));
  const Model merged = load(report->bytes);
  REQUIRE(merged.inputs().size() == 1);
  const auto& in = merged.inputs()[0];
  CHECK(in.name == "p_in");
  CHECK(in.preprocess.color == polyhead::ColorOrder::kBgr);
  CHECK(in.preprocess.mean == std::vector<float>{1.f, 2.f, 3.f});
  CHECK(in.preprocess.std == std::vector<float>{4.f, 5.f, 6.f});
  CHECK(in.preprocess.pixel_scale == 1.f);
  CHECK(in.preprocess.fit == polyhead::ImageFit::kLetterbox);
  CHECK(in.preprocess.width == 16);
  REQUIRE(merged.tasks().size() == 2);
  for (size_t t = 0; t < 2; ++t) {
    const auto& want = sources[t].tasks()[0];
    const auto& got = merged.tasks()[t];
    CHECK(got.name == want.name);
    CHECK(got.kind == polyhead::TaskKind::kDetection);
    CHECK(got.priority == want.priority);
    CHECK(got.rate == want.rate);
    CHECK(got.postprocess.activation == polyhead::OutputActivation::kSigmoid);
    CHECK(got.postprocess.labels == want.postprocess.labels);
    CHECK(got.postprocess.score_threshold == 0.25f);
    CHECK(got.postprocess.nms_iou == 0.6f);
    CHECK(got.postprocess.max_detections == 7);
    CHECK(got.postprocess.anchors == want.postprocess.anchors);
  }
  CHECK(merged.description() == "p model; q model");
  // One model with everything the other has, plus nothing: all shared.
  CHECK(report->shared_nodes == 8);
  check_bit_identical(sources, *report);
}

namespace {

// A minimal model written with the FlatBuffers API: x -> hard-swish "first" (writing tensor "h") ->
// hard-swish "second" (writing "y"), task "t". With `unknown_field`, its metadata entry carries a
// field past the schema's last one, as a newer producer would write it.
std::vector<uint8_t> raw_model(bool unknown_field) {
  namespace fb = flatbuffers;
  namespace schema = polyhead::schema;
  fb::FlatBufferBuilder b;
  const auto key = b.CreateString("k");
  const auto value = b.CreateString("v");
  const fb::uoffset_t start = b.StartTable();
  b.AddOffset(schema::Metadata::VT_KEY, key);
  b.AddOffset(schema::Metadata::VT_VALUE, value);
  if (unknown_field) b.AddElement<int32_t>(schema::Metadata::VT_VALUE + 2, 42, 0);
  const fb::Offset<schema::Metadata> meta(b.EndTable(start));
  const std::vector<int> shape = {1, 4};
  std::vector<fb::Offset<schema::Tensor>> tensors;
  for (const char* name : {"x", "h", "y"})
    tensors.push_back(schema::CreateTensor(b, b.CreateString(name), b.CreateVector(shape)));
  std::vector<fb::Offset<schema::Node>> nodes;
  nodes.reserve(2);
  for (int n = 0; n < 2; ++n)
    nodes.push_back(schema::CreateNode(b, b.CreateString(n == 0 ? "first" : "second"),
                                       schema::OpKind::HARD_SWISH, schema::OpOptions::NONE, 0,
                                       b.CreateVector(std::vector<int>{n}),
                                       b.CreateVector(std::vector<int>{n + 1})));
  const std::vector<fb::Offset<schema::Input>> inputs = {schema::CreateInput(b, 0)};
  const std::vector<fb::Offset<schema::TaskOutput>> outs = {
      schema::CreateTaskOutput(b, b.CreateString("y"), 2)};
  const std::vector<fb::Offset<schema::Task>> tasks = {
      schema::CreateTask(b, b.CreateString("t"), schema::TaskKind::OTHER, b.CreateVector(outs))};
  const std::vector<fb::Offset<schema::Metadata>> metadata = {meta};
  b.Finish(
      schema::CreateModel(b, 1, 1, 0, 0, b.CreateVector(tensors), 0, b.CreateVector(nodes),
                          b.CreateVector(inputs), b.CreateVector(tasks), b.CreateVector(metadata)),
      polyhead::kFileIdentifier);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

}  // namespace

TEST_CASE("merge: a file with fields this build does not know is refused, not copied lossily") {
  const std::vector<Model> sources = load_all({raw_model(true), raw_model(true)});
  auto report = merge_models(sources, {{"new.phm", "new.phm"}, {"a", "b"}, ""});
  REQUIRE_FALSE(report.is_ok());
  INFO(report.status().message());
  CHECK(report.status().code() == polyhead::ErrorCode::kUnsupported);
  CHECK(contains(report.status().message(),
                 "'new.phm': metadata 'k' has fields this build does not know"));
  CHECK(merge_models(load_all({raw_model(false), raw_model(false)}), {{}, {"a", "b"}, ""}).is_ok());
}

TEST_CASE("merge: --split-at also takes a node name") {
  const std::vector<Model> sources = load_all({raw_model(false), raw_model(false)});
  for (const char* name : {"h", "first"}) {
    INFO(name);
    auto report = merge_models(sources, {{}, {"a", "b"}, name});
    INFO(report.status().to_string());
    REQUIRE(report.is_ok());
    CHECK(report->shared_nodes == 1);
    CHECK(report->nodes[0].name == "first");
    CHECK(report->models[1].head_nodes == 1);
    check_bit_identical(sources, *report);
  }
}
