// The one .phm writer (engine/internal/polyhead/internal/phm_writer.h), which ModelBuilder, merge
// and quantize share: every constant lands 64-byte aligned, the 2 GiB limit is checked on the
// planned size before anything is copied, constants must fit their shapes, and what it writes
// loads back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

#include "polyhead/format_version.h"
#include "polyhead/internal/phm_writer.h"
#include "polyhead/model.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"

using namespace polyhead;
using namespace polyhead::internal;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr uint64_t kGiB = uint64_t{1} << 30;

// Checks the layout rules of docs/format.md on written bytes: the FlatBuffer first, then each
// constant 64-byte aligned, inside the file and after the previous one; the file size a multiple
// of 64. Returns the buffer refs for further checks.
std::vector<schema::BufferRef> check_layout(const std::vector<uint8_t>& bytes) {
  REQUIRE(schema::ModelBufferHasIdentifier(bytes.data()));
  CHECK(bytes.size() % kPhmAlignment == 0);
  const schema::Model* m = schema::GetModel(bytes.data());
  std::vector<schema::BufferRef> refs;
  if (m->buffers())
    for (const schema::BufferRef* r : *m->buffers()) refs.push_back(*r);
  // The FlatBuffer comes first: it verifies within the bytes before the lowest constant.
  uint64_t end_of_previous = bytes.size();
  for (const schema::BufferRef& r : refs) end_of_previous = std::min(end_of_previous, r.offset());
  flatbuffers::Verifier verifier(bytes.data(), static_cast<size_t>(end_of_previous));
  CHECK(schema::VerifyModelBuffer(verifier));
  for (const schema::BufferRef& r : refs) {
    INFO("buffer at " << r.offset() << ", " << r.size() << " bytes");
    CHECK(r.offset() % kPhmAlignment == 0);
    CHECK(r.offset() >= end_of_previous);
    CHECK(r.offset() + r.size() <= bytes.size());
    end_of_previous = r.offset() + r.size();
  }
  return refs;
}

PhmTensor constant_tensor(const std::string& name, std::vector<int> shape, schema::ElementType type,
                          int constant) {
  PhmTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = type;
  t.constant = constant;
  return t;
}

// A loadable model: image [1,2,2,3] + bias (a constant) -> "sum", read by task "t".
PhmModel small_model(const std::vector<float>& bias) {
  PhmModel m;
  m.producer = "test";
  m.description = "a small model";
  PhmTensor image;
  image.name = "image";
  image.shape = {1, 2, 2, 3};
  m.tensors.push_back(image);
  m.tensors.push_back(constant_tensor("bias", {3}, schema::ElementType::F32, 0));
  PhmTensor sum;
  sum.name = "sum";
  sum.shape = {1, 2, 2, 3};
  m.tensors.push_back(sum);
  m.constants.push_back({bias.data(), bias.size() * sizeof(float)});
  PhmNode add;
  add.name = "add";
  add.op = schema::OpKind::ADD;
  add.options_type = schema::OpOptions::BinaryOptions;
  add.options = [](flatbuffers::FlatBufferBuilder& b) -> Result<flatbuffers::Offset<void>> {
    const schema::Activation relu(0.f, std::numeric_limits<float>::infinity());
    return schema::CreateBinaryOptions(b, &relu).Union();
  };
  add.inputs = {0, 1};
  add.outputs = {2};
  m.nodes.push_back(add);
  PhmPreprocess pre;
  pre.width = pre.height = 2;
  pre.mean = std::vector<float>{1.f, 2.f, 3.f};
  pre.std = std::vector<float>{4.f, 5.f, 6.f};
  m.inputs.push_back({0, pre});
  PhmTask task;
  task.name = "t";
  task.kind = schema::TaskKind::DETECTION;
  task.outputs.push_back({"out", 2});
  PhmPostProcess post;
  post.labels = std::vector<std::string>{"cat", "dog"};
  post.anchors = std::vector<float>{0.5f, 0.5f, 0.1f, 0.2f};
  post.max_detections = 7;
  task.postprocess = post;
  task.priority = 3;
  task.rate = 2;
  m.tasks.push_back(task);
  m.metadata = {{"license", "test"}};
  return m;
}

}  // namespace

TEST_CASE("phm writer: every constant buffer starts at a 64-byte boundary") {
  // Sizes that are not multiples of 64 (1, 3, 65, 130 bytes) and an empty constant, of several
  // element types; the bytes are distinct so a misplaced copy shows.
  std::vector<std::vector<uint8_t>> data = {{}, {}, {}, {}, {}};
  const std::vector<size_t> sizes = {1, 3, 65, 0, 132};
  for (size_t i = 0; i < sizes.size(); ++i)
    for (size_t k = 0; k < sizes[i]; ++k) data[i].push_back(static_cast<uint8_t>(17 * i + k + 1));
  PhmModel m;
  m.tensors.push_back(constant_tensor("a", {1}, schema::ElementType::I8, 0));
  m.tensors.push_back(constant_tensor("b", {3}, schema::ElementType::U8, 1));
  m.tensors.push_back(constant_tensor("c", {5, 13}, schema::ElementType::I8, 2));
  m.tensors.push_back(constant_tensor("d", {0}, schema::ElementType::F32, 3));
  m.tensors.push_back(constant_tensor("e", {33}, schema::ElementType::I32, 4));
  m.tensors.push_back(constant_tensor("c_again", {65}, schema::ElementType::I8, 2));  // shared
  for (const auto& d : data) m.constants.push_back({d.data(), d.size()});

  for (bool keep_defaults : {false, true}) {
    PhmWriteOptions options;
    options.keep_defaults = keep_defaults;
    auto bytes = write_phm(m, options);
    REQUIRE(bytes.is_ok());
    const std::vector<schema::BufferRef> refs = check_layout(*bytes);
    REQUIRE(refs.size() == data.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      REQUIRE(refs[i].size() == data[i].size());
      if (!data[i].empty())
        CHECK(std::memcmp(bytes->data() + refs[i].offset(), data[i].data(), data[i].size()) == 0);
    }
    // Both tensors of the shared constant name the same buffer; tensors count buffers from 1.
    const schema::Model* root = schema::GetModel(bytes->data());
    CHECK(root->tensors()->Get(0)->buffer() == 1);
    CHECK(root->tensors()->Get(2)->buffer() == 3);
    CHECK(root->tensors()->Get(5)->buffer() == 3);
    // Padding between and after constants is zero.
    const uint64_t last = refs.back().offset() + refs.back().size();
    for (uint64_t k = last; k < bytes->size(); ++k) REQUIRE((*bytes)[k] == 0);
    CHECK(bytes->size() - last < kPhmAlignment);
  }
}

TEST_CASE("phm writer: ModelBuilder files keep every constant aligned") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4, 4, 3});
  // 3 floats (12 bytes), 5 int8 (5 bytes), 7 floats (28 bytes): none a multiple of 64.
  const int bias = b.add_constant("bias", Shape{3}, {1.f, 2.f, 3.f});
  const int q = b.add_constant_i8("q", Shape{5}, {1, 2, 3, 4, 5}, Quantization::per_tensor(1.f, 0));
  (void)q;
  const int w = b.add_constant("w", Shape{7}, {1, 2, 3, 4, 5, 6, 7});
  (void)w;
  auto y = b.binary("add", BinaryOp::kAdd, x, bias);
  REQUIRE(y.is_ok());
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", *y}}).is_ok());
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  const std::vector<schema::BufferRef> refs = check_layout(*bytes);
  REQUIRE(refs.size() == 3);
  CHECK(refs[0].size() == 12);
  CHECK(refs[1].size() == 5);
  CHECK(refs[2].size() == 28);
}

TEST_CASE("phm writer: the 2 GiB limit is checked on the planned size") {
  // Two 1 GiB constants after a 1000-byte FlatBuffer: 1024 + 2^30 + 2^30 bytes.
  auto over = plan_phm_layout(1000, {kGiB, kGiB}, "the test model");
  REQUIRE_FALSE(over.is_ok());
  CHECK(over.status().code() == ErrorCode::kInvalidArgument);
  CHECK(over.status().message() ==
        "the test model would take 2147484672 bytes; a .phm file must be smaller than 2 GiB");

  // Exactly 2 GiB is one byte too many; 64 bytes less fits.
  CHECK_FALSE(plan_phm_layout(64, {2 * kGiB - 64}, "m").is_ok());
  auto fits = plan_phm_layout(64, {2 * kGiB - 128}, "m");
  REQUIRE(fits.is_ok());
  CHECK(fits->offsets == std::vector<uint64_t>{64});
  CHECK(fits->file_bytes == 2 * kGiB - 64);
  CHECK(fits->file_bytes < kPhmMaxFileBytes);

  // Sizes that would wrap a 64-bit sum still fail.
  for (const std::vector<uint64_t>& sizes :
       {std::vector<uint64_t>{std::numeric_limits<uint64_t>::max(), 128},
        std::vector<uint64_t>{uint64_t{1} << 63, uint64_t{1} << 63, 64}}) {
    auto wrap = plan_phm_layout(64, sizes, "m");
    REQUIRE_FALSE(wrap.is_ok());
    CHECK(contains(wrap.status().message(), "smaller than 2 GiB"));
  }

  // Offsets: each constant at the next multiple of 64 after the previous one.
  auto small = plan_phm_layout(100, {1, 64, 65, 0, 3}, "m");
  REQUIRE(small.is_ok());
  CHECK(small->offsets == std::vector<uint64_t>{128, 192, 256, 384, 384});
  CHECK(small->file_bytes == 448);
}

TEST_CASE("phm writer: write_phm refuses a model past 2 GiB before copying any constant") {
  // A 3 GiB int8 constant whose data pointer is null: the size check has to come first.
  PhmModel m;
  m.tensors.push_back(constant_tensor("huge", {1 << 15, 1 << 15, 3}, schema::ElementType::I8, 0));
  m.constants.push_back({nullptr, 3 * kGiB});
  auto bytes = write_phm(m, {"the huge model", false});
  REQUIRE_FALSE(bytes.is_ok());
  CHECK(bytes.status().code() == ErrorCode::kInvalidArgument);
  CHECK(contains(bytes.status().message(), "the huge model would take "));
  CHECK(contains(bytes.status().message(), "a .phm file must be smaller than 2 GiB"));
}

TEST_CASE("phm writer: a constant must fit its shape and type") {
  const std::vector<float> three = {1.f, 2.f, 3.f};
  PhmModel m;
  m.tensors.push_back(constant_tensor("w", {2, 2}, schema::ElementType::F32, 0));
  m.constants.push_back({three.data(), three.size() * sizeof(float)});
  auto bytes = write_phm(m);
  REQUIRE_FALSE(bytes.is_ok());
  CHECK(bytes.status().code() == ErrorCode::kInvalidArgument);
  CHECK(bytes.status().message() == "constant 'w' of shape [2,2] has 3 values");

  m.constants[0].size = 10;  // not a whole number of floats
  bytes = write_phm(m);
  REQUIRE_FALSE(bytes.is_ok());
  CHECK(bytes.status().message() ==
        "constant 'w' of shape [2,2] has 10 bytes, not a whole number of f32 values");

  m.tensors[0].constant = 4;
  bytes = write_phm(m);
  REQUIRE_FALSE(bytes.is_ok());
  CHECK(bytes.status().message() == "tensor 'w' refers to constant 4 of 1");
}

TEST_CASE("phm writer: what it writes loads back, stamped with this build's version") {
  const std::vector<float> bias = {0.5f, -1.f, 2.f};
  const PhmModel m = small_model(bias);
  auto bytes = write_phm(m);
  REQUIRE(bytes.is_ok());
  check_layout(*bytes);
  auto model = Model::from_bytes(*bytes);
  if (!model.is_ok()) FAIL(model.status().to_string());
  CHECK(model->format_version_major() == kFormatVersionMajor);
  CHECK(model->format_version_minor() == kFormatVersionMinor);
  CHECK(model->producer() == "test");
  CHECK(model->description() == "a small model");
  CHECK(model->metadata("license") == "test");
  REQUIRE(model->inputs().size() == 1);
  CHECK(model->inputs()[0].name == "image");
  CHECK(model->inputs()[0].preprocess.width == 2);
  CHECK(model->inputs()[0].preprocess.mean == std::vector<float>{1.f, 2.f, 3.f});
  CHECK(model->inputs()[0].preprocess.std == std::vector<float>{4.f, 5.f, 6.f});
  REQUIRE(model->tasks().size() == 1);
  const TaskInfo& t = model->tasks()[0];
  CHECK(t.name == "t");
  CHECK(t.priority == 3);
  CHECK(t.rate == 2);
  REQUIRE(t.outputs.size() == 1);
  CHECK(t.outputs[0].tensor == "sum");
  CHECK(t.postprocess.labels == std::vector<std::string>{"cat", "dog"});
  CHECK(t.postprocess.anchors == std::vector<float>{0.5f, 0.5f, 0.1f, 0.2f});
  CHECK(t.postprocess.max_detections == 7);
}

TEST_CASE("phm writer: keep_defaults stores fields equal to their default") {
  const std::vector<float> bias = {0.f, 0.f, 0.f};
  PhmModel m = small_model(bias);
  m.tasks[0].priority = 0;  // the schema default
  auto compact = write_phm(m, {"m", false});
  auto full = write_phm(m, {"m", true});
  REQUIRE(compact.is_ok());
  REQUIRE(full.is_ok());
  auto priority_stored = [](const std::vector<uint8_t>& bytes) {
    const schema::Task* t = schema::GetModel(bytes.data())->tasks()->Get(0);
    return reinterpret_cast<const flatbuffers::Table*>(t)->CheckField(schema::Task::VT_PRIORITY);
  };
  CHECK_FALSE(priority_stored(*compact));
  CHECK(priority_stored(*full));
  CHECK(full->size() >= compact->size());
  REQUIRE(Model::from_bytes(*compact).is_ok());
  REQUIRE(Model::from_bytes(*full).is_ok());
}

TEST_CASE("phm writer: an options writer's error is returned") {
  const std::vector<float> bias = {0.f, 0.f, 0.f};
  PhmModel m = small_model(bias);
  m.nodes[0].options = [](flatbuffers::FlatBufferBuilder&) -> Result<flatbuffers::Offset<void>> {
    return Status(ErrorCode::kUnsupported, "node 'add': options type 99 cannot be copied");
  };
  auto bytes = write_phm(m);
  REQUIRE_FALSE(bytes.is_ok());
  CHECK(bytes.status().code() == ErrorCode::kUnsupported);
  CHECK(contains(bytes.status().message(), "options type 99"));
}

TEST_CASE("phm writer: identical shapes, index lists, quantization and options are stored once") {
  // Four tensors of one shape and quantization, two ADD nodes with the same options.
  const std::vector<float> bias = {1.f, 2.f, 3.f};
  PhmModel m = small_model(bias);
  PhmQuantization q;
  q.scale = {0.5f};
  q.zero_point = std::vector<int64_t>{3};
  for (PhmTensor& t : m.tensors)
    if (t.constant < 0) t.quantization = q;
  PhmTensor again = m.tensors[2];
  again.name = "sum2";
  m.tensors.push_back(again);
  PhmNode add2 = m.nodes[0];
  add2.name = "add2";
  add2.inputs = {2, 1};
  add2.outputs = {3};
  m.nodes.push_back(add2);
  for (bool keep_defaults : {false, true}) {
    PhmWriteOptions options;
    options.keep_defaults = keep_defaults;
    auto bytes = write_phm(m, options);
    REQUIRE(bytes.is_ok());
    check_layout(*bytes);
    const schema::Model* raw = schema::GetModel(bytes->data());
    const auto* t = raw->tensors();
    CHECK(t->Get(0)->shape() == t->Get(2)->shape());
    CHECK(t->Get(2)->shape() == t->Get(3)->shape());
    CHECK(t->Get(1)->shape() != t->Get(0)->shape());
    CHECK(t->Get(0)->quantization() == t->Get(3)->quantization());
    CHECK(t->Get(1)->quantization() == nullptr);
    const auto* n = raw->nodes();
    CHECK(n->Get(0)->options() == n->Get(1)->options());
    CHECK(n->Get(0)->inputs() != n->Get(1)->inputs());
    // The values each reader sees are those of the model, shared or not.
    auto model = Model::from_bytes(*bytes);
    REQUIRE(model.is_ok());
    CHECK(model->inputs()[0].shape == model->tasks()[0].outputs[0].shape);
    CHECK(model->inputs()[0].shape.rank() == 4);
  }
  // Options that differ in one value are two tables.
  m.nodes[1].options = [](flatbuffers::FlatBufferBuilder& b) -> Result<flatbuffers::Offset<void>> {
    const schema::Activation relu6(0.f, 6.f);
    return schema::CreateBinaryOptions(b, &relu6).Union();
  };
  auto bytes = write_phm(m);
  REQUIRE(bytes.is_ok());
  const auto* n = schema::GetModel(bytes->data())->nodes();
  CHECK(n->Get(0)->options() != n->Get(1)->options());
  CHECK(n->Get(1)->options_as_BinaryOptions()->activation()->max() == 6.f);
}
