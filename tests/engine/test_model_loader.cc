// The loader's error paths: every malformed file gets a clear error (the right ErrorCode and a
// message naming the offending tensor, node, input or task and the value found), a valid file
// round-trips, and the public API reports caller errors by name.
//
// Malformed models are written directly with the generated FlatBuffers API: ModelSpec describes a
// small valid baseline model in plain structs, each case changes one thing, and serialize() lays
// it out the way the ModelBuilder does (FlatBuffer, then constants at 64-byte aligned offsets).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/format_version.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;
namespace fb = flatbuffers;
namespace sc = polyhead::schema;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// A mutable description of a model, serialised with the generated API.

using OptionsWriter = std::function<fb::Offset<void>(fb::FlatBufferBuilder&)>;

struct QuantSpec {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int axis = -1;
  std::vector<uint16_t> scale_f16;  // written when not empty
  bool no_scale = false;            // leaves `scale` out
};

struct TensorSpec {
  std::string name;
  std::vector<int> shape;
  sc::ElementType type = sc::ElementType::F32;
  uint32_t buffer = 0;  // index into ModelSpec::buffers + 1; 0 = not constant
  std::optional<QuantSpec> quant;
  sc::ConstantStorage storage = sc::ConstantStorage::PLAIN;
};

struct BufferSpec {
  std::vector<uint8_t> data;
  std::optional<uint64_t> offset;  // overrides the computed (aligned) offset
  std::optional<uint64_t> size;    // overrides data.size()
};

struct NodeSpec {
  std::string name;
  sc::OpKind op = sc::OpKind::CONV_2D;
  sc::OpOptions options_type = sc::OpOptions::NONE;
  OptionsWriter options;
  std::vector<int> inputs;
  std::vector<int> outputs;
};

struct PreprocessSpec {
  int width = 0, height = 0;
  sc::Layout layout = sc::Layout::NHWC;
  sc::ColorOrder color = sc::ColorOrder::RGB;
  std::vector<float> mean, std;
  float pixel_scale = 255.f;
};

struct InputSpec {
  int tensor = 0;
  std::optional<PreprocessSpec> preprocess;
};

struct TaskSpec {
  std::string name;
  sc::TaskKind kind = sc::TaskKind::OTHER;
  std::vector<std::pair<std::string, int>> outputs;
  int priority = 0;
  int rate = 1;
  std::optional<sc::OutputActivation> post_activation;  // writes a PostProcess table when set
  // Writes the PostProcess table instead, when set (hostile anchors).
  std::function<fb::Offset<sc::PostProcess>(fb::FlatBufferBuilder&)> post_writer;
};

TensorSpec tensor_spec(std::string name, std::vector<int> shape, uint32_t buffer = 0) {
  TensorSpec t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.buffer = buffer;
  return t;
}

BufferSpec float_buffer(const std::vector<float>& v) {
  BufferSpec b;
  b.data.resize(v.size() * sizeof(float));
  std::memcpy(b.data.data(), v.data(), b.data.size());
  return b;
}

OptionsWriter conv_options(int stride = 1, int groups = 1) {
  return [=](fb::FlatBufferBuilder& b) {
    return sc::CreateConv2DOptions(b, stride, stride, 1, 1, 0, 0, 0, 0, groups).Union();
  };
}
OptionsWriter clamp_options(float lo, float hi) {
  return [=](fb::FlatBufferBuilder& b) { return sc::CreateClampOptions(b, lo, hi).Union(); };
}
OptionsWriter mean_options(bool keep_dims) {
  return [=](fb::FlatBufferBuilder& b) { return sc::CreateMeanOptions(b, keep_dims).Union(); };
}

struct ModelSpec {
  uint32_t major = kFormatVersionMajor;
  uint32_t minor = kFormatVersionMinor;
  std::string producer = "test_model_loader";
  std::string description = "baseline";
  std::vector<TensorSpec> tensors;
  std::vector<BufferSpec> buffers;
  std::vector<NodeSpec> nodes;
  std::vector<InputSpec> inputs;
  std::vector<TaskSpec> tasks;
  std::vector<std::pair<std::string, std::string>> metadata;

  // Baseline: image [1,4,4,2] -> conv 1x1 (3 out) -> clamp -> mean; two tasks.
  //   tensors: 0 image, 1 conv.w, 2 conv.b, 3 conv.out, 4 relu.out, 5 pool.out
  //   nodes:   0 conv (CONV_2D), 1 relu (CLAMP), 2 pool (MEAN)
  //   tasks:   0 features {map: relu.out}, 1 summary {vector: pool.out}
  static ModelSpec baseline() {
    ModelSpec m;
    m.tensors = {
        tensor_spec("image", {1, 4, 4, 2}),    tensor_spec("conv.w", {3, 1, 1, 2}, 1),
        tensor_spec("conv.b", {3}, 2),         tensor_spec("conv.out", {1, 4, 4, 3}),
        tensor_spec("relu.out", {1, 4, 4, 3}), tensor_spec("pool.out", {1, 3}),
    };
    m.buffers = {float_buffer({0.5f, -0.25f, 1.f, 0.75f, -1.f, 0.125f}),
                 float_buffer({0.1f, 0.2f, -0.3f})};
    m.nodes = {
        {"conv", sc::OpKind::CONV_2D, sc::OpOptions::Conv2DOptions, conv_options(), {0, 1, 2}, {3}},
        {"relu",
         sc::OpKind::CLAMP,
         sc::OpOptions::ClampOptions,
         clamp_options(0.f, kInf),
         {3},
         {4}},
        {"pool", sc::OpKind::MEAN, sc::OpOptions::MeanOptions, mean_options(false), {4}, {5}},
    };
    PreprocessSpec pre;
    pre.width = 4;
    pre.height = 4;
    pre.mean = {0.5f, 0.5f};
    pre.std = {0.25f, 0.25f};
    m.inputs = {{0, pre}};
    m.tasks = {{"features", sc::TaskKind::SEGMENTATION, {{"map", 4}}, 2, 3, std::nullopt, {}},
               {"summary", sc::TaskKind::EMBEDDING, {{"vector", 5}}, 0, 1, std::nullopt, {}}};
    m.metadata = {{"license", "test-only"}};
    return m;
  }

  int tensor(const std::string& name) const {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == name) return static_cast<int>(i);
    FAIL("no tensor " << name);
    return -1;
  }
  NodeSpec& node(const std::string& name) {
    for (NodeSpec& n : nodes)
      if (n.name == name) return n;
    FAIL("no node " << name);
    return nodes[0];
  }
  int add_tensor(TensorSpec t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }

  fb::Offset<sc::Model> build(fb::FlatBufferBuilder& b,
                              const std::vector<uint64_t>& offsets) const {
    std::vector<fb::Offset<sc::Tensor>> t_off;
    for (const TensorSpec& t : tensors) {
      fb::Offset<sc::Quantization> q = 0;
      if (t.quant)
        q = sc::CreateQuantization(
            b, t.quant->no_scale ? 0 : b.CreateVector(t.quant->scale),
            t.quant->zero_point.empty() ? 0 : b.CreateVector(t.quant->zero_point), t.quant->axis,
            t.quant->scale_f16.empty() ? 0 : b.CreateVector(t.quant->scale_f16));
      t_off.push_back(sc::CreateTensor(b, b.CreateString(t.name), b.CreateVector(t.shape), t.type,
                                       q, t.buffer, 0, t.storage));
    }
    std::vector<sc::BufferRef> refs;
    for (size_t i = 0; i < buffers.size(); ++i)
      refs.emplace_back(buffers[i].offset ? *buffers[i].offset : offsets[i],
                        buffers[i].size ? *buffers[i].size : buffers[i].data.size());
    std::vector<fb::Offset<sc::Node>> n_off;
    for (const NodeSpec& n : nodes) {
      const auto opts = n.options ? n.options(b) : fb::Offset<void>();
      n_off.push_back(sc::CreateNode(b, b.CreateString(n.name), n.op, n.options_type, opts,
                                     b.CreateVector(n.inputs), b.CreateVector(n.outputs)));
    }
    std::vector<fb::Offset<sc::Input>> i_off;
    for (const InputSpec& in : inputs) {
      fb::Offset<sc::Preprocess> pre = 0;
      if (in.preprocess) {
        const PreprocessSpec& p = *in.preprocess;
        pre = sc::CreatePreprocess(b, p.width, p.height, p.layout, p.color,
                                   p.mean.empty() ? 0 : b.CreateVector(p.mean),
                                   p.std.empty() ? 0 : b.CreateVector(p.std), p.pixel_scale);
      }
      i_off.push_back(sc::CreateInput(b, in.tensor, pre));
    }
    std::vector<fb::Offset<sc::Task>> k_off;
    for (const TaskSpec& t : tasks) {
      std::vector<fb::Offset<sc::TaskOutput>> outs;
      for (const auto& [name, tensor] : t.outputs)
        outs.push_back(sc::CreateTaskOutput(b, b.CreateString(name), tensor));
      fb::Offset<sc::PostProcess> post = 0;
      if (t.post_activation) post = sc::CreatePostProcess(b, *t.post_activation);
      if (t.post_writer) post = t.post_writer(b);
      k_off.push_back(sc::CreateTask(b, b.CreateString(t.name), t.kind, b.CreateVector(outs), post,
                                     t.priority, t.rate));
    }
    std::vector<fb::Offset<sc::Metadata>> m_off;
    for (const auto& [k, v] : metadata)
      m_off.push_back(sc::CreateMetadata(b, b.CreateString(k), b.CreateString(v)));
    return sc::CreateModel(b, major, minor, b.CreateString(producer), b.CreateString(description),
                           b.CreateVector(t_off), b.CreateVectorOfStructs(refs),
                           b.CreateVector(n_off), b.CreateVector(i_off), b.CreateVector(k_off),
                           b.CreateVector(m_off));
  }

  // FlatBuffer first, then each buffer's data at the next 64-byte aligned offset.
  std::vector<uint8_t> serialize() const {
    auto align = [](uint64_t v) { return (v + 63) / 64 * 64; };
    std::vector<uint64_t> offsets(buffers.size(), 0);
    fb::FlatBufferBuilder sizing;
    sizing.Finish(build(sizing, offsets), kFileIdentifier);
    uint64_t cursor = align(sizing.GetSize());
    for (size_t i = 0; i < buffers.size(); ++i) {
      offsets[i] = cursor;
      cursor = align(cursor + buffers[i].data.size());
    }
    fb::FlatBufferBuilder b;
    b.Finish(build(b, offsets), kFileIdentifier);
    REQUIRE(b.GetSize() == sizing.GetSize());
    std::vector<uint8_t> bytes(cursor, 0);
    std::memcpy(bytes.data(), b.GetBufferPointer(), b.GetSize());
    for (size_t i = 0; i < buffers.size(); ++i)
      if (!buffers[i].data.empty())
        std::memcpy(bytes.data() + offsets[i], buffers[i].data.data(), buffers[i].data.size());
    return bytes;
  }
};

// ---------------------------------------------------------------------------------------------
// Loading helpers.

// A 64-byte aligned copy of some bytes (Model::from_buffer reads them in place).
struct AlignedBytes {
  explicit AlignedBytes(const std::vector<uint8_t>& v)
      : data(static_cast<uint8_t*>(std::aligned_alloc(64, (v.size() + 64) / 64 * 64)), &std::free),
        size(v.size()) {
    if (!v.empty()) std::memcpy(data.get(), v.data(), v.size());
  }
  std::unique_ptr<uint8_t, decltype(&std::free)> data;
  size_t size;
};

using testing::TempDir;
using testing::write_file;

std::vector<uint8_t> bytes_of(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Loads `bytes` with from_buffer and returns the error; fails the test when the model loads.
Status load_error(const std::vector<uint8_t>& bytes) {
  AlignedBytes aligned(bytes);
  auto model = Model::from_buffer(aligned.data.get(), aligned.size);
  if (model.is_ok()) FAIL("the malformed model loaded");
  return model.status();
}

Status load_error(const ModelSpec& spec) {
  return load_error(spec.serialize());
}

// Checks a Status: its code and that its message contains each of `parts`.
void expect_status(const Status& s, ErrorCode code, const std::vector<std::string>& parts) {
  INFO("status: " << s.to_string());
  CHECK_FALSE(s.is_ok());
  CHECK(s.code() == code);
  CHECK_FALSE(s.message().empty());
  for (const std::string& p : parts) CHECK_THAT(s.message(), Catch::Contains(p));
}

void expect_invalid(const ModelSpec& spec, const std::vector<std::string>& parts) {
  expect_status(load_error(spec), ErrorCode::kInvalidModel, parts);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("loader: the baseline spec is a valid model") {
  const auto bytes = ModelSpec::baseline().serialize();
  AlignedBytes aligned(bytes);
  auto model = Model::from_buffer(aligned.data.get(), aligned.size);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  const std::vector<float> image(32, 0.5f);
  REQUIRE(plan->set_input("image", image.data(), image.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  auto vec = plan->output("summary", "vector");
  REQUIRE(vec.is_ok());
  REQUIRE(vec->shape == Shape{1, 3});
  // relu(0.5*(w0 + w1) + b) per output channel.
  CHECK(vec->f32()[0] == Approx(std::max(0.f, 0.5f * (0.5f - 0.25f) + 0.1f)));
  CHECK(vec->f32()[1] == Approx(std::max(0.f, 0.5f * (1.f + 0.75f) + 0.2f)));
  CHECK(vec->f32()[2] == Approx(std::max(0.f, 0.5f * (-1.f + 0.125f) - 0.3f)));
}

TEST_CASE("loader: files that are not .phm models") {
  TempDir dir;
  SECTION("empty file") {
    auto m = Model::load_file(write_file(dir / "empty.phm", {}));
    expect_status(m.status(), ErrorCode::kInvalidModel, {"empty.phm", "0 bytes is too short"});
  }
  SECTION("4-byte file") {
    auto m = Model::load_file(write_file(dir / "four.phm", {'P', 'H', 'M', '1'}));
    expect_status(m.status(), ErrorCode::kInvalidModel, {"four.phm", "4 bytes is too short"});
  }
  SECTION("a PNG header") {
    std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a,
                                0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    auto m = Model::load_file(write_file(dir / "image.png", png));
    expect_status(
        m.status(), ErrorCode::kInvalidModel,
        {"image.png", "not a Polyhead model", "file identifier is '\\x0d\\x0a\\x1a\\x0a'", "PHM1"});
  }
  SECTION("a text file") {
    auto m = Model::load_file(
        write_file(dir / "notes.txt", bytes_of("hello world, this is not a model\n")));
    expect_status(m.status(), ErrorCode::kInvalidModel,
                  {"not a Polyhead model", "'o wo'", "expected 'PHM1'"});
  }
  SECTION("a valid FlatBuffer with another file identifier") {
    auto bytes = ModelSpec::baseline().serialize();
    std::memcpy(bytes.data() + 4, "TFL3", 4);
    expect_status(load_error(bytes), ErrorCode::kInvalidModel,
                  {"file identifier is 'TFL3'", "expected 'PHM1'"});
  }
  SECTION("a file truncated inside the FlatBuffer") {
    auto bytes = ModelSpec::baseline().serialize();
    bytes.resize(64);
    auto m = Model::load_file(write_file(dir / "truncated.phm", bytes));
    expect_status(m.status(), ErrorCode::kInvalidModel,
                  {"truncated.phm", "truncated or corrupted"});
  }
  SECTION("a file truncated inside the constant data") {
    const ModelSpec spec = ModelSpec::baseline();
    auto bytes = spec.serialize();
    bytes.resize(bytes.size() - 60);  // the last constant (conv.b, 12 bytes at the last 64) is cut
    expect_status(load_error(bytes), ErrorCode::kInvalidModel,
                  {"tensor 2 'conv.b'",
                   "lies outside the file of " + std::to_string(bytes.size()) + " bytes"});
  }
  SECTION("a nonexistent path") {
    const std::string path = dir / "does_not_exist.phm";
    auto m = Model::load_file(path);
    expect_status(m.status(), ErrorCode::kIoError, {"cannot open", path, "No such file"});
  }
  SECTION("a directory") {
    auto m = Model::load_file(dir.path().string());
    expect_status(m.status(), ErrorCode::kIoError, {dir.path().string(), "is not a regular file"});
  }
}

TEST_CASE("loader: format versions") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("major version 2 is rejected") {
    spec.major = 2;
    spec.minor = 3;
    expect_invalid(spec, {"format version 2.3", "not readable by this build", "reads 1.x"});
  }
  SECTION("major version 0 is rejected") {
    spec.major = 0;
    expect_invalid(spec, {"format version 0.", "reads 1.x"});
  }
  SECTION("a newer minor version of the same major loads") {
    spec.minor = kFormatVersionMinor + 7;
    AlignedBytes aligned(spec.serialize());
    auto model = Model::from_buffer(aligned.data.get(), aligned.size);
    REQUIRE(model.is_ok());
    CHECK(model->format_version_major() == kFormatVersionMajor);
    CHECK(model->format_version_minor() == kFormatVersionMinor + 7);
  }
}

TEST_CASE("loader: tensor indices out of range") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("node input") {
    spec.node("relu").inputs = {99};
    expect_invalid(spec, {"node 1 'relu'", "input tensor index 99", "out of range (6 tensors)"});
  }
  SECTION("node input below -1") {
    spec.node("relu").inputs = {-2};
    expect_invalid(spec, {"node 1 'relu'", "input tensor index -2"});
  }
  SECTION("node output") {
    spec.node("pool").outputs = {6};
    expect_invalid(spec, {"node 2 'pool'", "output tensor index 6", "out of range (6 tensors)"});
  }
  SECTION("node output -1") {
    spec.node("pool").outputs = {-1};
    expect_invalid(spec, {"node 2 'pool'", "output tensor index -1"});
  }
  SECTION("duplicate node name") {
    spec.node("pool").name = "relu";
    expect_invalid(spec, {"node 2 'relu'", "duplicate node name"});
  }
  SECTION("empty node name") {
    spec.node("pool").name = "";
    expect_invalid(spec, {"node 2 ''", "empty node name"});
  }
  SECTION("node with two outputs") {
    spec.node("pool").outputs = {5, 4};
    expect_invalid(spec, {"node 2 'pool'", "exactly one output, found 2"});
  }
  SECTION("model input") {
    spec.inputs[0].tensor = 42;
    expect_invalid(spec, {"input 0", "tensor index 42", "out of range (6 tensors)"});
  }
  SECTION("task output") {
    spec.tasks[1].outputs[0].second = -7;
    expect_invalid(spec, {"task 1 'summary' output 'vector'", "tensor index -7", "out of range"});
  }
  SECTION("constant buffer index") {
    spec.tensors[2].buffer = 9;
    expect_invalid(spec, {"tensor 2 'conv.b'", "buffer 9 is out of range (2 buffers)"});
  }
}

TEST_CASE("loader: int16-stored constants") {
  ModelSpec spec = ModelSpec::baseline();
  TensorSpec& bias = spec.tensors[2];  // conv.b [3], F32 in the baseline
  SECTION("on a float constant") {
    bias.storage = sc::ConstantStorage::INT16;
    expect_invalid(spec,
                   {"tensor 2 'conv.b'", "int16 storage is for dense I32 constants, not f32"});
  }
  SECTION("an unknown storage") {
    bias.storage = static_cast<sc::ConstantStorage>(9);
    expect_invalid(spec, {"tensor 2 'conv.b'", "unknown constant storage 9"});
  }
  SECTION("an I32 constant whose bytes are not 2 per value") {
    bias.type = sc::ElementType::I32;
    bias.storage = sc::ConstantStorage::INT16;
    spec.buffers[1].data.assign(3 * 4, 0);  // int32-sized
    expect_invalid(spec, {"tensor 2 'conv.b'", "constant data has 12 bytes",
                          "shape [3] stored as int16 needs 6"});
  }
}

TEST_CASE("loader: tensor declarations") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("negative dimension") {
    spec.tensors[4].shape = {1, -3, 4, 3};
    expect_invalid(spec, {"tensor 4 'relu.out'", "dimension -3", "must be in [1, "});
  }
  SECTION("zero dimension") {
    spec.tensors[3].shape = {1, 4, 0, 3};
    expect_invalid(spec, {"tensor 3 'conv.out'", "dimension 0"});
  }
  SECTION("huge dimension") {
    spec.tensors[3].shape = {1, 4, 0x7fffffff, 3};
    expect_invalid(spec, {"tensor 3 'conv.out'", "dimension 2147483647"});
  }
  SECTION("huge shape") {
    spec.tensors[3].shape = {1 << 20, 1 << 20, 1 << 20};
    expect_invalid(spec, {"tensor 3 'conv.out'", "too large"});
  }
  SECTION("activations past the total limit") {
    // An unused tensor exactly at the limit for one tensor (2^34 bytes; 2^30 on 32-bit targets,
    // where the planner's sums are 32-bit): with the baseline's activations the total exceeds
    // the same limit.
    const bool wide = sizeof(size_t) >= 8;
    spec.add_tensor(tensor_spec(
        "big", wide ? std::vector<int>{1 << 16, 1 << 16} : std::vector<int>{1 << 14, 1 << 14}));
    expect_invalid(
        spec, {"tensor 6 'big'", "the activations (non-constant tensors) up to this one take",
               wide ? "more than the limit of 17179869184" : "more than the limit of 1073741824"});
  }
  SECTION("rank 7") {
    spec.tensors[5].shape = {1, 1, 1, 1, 1, 1, 3};
    expect_invalid(spec, {"tensor 5 'pool.out'", "rank 7 exceeds 6"});
  }
  SECTION("unknown element type") {
    spec.tensors[4].type = static_cast<sc::ElementType>(9);
    expect_invalid(spec, {"tensor 4 'relu.out'", "unknown element type 9"});
  }
  SECTION("negative element type") {
    spec.tensors[4].type = static_cast<sc::ElementType>(-3);
    expect_invalid(spec, {"tensor 4 'relu.out'", "unknown element type -3"});
  }
}

TEST_CASE("loader: constant data") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("offset not 64-byte aligned") {
    spec.buffers[0].offset = 72;
    expect_invalid(spec, {"tensor 1 'conv.w'", "constant data offset 72 is not 64-byte aligned"});
  }
  SECTION("offset outside the file") {
    spec.buffers[1].offset = uint64_t{1} << 20;
    expect_invalid(spec,
                   {"tensor 2 'conv.b'", "constant data [1048576, +12)", "lies outside the file"});
  }
  SECTION("size reaching past the end of the file") {
    spec.buffers[1].size = uint64_t{1} << 40;
    expect_invalid(spec, {"tensor 2 'conv.b'", "lies outside the file"});
  }
  SECTION("offset + size wrapping around 2^64") {
    spec.buffers[1].offset = ~uint64_t{63};
    spec.buffers[1].size = 128;
    expect_invalid(spec, {"tensor 2 'conv.b'", "lies outside the file"});
  }
  SECTION("size not matching the shape") {
    spec.buffers[0].size = 4;
    expect_invalid(spec,
                   {"tensor 1 'conv.w'", "constant data has 4 bytes", "shape [3,1,1,2] needs 24"});
  }
  SECTION("NaN in the weights") {
    spec.buffers[0] = float_buffer({0.5f, -0.25f, kNaN, 0.75f, -1.f, 0.125f});
    expect_invalid(spec, {"tensor 1 'conv.w'", "constant value 2 is not finite"});
  }
  SECTION("infinity in the bias") {
    spec.buffers[1] = float_buffer({0.1f, -kInf, 0.3f});
    expect_invalid(spec, {"tensor 2 'conv.b'", "constant value 1 is not finite"});
  }
}

TEST_CASE("loader: quantization parameters") {
  ModelSpec spec = ModelSpec::baseline();
  TensorSpec& t = spec.tensors[3];  // conv.out [1,4,4,3]
  SECTION("scale zero") {
    t.quant = QuantSpec{{0.f}, {}, -1, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "scale must be finite and positive, found 0.0"});
  }
  SECTION("scale negative") {
    t.quant = QuantSpec{{-0.5f}, {}, -1, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "found -0.5"});
  }
  SECTION("scale NaN") {
    t.quant = QuantSpec{{kNaN}, {}, -1, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "scale must be finite and positive, found nan"});
  }
  SECTION("no scale") {
    t.quant = QuantSpec{{}, {}, -1, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "quantization has no scale"});
    t.quant = QuantSpec{{}, {}, -1, {}, true};
    expect_invalid(spec, {"tensor 3 'conv.out'", "quantization has no scale"});
  }
  SECTION("scales as halves and as floats at once") {
    t.quant = QuantSpec{{0.5f}, {}, -1, {0x3800}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "both scale and scale_f16"});
  }
  SECTION("half scales that are NaN, infinite, zero or negative") {
    for (const auto& [half, text] :
         std::vector<std::pair<uint16_t, std::string>>{{0x7e00, "found nan"},
                                                       {0x7c00, "found inf"},
                                                       {0x0000, "found 0.0"},
                                                       {0xb800, "found -0.5"}}) {
      t.quant = QuantSpec{{}, {}, 3, {0x3800, half, 0x3800}, true};
      expect_invalid(spec, {"tensor 3 'conv.out'", text});
    }
  }
  SECTION("half scales count like float scales") {
    t.quant = QuantSpec{{}, {}, 3, {0x3800, 0x3400}, true};
    expect_invalid(spec, {"tensor 3 'conv.out'", "2 scales for 3 channels along axis 3"});
  }
  SECTION("per-tensor with several scales") {
    t.quant = QuantSpec{{0.5f, 0.25f}, {}, -1, {}, false};
    expect_invalid(spec,
                   {"tensor 3 'conv.out'", "per-tensor quantization (axis -1) with 2 scales"});
  }
  SECTION("per-channel scale count not matching the channels") {
    t.quant = QuantSpec{{0.5f, 0.25f}, {}, 3, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "2 scales for 3 channels along axis 3"});
  }
  SECTION("zero point count not matching the scales") {
    t.quant = QuantSpec{{0.5f}, {0, 1}, -1, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "2 zero points for 1 scales"});
  }
  SECTION("axis past the rank") {
    t.quant = QuantSpec{{0.5f}, {}, 4, {}, false};
    expect_invalid(
        spec, {"tensor 3 'conv.out'", "quantization axis 4 is out of range for shape [1,4,4,3]"});
  }
  SECTION("negative axis other than -1") {
    t.quant = QuantSpec{{0.5f}, {}, -2, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "quantization axis -2"});
  }
  SECTION("int8 zero point out of range") {
    t.type = sc::ElementType::I8;
    t.quant = QuantSpec{{0.5f}, {200}, -1, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "zero point 200 is out of range for i8"});
  }
  SECTION("uint8 zero point out of range") {
    t.type = sc::ElementType::U8;
    t.quant = QuantSpec{{0.5f, 0.5f, 0.5f}, {0, -1, 3}, 3, {}, false};
    expect_invalid(spec, {"tensor 3 'conv.out'", "zero point -1 is out of range for u8"});
  }
}

TEST_CASE("loader: operators and options") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("unknown operator kind") {
    spec.node("relu").op = static_cast<sc::OpKind>(200);
    expect_invalid(spec, {"node 1 'relu'", "unknown operator kind 200", "newer producer"});
  }
  SECTION("unknown options type") {
    spec.node("relu").options_type = static_cast<sc::OpOptions>(77);
    expect_invalid(spec, {"node 1 'relu'", "unknown options type 77"});
  }
  SECTION("options of another operator") {
    NodeSpec& conv = spec.node("conv");
    conv.options_type = sc::OpOptions::ClampOptions;
    conv.options = clamp_options(0.f, 1.f);
    expect_invalid(spec,
                   {"node 0 'conv' (CONV_2D)", "options are ClampOptions, expected Conv2DOptions"});
  }
  SECTION("required options missing") {
    NodeSpec& conv = spec.node("conv");
    conv.options_type = sc::OpOptions::NONE;
    conv.options = nullptr;
    expect_invalid(spec, {"node 0 'conv' (CONV_2D)", "options are NONE, expected Conv2DOptions"});
  }
  SECTION("convolution weights that are not constant") {
    // The weights become a second model input: shaped right, but not constant.
    spec.tensors[1].buffer = 0;
    spec.inputs.push_back({1, std::nullopt});
    expect_invalid(spec, {"node 0 'conv' (CONV_2D)", "weights must be a constant tensor"});
  }
  SECTION("declared output shape differs from the inferred one") {
    spec.tensors[3].shape = {1, 4, 4, 5};
    expect_invalid(spec, {"node 0 'conv' (CONV_2D)", "output 'conv.out' is declared [1,4,4,5]",
                          "the operator produces [1,4,4,3]"});
  }
  SECTION("declared spatial size differs from the stride's") {
    spec.node("conv").options = conv_options(2);
    expect_invalid(spec, {"node 0 'conv'", "declared [1,4,4,3]", "produces [1,2,2,3]"});
  }
  SECTION("weights' input channels differ from the input's") {
    spec.tensors[1].shape = {3, 1, 1, 5};
    spec.buffers[0] = float_buffer(std::vector<float>(15, 0.5f));
    expect_invalid(spec, {"node 0 'conv' (CONV_2D)", "weights [3,1,1,5] expect 5 input channels",
                          "input has 2"});
  }
  SECTION("groups not dividing the channels") {
    spec.node("conv").options = conv_options(1, 3);
    expect_invalid(spec, {"node 0 'conv'", "input channels 2 are not divisible by groups 3"});
  }
  SECTION("bias with the wrong element count") {
    spec.tensors[2].shape = {4};
    spec.buffers[1] = float_buffer({0.f, 0.f, 0.f, 0.f});
    expect_invalid(spec, {"node 0 'conv'", "bias must have 3 elements, found shape [4]"});
  }
  SECTION("too few inputs") {
    spec.node("conv").inputs = {0};
    expect_invalid(spec, {"node 0 'conv'", "expects 2..3 inputs, found 1"});
  }
  SECTION("negative stride") {
    spec.node("conv").options = conv_options(-1);
    expect_invalid(spec, {"node 0 'conv'", "stride_h must be positive, found -1"});
  }
  SECTION("empty clamp range") {
    spec.node("relu").options = clamp_options(1.f, -1.f);
    expect_invalid(spec, {"node 1 'relu' (CLAMP)", "clamp range [1.0", "empty, NaN or infinite"});
  }
  SECTION("clamp range excluding every finite value") {
    spec.node("relu").options = clamp_options(kInf, kInf);
    expect_invalid(spec, {"node 1 'relu' (CLAMP)", "clamp range [inf, inf]"});
  }
  SECTION("fused activation range with a NaN bound") {
    spec.node("conv").options = [](fb::FlatBufferBuilder& b) {
      const sc::Activation act(kNaN, 6.f);
      return sc::CreateConv2DOptions(b, 1, 1, 1, 1, 0, 0, 0, 0, 1, &act).Union();
    };
    expect_invalid(spec, {"node 0 'conv' (CONV_2D)", "fused activation range [nan, 6.0"});
  }
}

TEST_CASE("loader: graph structure") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("two nodes write the same tensor") {
    spec.node("relu").outputs = {3};
    expect_invalid(spec,
                   {"node 1 'relu'", "tensor 3 'conv.out' is already written by node 'conv'"});
  }
  SECTION("a node writes a constant") {
    spec.node("relu").outputs = {1};
    expect_invalid(spec, {"node 1 'relu'", "writes constant tensor 1 'conv.w'"});
  }
  SECTION("a node writes a model input") {
    spec.node("relu").outputs = {0};
    expect_invalid(spec, {"input 0", "tensor 'image' is written by node 'relu'"});
  }
  SECTION("a model input is a constant") {
    spec.inputs.push_back({2, std::nullopt});
    expect_invalid(spec, {"input 1", "tensor 'conv.b' is constant"});
  }
  SECTION("a tensor is read but never written") {
    const int orphan = spec.add_tensor(tensor_spec("orphan", {1, 4, 4, 3}));
    spec.node("relu").inputs = {orphan};
    expect_invalid(spec, {"node 1 'relu'", "reads tensor 6 'orphan'",
                          "neither constant, a model input, nor written"});
  }
  SECTION("a cycle between two nodes") {
    spec.node("relu").inputs = {5};  // relu reads pool.out, pool reads relu.out
    expect_invalid(spec, {"cycle", "'relu'"});
  }
  SECTION("a node reading its own output") {
    spec.node("relu").inputs = {4};
    expect_invalid(spec, {"cycle through node 1 'relu'"});
  }
}

TEST_CASE("loader: inputs and tasks") {
  ModelSpec spec = ModelSpec::baseline();
  SECTION("task output not produced by any node") {
    spec.tasks[0].outputs[0].second = 1;
    expect_invalid(
        spec, {"task 0 'features' output 'map'", "tensor 'conv.w' is not produced by any node"});
  }
  SECTION("task output that is a model input") {
    spec.tasks[0].outputs[0].second = 0;
    expect_invalid(
        spec, {"task 0 'features' output 'map'", "tensor 'image' is not produced by any node"});
  }
  SECTION("duplicate task names") {
    spec.tasks[1].name = "features";
    expect_invalid(spec, {"task 1 'features'", "duplicate task name"});
  }
  SECTION("duplicate output names in a task") {
    spec.tasks[0].outputs.push_back({"map", 5});
    expect_invalid(spec, {"task 0 'features' output 'map'", "duplicate output name"});
  }
  SECTION("task with no outputs") {
    spec.tasks[1].outputs.clear();
    expect_invalid(spec, {"task 1 'summary'", "no outputs"});
  }
  SECTION("task with an empty name") {
    spec.tasks[1].name = "";
    expect_invalid(spec, {"task 1 ''", "empty name"});
  }
  SECTION("task output with an empty name") {
    spec.tasks[1].outputs[0].first = "";
    expect_invalid(spec, {"task 1 'summary' output ''", "empty output name"});
  }
  SECTION("unknown post-processing activation") {
    spec.tasks[0].post_activation = static_cast<sc::OutputActivation>(-2);
    expect_invalid(spec, {"task 0 'features'", "unknown output activation -2"});
  }
  SECTION("input tensor with an empty name") {
    spec.tensors[0].name = "";
    expect_invalid(spec, {"input 0", "tensor 0 has an empty name"});
  }
  SECTION("task with a rate of 0") {
    spec.tasks[1].rate = 0;
    expect_invalid(spec, {"task 1 'summary'", "rate must be at least 1, found 0"});
  }
  SECTION("unknown task kind") {
    spec.tasks[1].kind = static_cast<sc::TaskKind>(40);
    expect_invalid(spec, {"task 1 'summary'", "unknown task kind 40"});
  }
  SECTION("no tasks") {
    spec.tasks.clear();
    expect_invalid(spec, {"the model declares no tasks"});
  }
  SECTION("duplicate input names") {
    const int other = spec.add_tensor(tensor_spec("image", {1, 4, 4, 2}));
    spec.inputs.push_back({other, std::nullopt});
    expect_invalid(spec, {"input 1", "duplicate input name 'image'"});
  }
  SECTION("the same input listed twice") {
    spec.inputs.push_back({0, std::nullopt});
    expect_invalid(spec, {"input 1", "duplicate input name 'image'"});
  }
  SECTION("pre-processing std of 0") {
    spec.inputs[0].preprocess->std = {0.25f, 0.f};
    expect_invalid(spec, {"input 0 'image'", "pre-processing std is 0"});
  }
  SECTION("pre-processing mean count not matching the channels") {
    spec.inputs[0].preprocess->mean = {0.5f, 0.5f, 0.5f};
    expect_invalid(spec,
                   {"input 0 'image'", "pre-processing has 3 mean/std values for 2 channels"});
  }
  SECTION("pre-processing NaN mean") {
    spec.inputs[0].preprocess->mean = {kNaN};
    expect_invalid(spec, {"input 0 'image'", "not finite"});
  }
  SECTION("pre-processing pixel_scale 0") {
    spec.inputs[0].preprocess->pixel_scale = 0.f;
    expect_invalid(spec, {"input 0 'image'", "pixel_scale must be positive, found 0.0"});
  }
  SECTION("pre-processing negative size") {
    spec.inputs[0].preprocess->width = -4;
    expect_invalid(spec, {"input 0 'image'", "negative pre-processing size"});
  }
  SECTION("pre-processing unknown layout") {
    spec.inputs[0].preprocess->layout = static_cast<sc::Layout>(5);
    expect_invalid(spec, {"input 0 'image'", "unknown layout"});
  }
  SECTION("pre-processing negative colour order") {
    spec.inputs[0].preprocess->color = static_cast<sc::ColorOrder>(-1);
    expect_invalid(spec, {"input 0 'image'", "colour order"});
  }
}

TEST_CASE("loader: hostile detection anchors, as a list or as grids") {
  ModelSpec spec = ModelSpec::baseline();
  // One grid (rows, cols, offsets, sizes) as the only anchors of task 0.
  auto grids = [&](std::vector<std::tuple<int, int, float, std::vector<float>>> gs) {
    spec.tasks[0].post_writer = [gs](fb::FlatBufferBuilder& b) {
      std::vector<fb::Offset<sc::AnchorGrid>> tables;
      for (const auto& [rows, cols, offset, sizes] : gs) {
        const auto v = b.CreateVector(sizes);
        tables.push_back(sc::CreateAnchorGrid(b, rows, cols, offset, 0.5f, v));
      }
      const auto vec = b.CreateVector(tables);
      return sc::CreatePostProcess(b, sc::OutputActivation::NONE, 0, 0.5f, 0.45f, 100, 0, vec);
    };
  };
  SECTION("a list that is not whole anchors") {
    spec.tasks[0].post_writer = [](fb::FlatBufferBuilder& b) {
      const auto v = b.CreateVector(std::vector<float>{0.5f, 0.5f, 1.f});
      return sc::CreatePostProcess(b, sc::OutputActivation::NONE, 0, 0.5f, 0.45f, 100, v);
    };
    expect_invalid(spec, {"task 0 'features'", "anchors hold 3 floats, not a multiple of 4"});
  }
  SECTION("both a list and grids") {
    spec.tasks[0].post_writer = [](fb::FlatBufferBuilder& b) {
      const auto sizes = b.CreateVector(std::vector<float>{1.f, 1.f});
      const std::vector<fb::Offset<sc::AnchorGrid>> g = {
          sc::CreateAnchorGrid(b, 2, 2, 0.5f, 0.5f, sizes)};
      const auto vec = b.CreateVector(g);
      const auto list = b.CreateVector(std::vector<float>{0.5f, 0.5f, 1.f, 1.f});
      return sc::CreatePostProcess(b, sc::OutputActivation::NONE, 0, 0.5f, 0.45f, 100, list, vec);
    };
    expect_invalid(spec, {"task 0 'features'", "both anchors and anchor_grids"});
  }
  SECTION("a grid of 0 rows") {
    grids({{0, 4, 0.5f, {1.f, 1.f}}});
    expect_invalid(spec, {"task 0 'features'", "anchor grid 0 has 0 rows and 4 columns"});
  }
  SECTION("a grid of negative columns") {
    grids({{2, 2, 0.5f, {1.f, 1.f}}, {4, -3, 0.5f, {1.f, 1.f}}});
    expect_invalid(spec, {"anchor grid 1 has 4 rows and -3 columns"});
  }
  SECTION("a grid whose sizes are not (height, width) pairs") {
    grids({{2, 2, 0.5f, {1.f, 1.f, 0.5f}}});
    expect_invalid(spec, {"anchor grid 0 has 3 size values"});
  }
  SECTION("a grid without sizes") {
    grids({{2, 2, 0.5f, {}}});
    expect_invalid(spec, {"anchor grid 0 has 0 size values"});
  }
  SECTION("a grid with a NaN offset") {
    grids({{2, 2, kNaN, {1.f, 1.f}}});
    expect_invalid(spec, {"anchor grid 0 has a non-finite offset"});
  }
  SECTION("grids that would make billions of anchors from a few bytes") {
    grids({{65536, 65536, 0.5f, {1.f, 1.f}}});
    expect_invalid(spec, {"anchor grid 0", "more than the 1048576 anchors"});
    grids({{1024, 1024, 0.5f, {1.f, 1.f}}, {1, 1, 0.5f, {1.f, 1.f}}});
    expect_invalid(spec, {"anchor grid 1", "more than the 1048576 anchors"});
    grids({{std::numeric_limits<int>::max(), std::numeric_limits<int>::max(), 0.5f,
            std::vector<float>(64, 1.f)}});
    expect_invalid(spec, {"anchor grid 0", "more than the 1048576 anchors"});
  }
  SECTION("valid grids expand in order") {
    grids({{2, 1, 0.5f, {1.f, 2.f}}, {1, 2, 0.f, {3.f, 4.f, 5.f, 6.f}}});
    AlignedBytes aligned(spec.serialize());
    auto model = Model::from_buffer(aligned.data.get(), aligned.size);
    REQUIRE(model.is_ok());
    const std::vector<float> want = {0.25f, 0.5f,  1.f, 2.f, 0.75f, 0.5f,  1.f, 2.f,
                                     0.f,   0.25f, 3.f, 4.f, 0.f,   0.25f, 5.f, 6.f,
                                     0.f,   0.75f, 3.f, 4.f, 0.f,   0.75f, 5.f, 6.f};
    CHECK(model->tasks()[0].postprocess.anchors == want);
  }
}

TEST_CASE("loader: from_buffer argument checks") {
  const auto bytes = ModelSpec::baseline().serialize();
  std::vector<uint8_t> storage(bytes.size() + 128);
  SECTION("unaligned pointer") {
    uint8_t* base = storage.data();
    while (reinterpret_cast<uintptr_t>(base) % 64 != 8) ++base;
    std::memcpy(base, bytes.data(), bytes.size());
    auto m = Model::from_buffer(base, bytes.size());
    expect_status(m.status(), ErrorCode::kInvalidArgument, {"64-byte aligned", "offset 8"});
  }
  SECTION("null pointer with a size") {
    auto m = Model::from_buffer(nullptr, 100);
    expect_status(m.status(), ErrorCode::kInvalidArgument, {"null"});
  }
  SECTION("null pointer with size 0") {
    auto m = Model::from_buffer(nullptr, 0);
    expect_status(m.status(), ErrorCode::kInvalidModel, {"0 bytes is too short"});
  }
}

TEST_CASE("loader: a valid model round-trips through a file") {
  ModelBuilder b;
  Preprocess pre;
  pre.width = 8;
  pre.height = 8;
  pre.color = ColorOrder::kBgr;
  pre.mean = {0.485f, 0.456f, 0.406f};
  pre.std = {0.229f, 0.224f, 0.225f};
  pre.pixel_scale = 1.f;
  const int x = b.add_input("image", Shape{1, 8, 8, 3}, pre);
  const int w = testing::random_constant(b, "stem.w", Shape{4, 3, 3, 3}, 11, 0.5f);
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  auto stem = b.conv2d("stem", x, w, -1, c);
  REQUIRE(stem.is_ok());
  auto pooled = b.mean("pool", *stem, false);
  REQUIRE(pooled.is_ok());
  PostProcessParams post;
  post.activation = OutputActivation::kSoftmax;
  post.labels = {"a", "b", "c", "d"};
  REQUIRE(
      b.add_task("classify", TaskKind::kClassification, {{"logits", *pooled}}, post, 5, 2).is_ok());
  REQUIRE(b.add_task("features", TaskKind::kEmbedding, {{"map", *stem}, {"vec", *pooled}}).is_ok());
  b.set_producer("loader-test 1.2.3");
  b.set_description("round trip");
  b.add_metadata("license", "Apache-2.0");
  b.add_metadata("source", "unit test");

  TempDir dir;
  const std::string path = dir / "roundtrip.phm";
  REQUIRE(b.write(path).is_ok());
  auto model = Model::load_file(path);
  REQUIRE(model.is_ok());

  CHECK(model->format_version_major() == kFormatVersionMajor);
  CHECK(model->format_version_minor() == kFormatVersionMinor);
  CHECK(model->producer() == "loader-test 1.2.3");
  CHECK(model->description() == "round trip");
  CHECK(model->metadata("license") == "Apache-2.0");
  CHECK(model->metadata("source") == "unit test");
  CHECK(model->metadata("missing").empty());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(model->file_bytes() == static_cast<size_t>(st.st_size));

  REQUIRE(model->inputs().size() == 1);
  const InputInfo& in = model->inputs()[0];
  CHECK(in.name == "image");
  CHECK(in.shape == Shape{1, 8, 8, 3});
  CHECK(in.type == ElementType::kF32);
  CHECK(in.preprocess.width == 8);
  CHECK(in.preprocess.height == 8);
  CHECK(in.preprocess.layout == Layout::kNhwc);
  CHECK(in.preprocess.color == ColorOrder::kBgr);
  CHECK(in.preprocess.mean == pre.mean);
  CHECK(in.preprocess.std == pre.std);
  CHECK(in.preprocess.pixel_scale == 1.f);

  REQUIRE(model->tasks().size() == 2);
  const TaskInfo& t0 = model->tasks()[0];
  CHECK(t0.name == "classify");
  CHECK(t0.kind == TaskKind::kClassification);
  CHECK(t0.priority == 5);
  CHECK(t0.rate == 2);
  REQUIRE(t0.outputs.size() == 1);
  CHECK(t0.outputs[0].name == "logits");
  CHECK(t0.outputs[0].tensor == "pool");
  CHECK(t0.outputs[0].shape == Shape{1, 4});
  CHECK(t0.outputs[0].type == ElementType::kF32);
  const TaskInfo& t1 = model->tasks()[1];
  CHECK(t1.name == "features");
  CHECK(t1.kind == TaskKind::kEmbedding);
  REQUIRE(t1.outputs.size() == 2);
  CHECK(t1.outputs[0].name == "map");
  CHECK(t1.outputs[0].shape == Shape{1, 8, 8, 4});
  CHECK(t1.outputs[1].name == "vec");

  // The loaded file runs.
  auto engine = Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  const auto image = testing::random_values(8 * 8 * 3, 5);
  REQUIRE(plan->set_input("image", image.data(), image.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  CHECK(plan->output("features", "map").is_ok());
}

TEST_CASE("loader: public API caller errors name what is wrong") {
  AlignedBytes bytes(testing::tiny_two_task_model());
  auto model = Model::from_buffer(bytes.data.get(), bytes.size);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model);
  REQUIRE(engine.is_ok());
  const auto image = testing::random_values(8 * 8 * 3, 3);

  SECTION("Engine::create options") {
    EngineOptions o;
    o.threads = 2000;
    expect_status(Engine::create(*model, o).status(), ErrorCode::kInvalidArgument,
                  {"threads", "1024", "2000"});
    o.threads = 1;
    o.plan_cache_capacity = 0;
    expect_status(Engine::create(*model, o).status(), ErrorCode::kInvalidArgument,
                  {"plan_cache_capacity", "found 0"});
  }
  SECTION("prepare: unknown task lists the available ones") {
    expect_status(engine->prepare({"detect"}).status(), ErrorCode::kNotFound,
                  {"unknown task 'detect'", "'classify'", "'segment'"});
  }
  SECTION("prepare: duplicate task") {
    expect_status(engine->prepare({"classify", "classify"}).status(), ErrorCode::kInvalidArgument,
                  {"task 'classify' is listed twice"});
  }
  SECTION("set_input") {
    auto plan = engine->prepare();
    REQUIRE(plan.is_ok());
    expect_status(plan->set_input("image", image.data(), 10), ErrorCode::kInvalidArgument,
                  {"input 'image'", "[1,8,8,3]", "takes 192 floats", "got 10"});
    expect_status(plan->set_input("pixels", image.data(), image.size()), ErrorCode::kNotFound,
                  {"unknown input 'pixels'", "'image'"});
    expect_status(plan->set_input("image", nullptr, image.size()), ErrorCode::kInvalidArgument,
                  {"input 'image'", "null"});
    // A failed set_input leaves the input unset.
    expect_status(plan->run(), ErrorCode::kInvalidArgument,
                  {"input 'image' was not set before run()"});
  }
  SECTION("run before set_input names the missing input") {
    auto plan = engine->prepare();
    REQUIRE(plan.is_ok());
    expect_status(plan->run(), ErrorCode::kInvalidArgument, {"input 'image'", "not set"});
    expect_status(plan->run({"classify"}), ErrorCode::kInvalidArgument,
                  {"input 'image'", "not set"});
  }
  SECTION("run with an unknown or unprepared task") {
    auto plan = engine->prepare({"classify"});
    REQUIRE(plan.is_ok());
    REQUIRE(plan->set_input("image", image.data(), image.size()).is_ok());
    expect_status(plan->run({"unknown"}), ErrorCode::kNotFound,
                  {"unknown task 'unknown'", "'classify'"});
    expect_status(plan->run({"segment"}), ErrorCode::kInvalidArgument,
                  {"task 'segment'", "not prepared in this plan", "'classify'"});
    REQUIRE(plan->run().is_ok());
  }
  SECTION("output errors") {
    auto plan = engine->prepare({"classify"});
    REQUIRE(plan.is_ok());
    REQUIRE(plan->set_input("image", image.data(), image.size()).is_ok());
    REQUIRE(plan->run().is_ok());
    expect_status(plan->output("segment", "mask").status(), ErrorCode::kNotFound,
                  {"task 'segment' is not in this plan", "'classify'"});
    expect_status(plan->output("nope", "logits").status(), ErrorCode::kNotFound, {"task 'nope'"});
    expect_status(plan->output("classify", "probabilities").status(), ErrorCode::kNotFound,
                  {"task 'classify' has no output 'probabilities'", "'logits'"});
    CHECK(plan->output("classify", "logits").is_ok());
  }
  SECTION("output of a task that did not run last") {
    auto plan = engine->prepare();
    REQUIRE(plan.is_ok());
    REQUIRE(plan->set_input("image", image.data(), image.size()).is_ok());
    expect_status(plan->output("classify", "logits").status(), ErrorCode::kInvalidArgument,
                  {"task 'classify' did not run"});
    REQUIRE(plan->run({"segment"}).is_ok());
    expect_status(plan->output("classify", "logits").status(), ErrorCode::kInvalidArgument,
                  {"task 'classify' did not run in the last run()"});
    CHECK(plan->output("segment", "mask").is_ok());
  }
}
