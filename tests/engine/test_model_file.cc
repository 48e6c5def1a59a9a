// Model files on disk: Model::load_file (mapped) and Model::read_file (copied), and what happens
// when a mapped file changes after it was verified. Replacing it by rename leaves the loaded model
// as it was; a write or truncation in place is refused by Engine::create and prepare with an error
// naming the file, before anything reads the changed bytes; a read_file model does not care.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/polyhead_c.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

// An old modification time, so that a later write always changes it (timestamps have the file
// system's granularity: a rewrite within the same tick as the previous write would keep it).
void age(const std::string& path) {
  const struct timespec times[2] = {{946684800, 0}, {946684800, 0}};  // 2000-01-01
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

std::string fresh_model_file(const std::string& name) {
  std::string path = testing::write_temp_file(testing::tiny_two_task_model(), name);
  age(path);
  return path;
}

// The classify output of a full run of `engine`'s model on a fixed image.
std::vector<float> classify(Engine& engine) {
  auto plan = engine.prepare();
  REQUIRE(plan.is_ok());
  const auto image = testing::random_values(8 * 8 * 3, 11);
  REQUIRE(plan->set_input("image", image.data(), image.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  auto logits = plan->output("classify", "logits");
  REQUIRE(logits.is_ok());
  const auto* p = static_cast<const float*>(logits->data);
  return {p, p + logits->shape.elements()};
}

void overwrite_in_place(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "r+b");  // no truncation: same inode, same pages
  REQUIRE(f);
  REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  REQUIRE(std::fclose(f) == 0);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("model file: read_file gives the same model as load_file, and the same errors") {
  const std::string path = fresh_model_file("polyhead_model_file_read.phm");
  auto mapped = Model::load_file(path);
  auto copied = Model::read_file(path);
  REQUIRE(mapped.is_ok());
  REQUIRE(copied.is_ok());
  CHECK(copied->file_bytes() == mapped->file_bytes());
  CHECK(std::memcmp(copied->bytes(), mapped->bytes(), mapped->file_bytes()) == 0);
  CHECK(reinterpret_cast<uintptr_t>(copied->bytes()) % 64 == 0);
  auto a = Engine::create(*mapped);
  auto b = Engine::create(*copied);
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  CHECK(classify(*a) == classify(*b));

  auto missing = Model::read_file("/nonexistent/polyhead.phm");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == ErrorCode::kIoError);
  CHECK(contains(missing.status().message(), "/nonexistent/polyhead.phm"));
  auto directory = Model::read_file("/tmp");
  REQUIRE_FALSE(directory.is_ok());
  CHECK(contains(directory.status().message(), "is not a regular file"));

  const std::vector<uint8_t> bytes = testing::tiny_two_task_model();
  const std::string truncated = testing::write_temp_file(
      std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)),
      "polyhead_model_file_truncated.phm");
  auto half = Model::read_file(truncated);
  REQUIRE_FALSE(half.is_ok());
  CHECK(half.status().code() == ErrorCode::kInvalidModel);
  CHECK(contains(half.status().message(), truncated));
}

TEST_CASE("model file: replacing a mapped file by rename leaves the loaded model untouched") {
  const std::string path = fresh_model_file("polyhead_model_file_renamed.phm");
  auto model = Model::load_file(path);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model);
  REQUIRE(engine.is_ok());
  const std::vector<float> before = classify(*engine);

  // A different model (other weights) written beside it, then renamed over the loaded file.
  ModelBuilder b;
  const int x = b.add_input("image", Shape{1, 8, 8, 3});
  const int pooled = *b.mean("pool", x, false);
  const int logits = *b.fully_connected(
      "fc", pooled, testing::random_constant(b, "fc.w", Shape{5, 3}, 99, 1.f), -1);
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"logits", logits}}).is_ok());
  const std::string next = testing::write_temp_file(*b.finish(), "polyhead_model_file_next.phm");
  REQUIRE(std::rename(next.c_str(), path.c_str()) == 0);

  CHECK(classify(*engine) == before);
  auto segment = engine->prepare({"segment"});
  CHECK(segment.is_ok());
  auto again = Engine::create(*model);
  REQUIRE(again.is_ok());
  CHECK(classify(*again) == before);
  // Loading the path now gives the new model.
  auto reloaded = Model::load_file(path);
  REQUIRE(reloaded.is_ok());
  CHECK(reloaded->tasks().size() == 1);
}

TEST_CASE("model file: a mapped file changed in place is refused by create and prepare") {
  const std::vector<uint8_t> bytes = testing::tiny_two_task_model();
  SECTION("written over with the same size") {
    const std::string path = fresh_model_file("polyhead_model_file_rewritten.phm");
    auto model = Model::load_file(path);
    REQUIRE(model.is_ok());
    auto engine = Engine::create(*model);
    REQUIRE(engine.is_ok());
    auto classify_only = engine->prepare({"classify"});
    REQUIRE(classify_only.is_ok());

    std::vector<uint8_t> changed = bytes;
    for (size_t i = changed.size() - 64; i < changed.size(); ++i) changed[i] ^= 0x5a;
    overwrite_in_place(path, changed);

    auto segment = engine->prepare({"segment"});
    REQUIRE_FALSE(segment.is_ok());
    CHECK(segment.status().code() == ErrorCode::kIoError);
    CHECK(contains(segment.status().message(), "'" + path + "' changed on disk"));
    CHECK(contains(segment.status().message(), "modification time"));
    auto created = Engine::create(*model);
    REQUIRE_FALSE(created.is_ok());
    CHECK(created.status().code() == ErrorCode::kIoError);
    // A plan prepared before the change still runs (its kernels were made from verified bytes).
    const auto image = testing::random_values(8 * 8 * 3, 11);
    REQUIRE(classify_only->set_input("image", image.data(), image.size()).is_ok());
    CHECK(classify_only->run().is_ok());
    // The model's descriptions were copied at load.
    CHECK(model->tasks().size() == 2);
  }
  SECTION("truncated") {
    const std::string path = fresh_model_file("polyhead_model_file_shrunk.phm");
    auto mapped = Model::load_file(path);
    auto copied = Model::read_file(path);
    REQUIRE(mapped.is_ok());
    REQUIRE(copied.is_ok());
    REQUIRE(truncate(path.c_str(), static_cast<off_t>(bytes.size() / 3)) == 0);

    auto engine = Engine::create(*mapped);
    REQUIRE_FALSE(engine.is_ok());
    CHECK(engine.status().code() == ErrorCode::kIoError);
    CHECK(contains(engine.status().message(), "its size went from " + std::to_string(bytes.size()) +
                                                  " to " + std::to_string(bytes.size() / 3) +
                                                  " bytes"));
    // The copy does not depend on the file.
    auto from_copy = Engine::create(*copied);
    REQUIRE(from_copy.is_ok());
    CHECK(classify(*from_copy).size() == 5);
  }
}

TEST_CASE("model file: the C API reads a file into memory and reports a changed mapped file") {
  const std::string path = fresh_model_file("polyhead_model_file_c.phm");
  ph_model* copied = nullptr;
  ph_model* mapped = nullptr;
  REQUIRE(ph_model_read_file(path.c_str(), &copied) == PH_OK);
  REQUIRE(ph_model_load_file(path.c_str(), &mapped) == PH_OK);
  REQUIRE(truncate(path.c_str(), 100) == 0);
  ph_engine* engine = nullptr;
  CHECK(ph_engine_create(mapped, nullptr, &engine) == PH_IO_ERROR);
  CHECK(contains(ph_last_error(), "changed on disk"));
  CHECK(engine == nullptr);
  REQUIRE(ph_engine_create(copied, nullptr, &engine) == PH_OK);
  ph_plan* plan = nullptr;
  CHECK(ph_plan_prepare(engine, nullptr, 0, &plan) == PH_OK);
  ph_plan_free(plan);
  ph_engine_free(engine);

  ph_model* none = nullptr;
  CHECK(ph_model_read_file(nullptr, &none) == PH_INVALID_ARGUMENT);
  CHECK(ph_model_read_file("/nonexistent/polyhead.phm", &none) == PH_IO_ERROR);
  CHECK(none == nullptr);
  CHECK(contains(ph_last_error(), "/nonexistent/polyhead.phm"));
  ph_model_free(copied);
  ph_model_free(mapped);
}
