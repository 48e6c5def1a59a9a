// ModelBuilder: operators are checked when added (naming the node), files round-trip through the
// loader, and constants land 64-byte aligned after the FlatBuffer.
#include <catch2/catch.hpp>

#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("builder: output shapes are inferred as operators are added") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 16, 16, 3});
  Conv2DParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_bottom = p.pad_right = 1;
  const int w = testing::random_constant(b, "w", Shape{8, 3, 3, 3}, 1, 1.f);
  auto y = b.conv2d("conv", x, w, -1, p);
  REQUIRE(y.is_ok());
  CHECK(b.shape(*y) == Shape{1, 8, 8, 8});
  auto z = b.resize("up", *y, 32, 24, ResizeMode::kBilinear);
  REQUIRE(z.is_ok());
  CHECK(b.shape(*z) == Shape{1, 32, 24, 8});
  auto c = b.concatenation("cat", {*y, *y}, -1);
  REQUIRE(c.is_ok());
  CHECK(b.shape(*c) == Shape{1, 8, 8, 16});
}

TEST_CASE("builder: invalid operators are refused at the call, naming the node") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 8, 8, 3});
  const int w = testing::random_constant(b, "w", Shape{4, 3, 3, 5}, 1, 1.f);  // wrong in-channels
  auto conv = b.conv2d("bad_conv", x, w, -1, {});
  REQUIRE_FALSE(conv.is_ok());
  CHECK(conv.status().code() == ErrorCode::kInvalidArgument);
  CHECK(contains(conv.status().message(), "bad_conv"));
  CHECK(contains(conv.status().message(), "input channels"));

  auto add = b.binary("bad_add", BinaryOp::kAdd, x, b.add_input("y", Shape{1, 8, 7, 3}));
  REQUIRE_FALSE(add.is_ok());
  CHECK(contains(add.status().message(), "do not broadcast"));

  auto missing = b.unary("ghost", UnaryOp::kSigmoid, 99);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(contains(missing.status().message(), "tensor index 99"));

  auto reshape = b.reshape("bad_reshape", x, Shape{1, 100});
  REQUIRE_FALSE(reshape.is_ok());
  CHECK(contains(reshape.status().message(), "cannot reshape"));

  REQUIRE(b.unary("act", UnaryOp::kSigmoid, x).is_ok());
  auto twice = b.unary("act", UnaryOp::kTanh, x);
  REQUIRE_FALSE(twice.is_ok());
  CHECK(contains(twice.status().message(), "added twice"));
  CHECK_FALSE(b.unary("", UnaryOp::kTanh, x).is_ok());
}

TEST_CASE("builder: task and constant mistakes are reported") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4});
  auto y = b.unary("y", UnaryOp::kTanh, x);
  REQUIRE(y.is_ok());
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"out", *y}}).is_ok());
  CHECK_FALSE(b.add_task("t", TaskKind::kOther, {{"out", *y}}).is_ok());
  CHECK_FALSE(b.add_task("u", TaskKind::kOther, {{"out", 42}}).is_ok());
  b.add_constant("short", Shape{2, 3}, {1.f, 2.f});  // 2 values for 6 elements
  auto bytes = b.finish();
  REQUIRE_FALSE(bytes.is_ok());
  CHECK(contains(bytes.status().message(), "'short'"));
  CHECK(contains(bytes.status().message(), "has 2 values"));
}

TEST_CASE("builder: constants follow the FlatBuffer at 64-byte aligned offsets") {
  const std::vector<uint8_t> bytes = testing::tiny_two_task_model();
  REQUIRE(bytes.size() % 64 == 0);
  const auto* model = schema::GetModel(bytes.data());
  REQUIRE(model->buffers());
  REQUIRE(model->buffers()->size() == 4);  // stem.w, stem.b, classify.w, segment.w
  uint64_t previous_end = 0;
  for (const schema::BufferRef* b : *model->buffers()) {
    CHECK(b->offset() % 64 == 0);
    CHECK(b->offset() >= previous_end);
    CHECK(b->offset() + b->size() <= bytes.size());
    previous_end = b->offset() + b->size();
  }
  // The values written are the values read back.
  auto loaded = Model::from_bytes(bytes);
  REQUIRE(loaded.is_ok());
  const schema::Tensor* stem_b = nullptr;
  for (const schema::Tensor* t : *model->tensors())
    if (t->name()->str() == "stem.b") stem_b = t;
  REQUIRE(stem_b);
  const auto* ref = model->buffers()->Get(stem_b->buffer() - 1);
  const auto* values = reinterpret_cast<const float*>(bytes.data() + ref->offset());
  const std::vector<float> expected = testing::random_values(4, 2, 0.1f);
  for (size_t i = 0; i < 4; ++i) CHECK(values[i] == expected[i]);
}

TEST_CASE("builder: write() reports an unwritable path") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4});
  auto y = b.unary("y", UnaryOp::kTanh, x);
  REQUIRE(y.is_ok());
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"out", *y}}).is_ok());
  const Status s = b.write("/nonexistent-dir/model.phm");
  CHECK(s.code() == ErrorCode::kIoError);
  CHECK(contains(s.message(), "/nonexistent-dir/model.phm"));
}
