// Bytes per section of a .phm file (offline/graph/file_sections.h): the sections sum to the file
// size for float, int8 and renamed models, each kind of constant lands in its own line, and a file
// that is not a model is refused.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "offline/graph/file_sections.h"
#include "offline/graph/source_graph.h"
#include "offline/quantize/int8_support.h"
#include "offline/quantize/quantized_writer.h"
#include "offline/quantize/short_names.h"
#include "polyhead/model_builder.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

template <typename T>
T must(Result<T> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return std::move(*r);
}

// Section bytes by key, after checking that they sum to the file size.
std::map<std::string, uint64_t> sections(const std::vector<uint8_t>& bytes) {
  const graph::FileSections s = must(graph::measure_file_sections(bytes.data(), bytes.size()));
  CHECK(s.file_bytes == bytes.size());
  uint64_t sum = 0;
  std::map<std::string, uint64_t> by_key;
  for (const graph::FileSection& f : s.sections) {
    sum += f.bytes;
    by_key[f.key] = f.bytes;
  }
  CHECK(sum == bytes.size());
  return by_key;
}

// A convolution model with detection anchors and labels (every FlatBuffer section non-empty).
std::vector<uint8_t> detector() {
  ModelBuilder b;
  const int image = b.add_input("image", Shape{1, 8, 8, 3});
  const int w = polyhead::testing::random_constant(b, "conv.weights", Shape{8, 3, 3, 3}, 1, 0.5f);
  const int bias = polyhead::testing::random_constant(b, "conv.bias", Shape{8}, 2, 0.1f);
  Conv2DParams c;
  c.stride_h = c.stride_w = 2;
  c.pad_bottom = c.pad_right = 1;
  const int conv = must(b.conv2d("conv", image, w, bias, c));
  const int mean = must(b.mean("mean", conv, false));
  PostProcessParams post;
  post.anchors = std::vector<float>(4 * 16, 0.5f);
  post.labels = {"cat", "dog"};
  REQUIRE(b.add_task("detect", TaskKind::kDetection, {{"raw", conv}}, post).is_ok());
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"logits", mean}}).is_ok());
  b.add_metadata("license", "test");
  return must(b.finish());
}

std::vector<uint8_t> int8_of(const std::vector<uint8_t>& bytes) {
  const Model m = must(Model::from_bytes(bytes));
  const merge::SourceGraph g = must(merge::read_source_graph(m, "model"));
  std::vector<bool> int8(g.root->nodes()->size());
  for (size_t n = 0; n < int8.size(); ++n) int8[n] = quantize::can_run_int8(g, static_cast<int>(n));
  const std::vector<quantize::Range> ranges(g.root->tensors()->size(), quantize::Range{-2.f, 6.f});
  quantize::EditModel edited =
      must(quantize::rewrite_int8(g, int8, ranges, quantize::RewriteOptions{}));
  return must(quantize::write_model(edited));
}

}  // namespace

TEST_CASE("file sections: a float model's sections sum to its size", "[file_sections]") {
  const std::vector<uint8_t> bytes = detector();
  auto s = sections(bytes);
  CHECK(s["float_constants"] == (8 * 3 * 3 * 3 + 8) * 4);
  CHECK(s["int8_constants"] == 0);
  CHECK(s["int32_constants"] == 0);
  CHECK(s["quantization"] == 0);
  // 16 anchors of one centre and size are one grid: its sizes vector, length and 32 floats.
  CHECK(s["anchors"] == 4 + 32 * 4);
  CHECK(s["labels"] == (4 + 4) * 2);  // length, 3 characters and the zero, twice
  CHECK(s["tensor_names"] > 0);
  // Each node is named after its output tensor: the writer stores the string once, counted with
  // the tensor names.
  CHECK(s["node_names"] == 0);
  CHECK(s["strings"] > 0);
  // Every constant starts at a multiple of 64: the padding stays under 64 bytes per constant,
  // plus the file's tail.
  CHECK(s["constant_padding"] < 64 * 3);
}

TEST_CASE("file sections: int8 weights, int32 biases and scales have their own lines",
          "[file_sections]") {
  const std::vector<uint8_t> bytes = int8_of(detector());
  auto s = sections(bytes);
  CHECK(s["int8_constants"] == 8 * 3 * 3 * 3);
  CHECK(s["int32_constants"] == 8 * 2);  // 8 biases, small enough to be stored as int16
  CHECK(s["float_constants"] == 0);      // no float copy of the int8 weights is kept
  // Per-channel weight and bias scales (4 + 8 floats each), activation scales and zero points.
  CHECK(s["quantization"] >= 2 * (4 + 8 * 4));
}

TEST_CASE("file sections: short names shrink the name sections only", "[file_sections]") {
  const std::vector<uint8_t> bytes = int8_of(detector());
  const std::vector<uint8_t> renamed = must(quantize::shorten_names_in_file(bytes, true));
  auto before = sections(bytes), after = sections(renamed);
  CHECK(after["tensor_names"] < before["tensor_names"]);
  CHECK(after["int8_constants"] == before["int8_constants"]);
  CHECK(after["quantization"] == before["quantization"]);
  CHECK(after["anchors"] == before["anchors"]);
}

TEST_CASE("file sections: every model of the test suite sums to its size", "[file_sections]") {
  sections(polyhead::testing::every_operator_model());
  sections(polyhead::testing::tiny_two_task_model());
}

TEST_CASE("file sections: a file that is not a model is refused", "[file_sections]") {
  std::vector<uint8_t> junk(128, 0x41);
  const Result<graph::FileSections> r = graph::measure_file_sections(junk.data(), junk.size());
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == ErrorCode::kInvalidModel);
  std::vector<uint8_t> cut = detector();
  cut.resize(16);
  CHECK_FALSE(graph::measure_file_sections(cut.data(), cut.size()).is_ok());
}
