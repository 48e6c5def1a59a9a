// The operator table (polyhead/kernels/op_table.h): one entry per OpKind of the schema, lookups
// that refuse unknown kinds and names instead of defaulting, and today's answers the readers rely
// on (options, int8 support, format versions). Then ABS, the operator added by following
// docs/architecture.md ("Adding an operator"): its shape rule and MACs, the engine against the
// reference interpreter, the validator's options check, and the format version every writer
// records for a model that uses it (the builder here; the int8 rewrite and the merger when built).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/format_version.h"
#include "polyhead/kernels/op_table.h"
#include "polyhead/kernels/shape_inference.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/reference_interpreter.h"
#include "support/test_models.h"

#ifdef POLYHEAD_TEST_QUANTIZE
#include "offline/graph/source_graph.h"
#include "offline/quantize/int8_support.h"
#include "offline/quantize/model_writer.h"
#include "offline/quantize/quantized_writer.h"
#endif
#ifdef POLYHEAD_TEST_MERGE
#include "offline/merge/model_merger.h"
#endif

using namespace polyhead;
using kernels::Int8Support;
using kernels::op_info;
using schema::OpKind;
using schema::OpOptions;
using testing::random_values;

namespace {

namespace fb = flatbuffers;

int must(Result<int> r) {
  if (!r.is_ok()) FAIL("builder rejected a node: " << r.status().to_string());
  return r.is_ok() ? *r : -1;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::vector<OpKind> all_kinds() {
  std::vector<OpKind> kinds;
  for (int k = static_cast<int>(OpKind::MIN); k <= static_cast<int>(OpKind::MAX); ++k)
    kinds.push_back(static_cast<OpKind>(k));
  return kinds;
}

// The kinds whose entry satisfies `pred`.
template <typename Pred>
std::set<OpKind> kinds_where(Pred pred) {
  std::set<OpKind> out;
  for (OpKind k : all_kinds()) {
    auto info = op_info(k);
    REQUIRE(info.is_ok());
    if (pred(**info)) out.insert(k);
  }
  return out;
}

// One node on its own, as the shape rules read it.
struct NodeBuffer {
  fb::FlatBufferBuilder b;
  const schema::Node* node = nullptr;
};
void build_node(NodeBuffer& nb, OpKind op, size_t inputs) {
  std::vector<int> in(inputs);
  for (size_t i = 0; i < inputs; ++i) in[i] = static_cast<int>(i);
  nb.b.Finish(schema::CreateNode(nb.b, nb.b.CreateString("n"), op, OpOptions::NONE, 0,
                                 nb.b.CreateVector(in), nb.b.CreateVector(std::vector<int>{0})));
  nb.node = fb::GetRoot<schema::Node>(nb.b.GetBufferPointer());
}

std::vector<uint8_t> finish(ModelBuilder& b, int output) {
  const Status s = b.add_task("test", TaskKind::kOther, {{"y", output}});
  if (!s.is_ok()) FAIL("add_task: " << s.to_string());
  auto bytes = b.finish();
  if (!bytes.is_ok()) FAIL("finish: " << bytes.status().to_string());
  return *bytes;
}

// x [shape] -> ABS -> task "test" output "y".
std::vector<uint8_t> abs_model(const Shape& shape) {
  ModelBuilder b;
  const int x = b.add_input("x", shape);
  return finish(b, must(b.abs("abs", x)));
}

// Runs every task of the model with the engine and returns output "y" of task "test".
std::vector<float> run_engine(const std::vector<uint8_t>& bytes,
                              const std::map<std::string, std::vector<float>>& inputs,
                              const EngineOptions& options = {}) {
  auto model = Model::from_bytes(bytes);
  if (!model.is_ok()) FAIL("model rejected: " << model.status().to_string());
  auto engine = Engine::create(*model, options);
  if (!engine.is_ok()) FAIL("engine: " << engine.status().to_string());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL("prepare: " << plan.status().to_string());
  for (const auto& [name, values] : inputs)
    REQUIRE(plan->set_input(name, values.data(), values.size()).is_ok());
  const Status run = plan->run();
  if (!run.is_ok()) FAIL("run: " << run.to_string());
  auto view = plan->output("test", "y");
  REQUIRE(view.is_ok());
  REQUIRE(view->f32() != nullptr);
  return std::vector<float>(view->f32(), view->f32() + view->shape.elements());
}

// A model written field by field: x [1,4] -> one ABS node with options of type `type` -> task.
std::vector<uint8_t> raw_abs_model(OpOptions type) {
  fb::FlatBufferBuilder b;
  const auto shape = b.CreateVector(std::vector<int>{1, 4});
  const std::vector<fb::Offset<schema::Tensor>> tensors = {
      schema::CreateTensor(b, b.CreateString("x"), shape),
      schema::CreateTensor(b, b.CreateString("y"), shape)};
  fb::Offset<void> options = 0;
  if (type == OpOptions::ClampOptions) options = schema::CreateClampOptions(b, -1.f, 1.f).Union();
  if (type == OpOptions::LeakyReluOptions)
    options = schema::CreateLeakyReluOptions(b, 0.2f).Union();
  const std::vector<fb::Offset<schema::Node>> nodes = {
      schema::CreateNode(b, b.CreateString("abs"), OpKind::ABS, type, options,
                         b.CreateVector(std::vector<int>{0}), b.CreateVector(std::vector<int>{1}))};
  const std::vector<fb::Offset<schema::Input>> inputs = {schema::CreateInput(b, 0)};
  const std::vector<fb::Offset<schema::TaskOutput>> outs = {
      schema::CreateTaskOutput(b, b.CreateString("y"), 1)};
  const std::vector<fb::Offset<schema::Task>> tasks = {
      schema::CreateTask(b, b.CreateString("test"), schema::TaskKind::OTHER, b.CreateVector(outs))};
  b.Finish(
      schema::CreateModel(b, kFormatVersionMajor, kFormatVersionMinorLatest,
                          b.CreateString("test_op_table"), 0, b.CreateVector(tensors), 0,
                          b.CreateVector(nodes), b.CreateVector(inputs), b.CreateVector(tasks)),
      schema::ModelIdentifier());
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

}  // namespace

TEST_CASE("op table: every operator kind of the schema has its entry", "[op_table]") {
  uint32_t newest = 0;
  for (OpKind kind : all_kinds()) {
    INFO("operator kind " << static_cast<int>(kind));
    auto info = op_info(kind);
    REQUIRE(info.is_ok());
    const kernels::OpInfo& op = **info;
    CHECK(op.kind == kind);
    CHECK(std::string(op.name) == schema::EnumNameOpKind(kind));
    CHECK(kernels::op_kind_name(kind) == op.name);
    auto by_name = op_info(op.name);
    REQUIRE(by_name.is_ok());
    CHECK(*by_name == &op);
    CHECK(op.infer_shapes != nullptr);
    CHECK(op.count_macs != nullptr);
    CHECK(op.options <= OpOptions::MAX);
    if (op.options == OpOptions::NONE) CHECK_FALSE(op.options_optional);
    CHECK(op.since_minor <= kFormatVersionMinorLatest);
    newest = std::max(newest, op.since_minor);
  }
  // The newest operator is what made the newest minor version.
  CHECK(std::max({newest, kSparseConstantsSinceMinor, kImpliedBiasScalesSinceMinor,
                  kAnchorGridsSinceMinor}) == kFormatVersionMinorLatest);
}

TEST_CASE("op table: unknown kinds and names are errors, never defaults", "[op_table]") {
  for (int k : {static_cast<int>(OpKind::MAX) + 1, 200, 65535}) {
    INFO("operator kind " << k);
    const auto kind = static_cast<OpKind>(k);
    auto info = op_info(kind);
    REQUIRE_FALSE(info.is_ok());
    CHECK(info.status().code() == ErrorCode::kUnsupported);
    CHECK(contains(info.status().message(),
                   "unknown operator kind UNKNOWN(" + std::to_string(k) + ")"));
    CHECK(kernels::op_kind_name(kind) == "UNKNOWN(" + std::to_string(k) + ")");

    // The rules reached through the table say so too.
    NodeBuffer nb;
    build_node(nb, kind, 1);
    const std::vector<kernels::InputShape> in = {{true, Shape{1, 4}, false}};
    auto shapes = kernels::infer_output_shapes(*nb.node, in);
    REQUIRE_FALSE(shapes.is_ok());
    CHECK(shapes.status().code() == ErrorCode::kUnsupported);
    auto macs = kernels::count_macs(*nb.node, in, {Shape{1, 4}});
    REQUIRE_FALSE(macs.is_ok());
    CHECK(macs.status().code() == ErrorCode::kUnsupported);
  }
  for (const char* name : {"abs", "", "UNKNOWN(26)", "CONV_2D "}) {
    INFO("name '" << name << "'");
    auto info = op_info(name);
    REQUIRE_FALSE(info.is_ok());
    CHECK(info.status().code() == ErrorCode::kNotFound);
    CHECK(contains(info.status().message(), "'" + std::string(name) + "'"));
  }
}

TEST_CASE("op table: options, int8 support and versions as the readers had them", "[op_table]") {
  using K = OpKind;
  // Options tables that may be left out (the validator's former options_optional()).
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.options_optional; }) ==
        std::set<K>{K::FULLY_CONNECTED, K::ADD, K::SUB, K::MUL, K::DIV, K::MEAN, K::SOFTMAX,
                    K::CLAMP, K::LEAKY_RELU});
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.options == OpOptions::NONE; }) ==
        std::set<K>{K::HARD_SWISH, K::SIGMOID, K::TANH, K::PRELU, K::QUANTIZE, K::DEQUANTIZE,
                    K::ABS, K::SILU});
  CHECK(op_info(K::DEPTHWISE_CONV_2D).value()->options == OpOptions::Conv2DOptions);
  CHECK(op_info(K::AVERAGE_POOL_2D).value()->options == OpOptions::Pool2DOptions);
  CHECK(op_info(K::CONCATENATION).value()->options == OpOptions::ConcatenationOptions);

  // The kernel factory's, the quantizer's and the TFLite importer's former lists.
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.float_only(); }) ==
        std::set<K>{K::SOFTMAX, K::DIV, K::PRELU});
  CHECK(op_info(K::TRANSPOSE_CONV_2D).value()->int8 == Int8Support::kOwnQuantization);
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.shares_input_quantization(); }) ==
        std::set<K>{K::MAX_POOL_2D, K::RESIZE, K::RESHAPE, K::TRANSPOSE, K::DEPTH_TO_SPACE, K::PAD,
                    K::SLICE, K::CHANNEL_SHUFFLE});
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.int8 == Int8Support::kConversion; }) ==
        std::set<K>{K::QUANTIZE, K::DEQUANTIZE});
  CHECK(op_info(K::ABS).value()->has_int8_kernel());
  CHECK(op_info(K::CONCATENATION).value()->has_int8_kernel());
  CHECK_FALSE(op_info(K::CONCATENATION).value()->shares_input_quantization());
  CHECK_FALSE(op_info(K::QUANTIZE).value()->has_int8_kernel());
  CHECK_FALSE(op_info(K::QUANTIZE).value()->float_only());

  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.since_minor == 2; }) ==
        std::set<K>{K::QUANTIZE, K::DEQUANTIZE});
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.since_minor == 3; }) ==
        std::set<K>{K::ABS});
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.since_minor == 4; }) ==
        std::set<K>{K::SILU});
  CHECK(op_info(K::SILU).value()->has_int8_kernel());
  CHECK(kinds_where([](const kernels::OpInfo& o) { return o.since_minor == 5; }) ==
        std::set<K>{K::SLICE, K::CHANNEL_SHUFFLE});
  CHECK(op_info(K::SLICE).value()->options == OpOptions::SliceOptions);
  CHECK(op_info(K::CHANNEL_SHUFFLE).value()->options == OpOptions::ChannelShuffleOptions);

#ifdef POLYHEAD_TEST_QUANTIZE
  // The quantizer asks the table.
  for (OpKind kind : all_kinds()) {
    INFO(kernels::op_kind_name(kind));
    const kernels::OpInfo& op = *op_info(kind).value();
    CHECK(quantize::has_int8_kernel(kind) == op.has_int8_kernel());
    CHECK(quantize::shares_input_quantization(kind) == op.shares_input_quantization());
    CHECK(std::string(quantize::op_name(kind)) == op.name);
  }
  CHECK(std::string(quantize::op_name(static_cast<OpKind>(200))) == "UNKNOWN");
  CHECK_FALSE(quantize::has_int8_kernel(static_cast<OpKind>(200)));
#endif
}

TEST_CASE("ABS: shape rule, MACs and builder errors", "[op_table][abs]") {
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{1, 4, 6, 3}, Shape{2, 1, 3, 1, 2, 2}}) {
    INFO("shape " << s.to_string());
    NodeBuffer nb;
    build_node(nb, OpKind::ABS, 1);
    const std::vector<kernels::InputShape> in = {{true, s, false}};
    auto out = kernels::infer_output_shapes(*nb.node, in);
    REQUIRE(out.is_ok());
    CHECK(*out == std::vector<Shape>{s});
    auto macs = kernels::count_macs(*nb.node, in, *out);
    REQUIRE(macs.is_ok());
    CHECK(*macs == static_cast<uint64_t>(s.elements()));
  }
  NodeBuffer two;
  build_node(two, OpKind::ABS, 2);
  auto wrong = kernels::infer_output_shapes(
      *two.node, {{true, Shape{1, 4}, false}, {true, Shape{1, 4}, false}});
  REQUIRE_FALSE(wrong.is_ok());
  CHECK(contains(wrong.status().message(), "expects 1 inputs, found 2"));

  ModelBuilder b;
  const int scalar = b.add_input("scalar", Shape{});
  auto r = b.abs("abs", scalar);
  REQUIRE_FALSE(r.is_ok());
  INFO(r.status().message());
  CHECK(contains(r.status().message(), "node 'abs' (ABS)"));
  CHECK(contains(r.status().message(), "rank >= 1"));
}

TEST_CASE("ABS: the engine matches the reference interpreter", "[op_table][abs]") {
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{1, 4, 6, 3}, Shape{2, 3, 4, 5, 2}}) {
    INFO("shape " << s.to_string());
    const std::vector<uint8_t> bytes = abs_model(s);
    std::vector<float> x = random_values(static_cast<size_t>(s.elements()), 41, 3.f);
    x[0] = -0.f;  // |-0| is +0
    if (x.size() > 2) x[1] = -std::numeric_limits<float>::infinity();
    const std::map<std::string, std::vector<float>> inputs = {{"x", x}};
    const std::vector<float> want = testing::reference_run(bytes, inputs).at("abs");
    for (size_t threads : {size_t{1}, size_t{2}}) {
      INFO("threads " << threads);
      EngineOptions o;
      o.threads = threads;
      const std::vector<float> got = run_engine(bytes, inputs, o);
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i << " of input " << x[i]);
        CHECK(got[i] == want[i]);  // |x| is exact
        CHECK_FALSE(std::signbit(got[i]));
      }
    }
  }

  // Inside a graph: conv -> ABS -> mean, against the reference within float rounding.
  ModelBuilder b;
  const int image = b.add_input("image", Shape{1, 6, 6, 3});
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  const int conv = must(b.conv2d("conv", image,
                                 testing::random_constant(b, "conv.w", Shape{4, 3, 3, 3}, 5, 0.5f),
                                 testing::random_constant(b, "conv.b", Shape{4}, 6, 0.2f), c));
  const int a = must(b.abs("abs", conv));
  const std::vector<uint8_t> bytes = finish(b, must(b.mean("mean", a, false)));
  const std::map<std::string, std::vector<float>> inputs = {{"image", random_values(108, 43, 1.f)}};
  const std::vector<float> want = testing::reference_run(bytes, inputs).at("mean");
  const std::vector<float> got = run_engine(bytes, inputs);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-5));
}

TEST_CASE("ABS: the loader names a node whose options are not NONE", "[op_table][abs]") {
  auto ok = Model::from_bytes(raw_abs_model(OpOptions::NONE));
  INFO((ok.is_ok() ? std::string("loaded") : ok.status().to_string()));
  REQUIRE(ok.is_ok());
  CHECK(ok->format_version_minor() == kFormatVersionMinorLatest);

  for (OpOptions type : {OpOptions::ClampOptions, OpOptions::LeakyReluOptions}) {
    const std::string name = schema::EnumNameOpOptions(type);
    INFO(name);
    auto bad = Model::from_bytes(raw_abs_model(type));
    REQUIRE_FALSE(bad.is_ok());
    CHECK(bad.status().code() == ErrorCode::kInvalidModel);
    CHECK(contains(bad.status().message(),
                   "node 0 'abs' (ABS): options are " + name + ", expected NONE"));
  }
}

TEST_CASE("ABS: writers record format 1.3 only for models that use it", "[op_table][abs]") {
  auto with_abs = Model::from_bytes(abs_model(Shape{1, 4}));
  REQUIRE(with_abs.is_ok());
  CHECK(with_abs->format_version_major() == kFormatVersionMajor);
  CHECK(with_abs->format_version_minor() == 3);

  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4});
  auto without = Model::from_bytes(finish(b, must(b.unary("sigmoid", UnaryOp::kSigmoid, x))));
  REQUIRE(without.is_ok());
  CHECK(without->format_version_minor() == kFormatVersionMinor);
  CHECK(kFormatVersionMinor == 2);

  // every_operator_model has every kind the builder writes, ABS, SILU (1.4), SLICE and
  // CHANNEL_SHUFFLE (1.5) among them.
  auto every = Model::from_bytes(testing::every_operator_model());
  REQUIRE(every.is_ok());
  CHECK(every->format_version_minor() == 5);
}

TEST_CASE("SILU: the engine matches the reference interpreter; writers record format 1.4",
          "[op_table][silu]") {
  for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{1, 4, 6, 3}, Shape{2, 3, 4, 5, 2}}) {
    INFO("shape " << s.to_string());
    ModelBuilder b;
    const int x = b.add_input("x", s);
    const std::vector<uint8_t> bytes = finish(b, must(b.silu("silu", x)));
    auto model = Model::from_bytes(bytes);
    REQUIRE(model.is_ok());
    CHECK(model->format_version_minor() == 4);
    std::vector<float> v = random_values(static_cast<size_t>(s.elements()), 47, 6.f);
    // The ends of the range: silu(-100) is -0 to float precision, silu(100) is 100, and 0 and
    // infinities stay defined.
    const float inf = std::numeric_limits<float>::infinity();
    const float edges[] = {-100.f, 100.f, 0.f, -inf, inf, -88.5f, 88.5f};
    for (size_t i = 0; i < v.size() && i < std::size(edges); ++i) v[i] = edges[i];
    const std::map<std::string, std::vector<float>> inputs = {{"x", v}};
    const std::vector<float> want = testing::reference_run(bytes, inputs).at("silu");
    for (size_t threads : {size_t{1}, size_t{2}}) {
      INFO("threads " << threads);
      EngineOptions o;
      o.threads = threads;
      const std::vector<float> got = run_engine(bytes, inputs, o);
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i << " of input " << v[i]);
        if (std::isinf(v[i])) {
          CHECK(got[i] == want[i]);  // silu(inf) = inf, silu(-inf) = -0
        } else {
          CHECK(got[i] == Approx(want[i]).epsilon(2e-6).margin(1e-30));
        }
      }
    }
  }
  ModelBuilder b;
  const int scalar = b.add_input("scalar", Shape{});
  auto r = b.silu("silu", scalar);
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "node 'silu' (SILU)"));
}

namespace {

// x [shape] -> SLICE -> task "test" output "y".
Result<std::vector<uint8_t>> slice_model(const Shape& shape, const std::vector<int>& begin,
                                         const std::vector<int>& size,
                                         const std::vector<int>& step) {
  ModelBuilder b;
  const int x = b.add_input("x", shape);
  PH_ASSIGN_OR_RETURN(int y, b.slice("slice", x, begin, size, step));
  PH_RETURN_IF_ERROR(b.add_task("test", TaskKind::kOther, {{"y", y}}));
  return b.finish();
}

}  // namespace

TEST_CASE("SLICE: the engine matches the reference interpreter; writers record format 1.5",
          "[op_table][slice]") {
  struct Case {
    Shape in;
    std::vector<int> begin, size, step;
  };
  const Case cases[] = {
      {Shape{1, 6, 5, 8}, {0, 0, 0, 4}, {1, 6, 5, 4}, {}},              // NHWC channel half
      {Shape{1, 6, 5, 8}, {0, 0, 0, 1}, {1, 6, 5, 4}, {1, 1, 1, 2}},    // odd channels
      {Shape{2, 6, 5, 3}, {1, 5, 4, 0}, {1, 3, 5, 3}, {1, -2, -1, 1}},  // backwards
      {Shape{9}, {8}, {9}, {-1}},                                       // reversed
      {Shape{3, 4, 5}, {1, 1, 2}, {2, 2, 1}, {}},
      {Shape{2, 3, 2, 3, 2, 3}, {1, 0, 1, 2, 0, 1}, {1, 2, 1, 3, 2, 2}, {1, 2, 1, -1, 1, 1}},
  };
  for (const Case& c : cases) {
    INFO(c.in.to_string() << " begin " << ::Catch::Detail::stringify(c.begin));
    auto bytes = slice_model(c.in, c.begin, c.size, c.step);
    INFO((bytes.is_ok() ? std::string("built") : bytes.status().to_string()));
    REQUIRE(bytes.is_ok());
    auto model = Model::from_bytes(*bytes);
    REQUIRE(model.is_ok());
    CHECK(model->format_version_minor() == 5);
    const std::map<std::string, std::vector<float>> inputs = {
        {"x", random_values(static_cast<size_t>(c.in.elements()), 51, 3.f)}};
    const std::vector<float> want = testing::reference_run(*bytes, inputs).at("slice");
    for (size_t threads : {size_t{1}, size_t{2}}) {
      INFO("threads " << threads);
      EngineOptions o;
      o.threads = threads;
      CHECK(run_engine(*bytes, inputs, o) == want);  // values are copied, exactly
    }
  }
  // Shape rule and MACs: one per output element.
  auto bytes = slice_model(Shape{1, 7, 7, 5}, {0, 1, 1, 1}, {1, 2, 3, 2}, {1, 3, 2, 2});
  REQUIRE(bytes.is_ok());
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  const schema::Node* node = schema::GetModel(bytes->data())->nodes()->Get(0);
  const std::vector<kernels::InputShape> in = {{true, Shape{1, 7, 7, 5}, false}};
  auto out = kernels::infer_output_shapes(*node, in);
  REQUIRE(out.is_ok());
  CHECK(*out == std::vector<Shape>{Shape{1, 2, 3, 2}});
  auto macs = kernels::count_macs(*node, in, *out);
  REQUIRE(macs.is_ok());
  CHECK(*macs == 12);
}

TEST_CASE("SLICE: windows outside the input are refused naming the node and the values",
          "[op_table][slice]") {
  struct Bad {
    std::vector<int> begin, size, step;
    const char* message;
  };
  const Bad cases[] = {
      {{0, 4}, {1, 2}, {}, "begin 4, size 2, step 1 reads outside [0, 5)"},  // past the end
      {{0, -1}, {1, 2}, {}, "begin -1"},                                     // before the start
      {{0, 1}, {1, 2}, {1, -2}, "begin 1, size 2, step -2 reads outside"},   // backwards too far
      {{0, 1}, {1, 0}, {}, "size 0"},                                        // empty
      {{0, 1}, {1, 2}, {1, 0}, "step 0"},                                    // no step
      {{0}, {1}, {}, "begin/size/step have 1/1/2 entries for an input of rank 2"},
      {{0, 0}, {1, 2}, {1}, "begin/size/step have 2/2/1 entries"},
  };
  for (const Bad& c : cases) {
    INFO(c.message);
    auto bytes = slice_model(Shape{1, 5}, c.begin, c.size, c.step);
    REQUIRE_FALSE(bytes.is_ok());
    CHECK(contains(bytes.status().message(), "node 'slice' (SLICE)"));
    CHECK(contains(bytes.status().message(), c.message));
  }
  ModelBuilder b;
  const int scalar = b.add_input("scalar", Shape{});
  auto r = b.slice("slice", scalar, {}, {});
  REQUIRE_FALSE(r.is_ok());
  CHECK(contains(r.status().message(), "rank >= 1"));
}

TEST_CASE("CHANNEL_SHUFFLE: the engine matches the reference interpreter (format 1.5)",
          "[op_table][channel_shuffle]") {
  for (const auto& [shape, groups] :
       {std::pair{Shape{1, 5, 7, 12}, 2}, std::pair{Shape{1, 5, 7, 12}, 3},
        std::pair{Shape{2, 3, 3, 24}, 4}, std::pair{Shape{3, 8}, 8}, std::pair{Shape{6}, 2}}) {
    INFO(shape.to_string() << " groups " << groups);
    ModelBuilder b;
    const int x = b.add_input("x", shape);
    const std::vector<uint8_t> bytes = finish(b, must(b.channel_shuffle("shuffle", x, groups)));
    auto model = Model::from_bytes(bytes);
    REQUIRE(model.is_ok());
    CHECK(model->format_version_minor() == 5);
    const std::map<std::string, std::vector<float>> inputs = {
        {"x", random_values(static_cast<size_t>(shape.elements()), 53, 3.f)}};
    const std::vector<float> want = testing::reference_run(bytes, inputs).at("shuffle");
    // The reference itself: channel 1 of the output is the first channel of the second group.
    const auto c = static_cast<size_t>(shape[shape.rank() - 1]);
    CHECK(want[1] == inputs.at("x")[c / static_cast<size_t>(groups)]);
    for (size_t threads : {size_t{1}, size_t{2}}) {
      INFO("threads " << threads);
      EngineOptions o;
      o.threads = threads;
      CHECK(run_engine(bytes, inputs, o) == want);
    }
  }
  for (int groups : {0, 1, 5, -2}) {
    INFO("groups " << groups);
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 2, 2, 12});
    auto r = b.channel_shuffle("shuffle", x, groups);
    REQUIRE_FALSE(r.is_ok());
    CHECK(contains(r.status().message(), "node 'shuffle' (CHANNEL_SHUFFLE)"));
    CHECK(contains(r.status().message(),
                   "divide the last dimension 12, found " + std::to_string(groups)));
  }
}

#ifdef POLYHEAD_TEST_QUANTIZE
TEST_CASE("ABS: the int8 rewrite runs it in int8 and writes format 1.3", "[op_table][abs]") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4, 4, 2});
  Conv2DParams c;
  const int conv = must(
      b.conv2d("conv", x, testing::random_constant(b, "conv.w", Shape{3, 1, 1, 2}, 8, 1.f), -1, c));
  const int a = must(b.abs("abs", conv));
  const std::vector<uint8_t> bytes = finish(b, must(b.mean("mean", a, false)));
  auto model = Model::from_bytes(bytes);
  REQUIRE(model.is_ok());
  auto g = merge::read_source_graph(*model, "abs.phm");
  REQUIRE(g.is_ok());
  std::vector<bool> int8(g->root->nodes()->size());
  for (size_t n = 0; n < int8.size(); ++n) {
    int8[n] = quantize::can_run_int8(*g, static_cast<int>(n));
    CHECK(int8[n]);
  }
  const std::vector<quantize::Range> ranges(g->root->tensors()->size(), quantize::Range{-3.f, 3.f});
  auto edited = quantize::rewrite_int8(*g, int8, ranges, {});
  REQUIRE(edited.is_ok());
  auto written = quantize::write_model(*edited);
  REQUIRE(written.is_ok());
  auto q = Model::from_bytes(*written);
  INFO((q.is_ok() ? std::string("loaded") : q.status().to_string()));
  REQUIRE(q.is_ok());
  CHECK(q->format_version_minor() == 3);
  const schema::Model* root = schema::GetModel(written->data());
  bool abs_in_int8 = false;
  for (const schema::Node* n : *root->nodes())
    if (n->op() == OpKind::ABS)
      abs_in_int8 =
          root->tensors()->Get(static_cast<fb::uoffset_t>(n->outputs()->Get(0)))->type() ==
          schema::ElementType::I8;
  CHECK(abs_in_int8);
  // It runs, and stays within a few int8 steps of the float model (ranges of 6 / 255 per step).
  const std::map<std::string, std::vector<float>> inputs = {{"x", random_values(32, 44, 1.f)}};
  const std::vector<float> want = run_engine(bytes, inputs);
  const std::vector<float> got = run_engine(*written, inputs);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(0.1));
}
#endif

#ifdef POLYHEAD_TEST_MERGE
TEST_CASE("ABS: merged models that contain it are written as format 1.3", "[op_table][abs]") {
  auto make = [](bool with_abs, const char* task) {
    ModelBuilder b;
    const int x = b.add_input("x", Shape{1, 4});
    const int s = must(b.unary("sigmoid", UnaryOp::kSigmoid, x));
    const int y = with_abs ? must(b.abs("abs", s)) : must(b.unary("tanh", UnaryOp::kTanh, s));
    REQUIRE(b.add_task(task, TaskKind::kOther, {{"y", y}}).is_ok());
    auto bytes = b.finish();
    REQUIRE(bytes.is_ok());
    auto m = Model::from_bytes(*bytes);
    REQUIRE(m.is_ok());
    return *m;
  };
  auto merged = merge::merge_models({make(false, "a"), make(true, "b")}, {});
  INFO((merged.is_ok() ? std::string("merged") : merged.status().to_string()));
  REQUIRE(merged.is_ok());
  auto m = Model::from_bytes(merged->bytes);
  REQUIRE(m.is_ok());
  CHECK(m->format_version_minor() == 3);

  auto plain = merge::merge_models({make(false, "a"), make(false, "b")}, {});
  REQUIRE(plain.is_ok());
  auto p = Model::from_bytes(plain->bytes);
  REQUIRE(p.is_ok());
  CHECK(p->format_version_minor() == kFormatVersionMinor);
}
#endif
