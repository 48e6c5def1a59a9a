// The C API (polyhead/polyhead_c.h). The scenarios are written in C and compiled as C
// (tests/support/c_api_scenarios.c); this file prepares their inputs (model files, images, the C++
// API's results for comparison), runs them and checks what C cannot easily check: that no
// exception crosses the boundary, that run allocates nothing and that errors are per thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "polyhead/engine.h"
#include "polyhead/format_version.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/model_builder.h"
#include "polyhead/polyhead_c.h"
#include "support/allocation_counter.h"
#include "support/c_api_scenarios.h"
#include "support/test_files.h"
#include "support/test_models.h"

// The scenarios of tests/support/c_api_scenarios.c (C linkage; keep in step with that file).
namespace {

// The tiny two-task model in a temp file, removed at exit.
const std::string& model_path() {
  static const polyhead::testing::TempModelFile model(polyhead::testing::tiny_two_task_model(),
                                                      "polyhead_test_c_api_");
  return model.path;
}

const std::vector<float>& image() {
  static const std::vector<float> values = polyhead::testing::random_values(8 * 8 * 3, 11);
  return values;
}

struct CppOutputs {
  std::vector<float> logits;
  std::vector<float> mask;
};

// The same model and input through the C++ API.
CppOutputs cpp_outputs() {
  auto model = polyhead::Model::load_file(model_path());
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  REQUIRE(plan->set_input("image", image().data(), image().size()).is_ok());
  REQUIRE(plan->run().is_ok());
  auto logits = plan->output("classify", "logits");
  auto mask = plan->output("segment", "mask");
  REQUIRE(logits.is_ok());
  REQUIRE(mask.is_ok());
  CppOutputs out;
  out.logits.assign(logits->f32(), logits->f32() + logits->shape.elements());
  out.mask.assign(mask->f32(), mask->f32() + mask->shape.elements());
  return out;
}

struct Message {
  char text[2048] = "";
};

int must(polyhead::Result<int> r) {
  REQUIRE(r.is_ok());
  return *r;
}

// A model that declares everything the introspection functions read (c_api_scenarios.c lists
// the values): an input with pre-processing and one without, a detection task with
// post-processing, labels, anchors, priority and rate, a task that declares none, a producer, a
// description and metadata.
std::vector<uint8_t> described_model() {
  using namespace polyhead;
  ModelBuilder b;
  Preprocess pre;
  pre.width = 8;
  pre.height = 6;
  pre.layout = Layout::kNchw;
  pre.color = ColorOrder::kBgr;
  pre.mean = {0.485f, 0.456f, 0.406f};
  pre.std = {0.25f};
  pre.pixel_scale = 1.f;
  pre.fit = ImageFit::kLetterbox;
  const int image = b.add_input("image", Shape{1, 3, 6, 8}, pre);
  const int aux = b.add_input("aux", Shape{1, 4});
  const int pooled = must(b.mean("pool", image, false));
  const int scores = must(b.fully_connected(
      "scores", pooled, testing::random_constant(b, "scores.w", Shape{3, 8}, 1, 0.5f), -1));
  const int boxes = must(b.fully_connected(
      "boxes", pooled, testing::random_constant(b, "boxes.w", Shape{8, 8}, 2, 0.5f), -1));
  const int vector = must(b.fully_connected(
      "embed", aux, testing::random_constant(b, "embed.w", Shape{2, 4}, 3, 0.5f), -1));
  PostProcessParams post;
  post.activation = OutputActivation::kSigmoid;
  post.labels = {"cat", "dog", ""};
  post.score_threshold = 0.25f;
  post.nms_iou = 0.625f;
  post.max_detections = 7;
  post.anchors = {0.5f, 0.5f, 0.25f, 0.125f, 0.75f, 0.25f, 0.5f, 0.5f};
  REQUIRE(b.add_task("detect", TaskKind::kDetection, {{"scores", scores}, {"boxes", boxes}}, post,
                     /*priority=*/3, /*rate=*/2)
              .is_ok());
  REQUIRE(b.add_task("embed", TaskKind::kEmbedding, {{"vector", vector}}).is_ok());
  b.set_producer("c_api tests");
  b.set_description("a model that declares everything");
  b.add_metadata("license", "Apache-2.0");
  b.add_metadata("empty", "");
  b.add_metadata("author", "polyhead");
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  return *bytes;
}

struct DescribedModel {
  DescribedModel()
      : path(polyhead::testing::write_temp_file(
            described_model(),
            "polyhead_test_c_api_described_" + std::to_string(::getpid()) + ".phm")) {}
  ~DescribedModel() { std::remove(path.c_str()); }
  std::string path;
};

const std::string& described_path() {
  static const DescribedModel model;
  return model.path;
}

}  // namespace

TEST_CASE("c_api: version and status names") {
  Message m;
  INFO(m.text);
  CHECK(phs_version(m.text, sizeof m.text) == 1);
}

TEST_CASE("c_api: model introspection") {
  Message m;
  const int ok = phs_introspection(model_path().c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: outputs equal the C++ API's for the same input") {
  Message m;
  std::vector<float> logits(5, -1.f);
  std::vector<float> mask(8 * 8 * 2, -1.f);
  const int ok = phs_run_all_tasks(model_path().c_str(), image().data(), image().size(),
                                   logits.data(), mask.data(), m.text, sizeof m.text);
  INFO(m.text);
  REQUIRE(ok == 1);
  const CppOutputs expected = cpp_outputs();
  CHECK(logits == expected.logits);
  CHECK(mask == expected.mask);
}

TEST_CASE("c_api: subset runs and one-task plans") {
  Message m;
  const int ok =
      phs_run_subset(model_path().c_str(), image().data(), image().size(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: writing inputs in place") {
  Message m;
  const int ok =
      phs_input_buffer(model_path().c_str(), image().data(), image().size(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: models from borrowed and copied memory") {
  const std::vector<uint8_t> bytes = polyhead::testing::tiny_two_task_model();
  const size_t capacity = (bytes.size() + 128) / 64 * 64;
  std::unique_ptr<unsigned char, decltype(&std::free)> aligned(
      static_cast<unsigned char*>(std::aligned_alloc(64, capacity)), &std::free);
  REQUIRE(aligned);
  std::memcpy(aligned.get(), bytes.data(), bytes.size());
  Message m;
  const int ok = phs_from_memory(aligned.get(), bytes.size(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: null arguments are named, freeing NULL is a no-op") {
  Message m;
  const int ok = phs_null_arguments(model_path().c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: engine options and struct_size") {
  Message m;
  const int ok = phs_engine_options(model_path().c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: a thread pool shared by engines, heads in parallel") {
  Message m;
  const int ok =
      phs_shared_pool(model_path().c_str(), image().data(), image().size(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: caller errors carry a code and a message naming the culprit") {
  Message m;
  const int ok = phs_caller_errors(model_path().c_str(), image().data(), image().size(), m.text,
                                   sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: loading a missing file or a file that is not a model") {
  const std::string missing = model_path() + ".does-not-exist";
  const std::string text = "this is not a polyhead model, just some text long enough to parse\n";
  const std::string not_a_model = polyhead::testing::write_temp_file(
      std::vector<uint8_t>(text.begin(), text.end()),
      "polyhead_test_c_api_not_a_model_" + std::to_string(::getpid()) + ".phm");
  Message m;
  const int ok = phs_load_errors(missing.c_str(), not_a_model.c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
  std::remove(not_a_model.c_str());
}

TEST_CASE("c_api: handles can be freed in any order") {
  Message m;
  std::vector<float> logits(5, -1.f);
  const int ok = phs_free_orders(model_path().c_str(), image().data(), image().size(),
                                 logits.data(), m.text, sizeof m.text);
  INFO(m.text);
  REQUIRE(ok == 1);
  CHECK(logits == cpp_outputs().logits);
}

TEST_CASE("c_api: model enums have fixed values and names") {
  Message m;
  const int ok = phs_model_enums(m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: input pre-processing") {
  Message m;
  const int ok = phs_preprocess(described_path().c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: task kind, priority, rate, post-processing and labels") {
  Message m;
  const int ok = phs_task_metadata(described_path().c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: format version, producer, description and metadata") {
  // ModelBuilder writes the oldest format that holds the model: 1.2 for these operators.
  CHECK(polyhead::kFormatVersionMajor == 1);
  CHECK(polyhead::kFormatVersionMinor == 2);
  Message m;
  const int ok =
      phs_model_facts(described_path().c_str(), model_path().c_str(), 1, 2, m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

TEST_CASE("c_api: engine precision and threads per node") {
  Message m;
  const int ok = phs_engine_precision(model_path().c_str(),
                                      polyhead::kernels::cpu_has_fp16_arithmetic() ? 1 : 0,
                                      image().data(), image().size(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}

// Every input and task of several models reads the same through C as through polyhead::Model.
TEST_CASE("c_api: introspection agrees with the C++ Model") {
  for (const std::vector<uint8_t>& bytes :
       {described_model(), polyhead::testing::tiny_two_task_model(),
        polyhead::testing::every_operator_model()}) {
    auto cpp = polyhead::Model::from_bytes(bytes);
    REQUIRE(cpp.is_ok());
    ph_model* model = nullptr;
    REQUIRE(ph_model_from_bytes(bytes.data(), bytes.size(), &model) == PH_OK);
    INFO(cpp->description());

    uint32_t major = 0, minor = 0;
    REQUIRE(ph_model_format_version(model, &major, &minor) == PH_OK);
    CHECK(major == cpp->format_version_major());
    CHECK(minor == cpp->format_version_minor());
    CHECK(ph_model_producer(model) == cpp->producer());
    CHECK(ph_model_description(model) == cpp->description());
    for (size_t i = 0; i < ph_model_metadata_count(model); ++i) {
      const char* key = ph_model_metadata_key(model, i);
      REQUIRE(key != nullptr);
      CHECK(ph_model_metadata(model, key) == cpp->metadata(key));
    }

    REQUIRE(ph_model_input_count(model) == cpp->inputs().size());
    for (size_t i = 0; i < cpp->inputs().size(); ++i) {
      const polyhead::Preprocess& want = cpp->inputs()[i].preprocess;
      ph_preprocess got;
      got.struct_size = sizeof got;
      REQUIRE(ph_model_input_preprocess(model, i, &got) == PH_OK);
      CHECK(got.width == want.width);
      CHECK(got.height == want.height);
      CHECK(std::string(ph_layout_name(got.layout)) == polyhead::to_string(want.layout));
      CHECK(std::string(ph_color_order_name(got.color)) == polyhead::to_string(want.color));
      CHECK(std::string(ph_image_fit_name(got.fit)) == polyhead::to_string(want.fit));
      CHECK(got.pixel_scale == want.pixel_scale);
      CHECK(std::vector<float>(got.mean, got.mean + got.mean_count) == want.mean);
      CHECK(std::vector<float>(got.std, got.std + got.std_count) == want.std);
    }

    REQUIRE(ph_model_task_count(model) == cpp->tasks().size());
    for (size_t t = 0; t < cpp->tasks().size(); ++t) {
      const polyhead::TaskInfo& want = cpp->tasks()[t];
      ph_task_info info;
      info.struct_size = sizeof info;
      REQUIRE(ph_model_task_info(model, t, &info) == PH_OK);
      CHECK(std::string(ph_task_kind_name(info.kind)) == polyhead::to_string(want.kind));
      CHECK(info.priority == want.priority);
      CHECK(info.rate == want.rate);
      CHECK(info.output_count == want.outputs.size());
      ph_postprocess post;
      post.struct_size = sizeof post;
      REQUIRE(ph_model_task_postprocess(model, t, &post) == PH_OK);
      CHECK(std::string(ph_output_activation_name(post.activation)) ==
            polyhead::to_string(want.postprocess.activation));
      CHECK(post.score_threshold == want.postprocess.score_threshold);
      CHECK(post.nms_iou == want.postprocess.nms_iou);
      CHECK(post.max_detections == want.postprocess.max_detections);
      CHECK(std::vector<float>(post.anchors, post.anchors + 4 * post.anchor_count) ==
            want.postprocess.anchors);
      REQUIRE(ph_model_task_label_count(model, t) == want.postprocess.labels.size());
      REQUIRE(info.label_count == want.postprocess.labels.size());
      for (size_t l = 0; l < want.postprocess.labels.size(); ++l)
        CHECK(ph_model_task_label(model, t, l) == want.postprocess.labels[l]);
    }
    ph_model_free(model);
  }
}

TEST_CASE("c_api: introspection allocates nothing") {
  const std::vector<uint8_t> bytes = described_model();
  ph_model* model = nullptr;
  REQUIRE(ph_model_from_bytes(bytes.data(), bytes.size(), &model) == PH_OK);
  bool ok = true;
  const long allocations = polyhead::testing::count_allocations([&] {
    ph_preprocess pre;
    pre.struct_size = sizeof pre;
    ph_task_info info;
    info.struct_size = sizeof info;
    ph_postprocess post;
    post.struct_size = sizeof post;
    uint32_t major = 0, minor = 0;
    ok = ok && ph_model_input_preprocess(model, 0, &pre) == PH_OK;
    ok = ok && ph_model_task_info(model, 0, &info) == PH_OK;
    ok = ok && ph_model_task_postprocess(model, 0, &post) == PH_OK;
    ok = ok && ph_model_task_label(model, 0, 1) != nullptr;
    ok = ok && ph_model_format_version(model, &major, &minor) == PH_OK;
    ok = ok && ph_model_producer(model) != nullptr;
    ok = ok && ph_model_description(model) != nullptr;
    ok = ok && ph_model_metadata(model, "author") != nullptr;
    ok = ok && ph_model_metadata(model, "missing") == nullptr;
    ok = ok && ph_model_metadata_key(model, 2) != nullptr;
    ok = ok && ph_model_task_label(model, 0, 3) == nullptr;  // errors too
    ok = ok && ph_model_task_info(model, 2, &info) == PH_INVALID_ARGUMENT;
  });
  CHECK(ok);
  CHECK(allocations == 0);
  ph_model_free(model);
}

// The header also compiles as C++; from here on the API is called directly.
TEST_CASE("c_api: run, run_tasks and output allocate nothing") {
  ph_model* model = nullptr;
  ph_engine* engine = nullptr;
  ph_plan* all = nullptr;
  ph_plan* one = nullptr;
  REQUIRE(ph_model_load_file(model_path().c_str(), &model) == PH_OK);
  REQUIRE(ph_engine_create(model, nullptr, &engine) == PH_OK);
  const char* segment[] = {"segment"};
  const char* classify[] = {"classify"};
  const char* both[] = {"classify", "segment"};
  REQUIRE(ph_plan_prepare(engine, nullptr, 0, &all) == PH_OK);
  REQUIRE(ph_plan_prepare(engine, segment, 1, &one) == PH_OK);
  REQUIRE(ph_plan_set_input(all, "image", image().data(), image().size()) == PH_OK);
  REQUIRE(ph_plan_set_input(one, "image", image().data(), image().size()) == PH_OK);
  // The counter works.
  CHECK(polyhead::testing::count_allocations([] {
          int* volatile p = new int(1);  // volatile: the compiler may not elide the pair
          delete p;
        }) >= 1);

  bool ok = true;
  ph_tensor t;
  ph_plan_info info;
  info.struct_size = sizeof info;
  const long allocations = polyhead::testing::count_allocations([&] {
    for (int i = 0; i < 5; ++i) {
      ok = ok && ph_plan_run(all) == PH_OK;
      ok = ok && ph_plan_run(one) == PH_OK;  // the shared stem is set up against another arena
      ok = ok && ph_plan_run_tasks(all, classify, 1) == PH_OK;
      ok = ok && ph_plan_output(all, "classify", "logits", &t) == PH_OK;
      ok = ok && ph_plan_run_tasks(all, both, 2) == PH_OK;
      ok = ok && ph_plan_output(all, "segment", "mask", &t) == PH_OK;
      ok = ok && ph_plan_get_info(all, &info) == PH_OK;
      ok = ok && ph_plan_last_run_nodes(all) == 4;
    }
  });
  CHECK(ok);
  CHECK(allocations == 0);
  ph_plan_free(one);
  ph_plan_free(all);
  ph_engine_free(engine);
  ph_model_free(model);
}

TEST_CASE("c_api: exceptions become status codes at the boundary") {
  ph_model* model = nullptr;
  ph_engine* engine = nullptr;
  ph_plan* plan = nullptr;
  REQUIRE(ph_model_load_file(model_path().c_str(), &model) == PH_OK);
  REQUIRE(ph_engine_create(model, nullptr, &engine) == PH_OK);

  ph_model* no_model = nullptr;
  ph_engine* no_engine = nullptr;
  ph_plan* no_plan = nullptr;
  const char* classify[] = {"classify"};
  polyhead::testing::fail_allocations(true);
  const ph_status load = ph_model_load_file(model_path().c_str(), &no_model);
  const ph_status create = ph_engine_create(model, nullptr, &no_engine);
  const ph_status prepare = ph_plan_prepare(engine, classify, 1, &no_plan);
  polyhead::testing::fail_allocations(false);
  CHECK(load == PH_OUT_OF_MEMORY);
  CHECK(create == PH_OUT_OF_MEMORY);
  CHECK(prepare == PH_OUT_OF_MEMORY);
  CHECK(std::string(ph_last_error()) == "ph_plan_prepare: out of memory");
  CHECK(no_model == nullptr);
  CHECK(no_engine == nullptr);
  CHECK(no_plan == nullptr);

  // Everything still works once memory is back.
  REQUIRE(ph_plan_prepare(engine, classify, 1, &plan) == PH_OK);
  REQUIRE(ph_plan_set_input(plan, "image", image().data(), image().size()) == PH_OK);
  CHECK(ph_plan_run(plan) == PH_OK);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
}

TEST_CASE("c_api: the last error is per thread and kept by successful calls") {
  CHECK(ph_plan_run(nullptr) == PH_INVALID_ARGUMENT);
  const std::string mine = ph_last_error();
  CHECK(mine == "ph_plan_run: argument 'plan' is NULL");
  std::string theirs;
  std::string theirs_before;
  std::thread other([&] {
    theirs_before = ph_last_error();
    ph_model* model = nullptr;
    (void)ph_model_load_file("/nonexistent/polyhead.phm", &model);
    theirs = ph_last_error();
  });
  other.join();
  CHECK(theirs_before.empty());
  CHECK(theirs.find("/nonexistent/polyhead.phm") != std::string::npos);
  CHECK(std::string(ph_last_error()) == mine);
  CHECK(std::strcmp(ph_version(), "0.2.0") == 0);  // a successful call
  CHECK(std::string(ph_last_error()) == mine);

  // Long messages are truncated, never overflow.
  const std::string long_name(10000, 'x');
  ph_model* model = nullptr;
  CHECK(ph_model_load_file(long_name.c_str(), &model) == PH_IO_ERROR);
  const std::string truncated = ph_last_error();
  CHECK(truncated.size() == 4095);
  CHECK(truncated.substr(truncated.size() - 3) == "...");
}

TEST_CASE("c_api: camera frames into an image input, outputs bound to caller memory") {
  Message m;
  const int ok = phs_pixels_and_bound_outputs(described_path().c_str(), m.text, sizeof m.text);
  INFO(m.text);
  CHECK(ok == 1);
}
