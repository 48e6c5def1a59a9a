// `--names short` as a library (offline/quantize/short_names.h): which names are kept, that the
// short ones are unique and avoid the kept ones, that a renamed model computes the same bytes as
// the original (float and int8), that the file shrinks, and the option's errors.
#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/quantize/int8_support.h"
#include "offline/quantize/quantized_writer.h"
#include "offline/quantize/short_names.h"
#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;
using namespace polyhead::quantize;

namespace {

template <typename T>
T must(Result<T> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return std::move(*r);
}

// image [1,8,8,3] -> conv3x3+relu -> pool -> conv1x1 ("c2") -> mean -> softmax  task "classify"
//                                   pool -> conv1x1 ("c3")                      task "side"
// `input_name` lets a test give the input a name a short name would otherwise take.
std::vector<uint8_t> conv_model(const std::string& input_name = "image") {
  ModelBuilder b;
  const int image = b.add_input(input_name, Shape{1, 8, 8, 3});
  uint32_t seed = 11;
  auto constant = [&](const std::string& name, const Shape& shape) {
    return polyhead::testing::random_constant(b, name, shape, seed++, 0.5f);
  };
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu();
  const int c1 = must(b.conv2d("first convolution with a long descriptive name", image,
                               constant("c1.weights.with.a.long.name", Shape{4, 3, 3, 3}),
                               constant("c1.bias", Shape{4}), c));
  Pool2DParams p;
  p.filter_h = p.filter_w = p.stride_h = p.stride_w = 2;
  const int pool = must(b.pool2d("pool", PoolOp::kMax, c1, p));
  const int c2 = must(
      b.conv2d("c2", pool, constant("c2.w", Shape{4, 1, 1, 4}), constant("c2.b", Shape{4}), {}));
  const int mean = must(b.mean("mean", c2, false));
  const int soft = must(b.softmax("softmax", mean));
  const int c3 = must(b.conv2d("c3", pool, constant("c3.w", Shape{2, 1, 1, 4}), -1, {}));
  REQUIRE(b.add_task("classify", TaskKind::kClassification, {{"probs", soft}}).is_ok());
  REQUIRE(b.add_task("side", TaskKind::kOther, {{"out", c3}}).is_ok());
  return must(b.finish());
}

// The int8 rewrite of `bytes` with every tensor's range [-2, 6] (no calibration needed).
std::vector<uint8_t> int8_model(const std::vector<uint8_t>& bytes) {
  const Model m = must(Model::from_bytes(bytes));
  const merge::SourceGraph g = must(merge::read_source_graph(m, "model"));
  std::vector<bool> int8(g.root->nodes()->size());
  for (size_t n = 0; n < int8.size(); ++n) int8[n] = can_run_int8(g, static_cast<int>(n));
  const std::vector<Range> ranges(g.root->tensors()->size(), Range{-2.f, 6.f});
  EditModel edited = must(rewrite_int8(g, int8, ranges, RewriteOptions{}));
  return must(write_model(edited));
}

// Every task output of `bytes` run on the same deterministic inputs, as raw bytes.
std::vector<std::vector<uint8_t>> run_all(const std::vector<uint8_t>& bytes) {
  const Model model = must(Model::from_bytes(bytes));
  Engine engine = must(Engine::create(model));
  Plan plan = must(engine.prepare({}));
  for (const InputInfo& in : model.inputs()) {
    const std::vector<float> values =
        polyhead::testing::random_values(static_cast<size_t>(in.shape.elements()), 3, 1.f);
    REQUIRE(plan.set_input(in.name, values.data(), values.size()).is_ok());
  }
  REQUIRE(plan.run().is_ok());
  std::vector<std::vector<uint8_t>> out;
  for (const TaskInfo& t : model.tasks())
    for (const TaskOutputInfo& o : t.outputs) {
      const TensorView v = must(plan.output(t.name, o.name));
      const auto* p = static_cast<const uint8_t*>(v.data);
      out.emplace_back(p, p + v.bytes());
    }
  return out;
}

std::vector<std::string> tensor_names(const std::vector<uint8_t>& bytes) {
  std::vector<std::string> names;
  for (const schema::Tensor* t : *schema::GetModel(bytes.data())->tensors())
    names.push_back(t->name()->str());
  return names;
}

std::vector<std::string> node_names(const std::vector<uint8_t>& bytes) {
  std::vector<std::string> names;
  for (const schema::Node* n : *schema::GetModel(bytes.data())->nodes())
    names.push_back(n->name()->str());
  return names;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const std::string& x : v)
    if (x == s) return true;
  return false;
}

bool unique(const std::vector<std::string>& v) {
  return std::set<std::string>(v.begin(), v.end()).size() == v.size();
}

// Per task output "task/output": the name of the tensor it reads and of the node writing that.
std::vector<std::string> interface_names(const std::vector<uint8_t>& bytes) {
  const schema::Model* root = schema::GetModel(bytes.data());
  std::vector<std::string> out;
  for (const schema::Input* in : *root->inputs())
    out.push_back("input " +
                  root->tensors()->Get(static_cast<unsigned>(in->tensor()))->name()->str());
  for (const schema::Task* t : *root->tasks())
    for (const schema::TaskOutput* o : *t->outputs()) {
      std::string writer;
      for (const schema::Node* n : *root->nodes())
        if (n->outputs()->Get(0) == o->tensor()) writer = n->name()->str();
      out.push_back(t->name()->str() + "/" + o->name()->str() + " reads " +
                    root->tensors()->Get(static_cast<unsigned>(o->tensor()))->name()->str() +
                    " written by " + writer);
    }
  return out;
}

void check_renamed(const std::vector<uint8_t>& original, const std::vector<uint8_t>& renamed) {
  const std::vector<std::string> tensors = tensor_names(renamed), nodes = node_names(renamed);
  // Model inputs, the tensors the tasks read and the nodes writing them keep their names.
  CHECK(interface_names(renamed) == interface_names(original));
  CHECK(has(tensors, "image"));
  CHECK(has(nodes, "softmax"));
  // Long names are gone, every name is unique and short.
  CHECK_FALSE(has(nodes, "first convolution with a long descriptive name"));
  CHECK_FALSE(has(tensors, "c1.weights.with.a.long.name"));
  CHECK(unique(tensors));
  CHECK(unique(nodes));
  const std::vector<std::string> original_nodes = node_names(original);
  for (const std::string& n : nodes) CHECK((has(original_nodes, n) || n.size() <= 4));
  CHECK(renamed.size() <= original.size());
  // The same computation: every output byte for byte.
  CHECK(run_all(renamed) == run_all(original));
}

}  // namespace

TEST_CASE("short names: a float model keeps its interface and computes the same bytes",
          "[short_names]") {
  const std::vector<uint8_t> original = conv_model();
  const std::vector<uint8_t> renamed = must(shorten_names_in_file(original, false));
  check_renamed(original, renamed);
}

TEST_CASE("short names: an int8 model keeps its interface and computes the same bytes",
          "[short_names]") {
  const std::vector<uint8_t> original = int8_model(conv_model());
  const std::vector<uint8_t> renamed = must(shorten_names_in_file(original, false));
  check_renamed(original, renamed);
  // Shortening twice changes nothing more.
  CHECK(must(shorten_names_in_file(renamed, false)) == renamed);
}

TEST_CASE("short names: the every-operator model runs the same after renaming", "[short_names]") {
  const std::vector<uint8_t> original = polyhead::testing::every_operator_model();
  const std::vector<uint8_t> renamed = must(shorten_names_in_file(original, false));
  CHECK(unique(tensor_names(renamed)));
  CHECK(unique(node_names(renamed)));
  CHECK(run_all(renamed) == run_all(original));
}

TEST_CASE("short names: generated names avoid a kept name that looks like one", "[short_names]") {
  // The input is called "t1", the name tensor 1 would get.
  const std::vector<uint8_t> renamed = must(shorten_names_in_file(conv_model("t1"), false));
  const std::vector<std::string> tensors = tensor_names(renamed);
  CHECK(has(tensors, "t1"));
  CHECK(has(tensors, "t1_"));
  CHECK(unique(tensors));
}

TEST_CASE("short names: --names takes keep or short", "[short_names]") {
  CHECK(must(parse_name_mode("--names", "keep")) == NameMode::kKeep);
  CHECK(must(parse_name_mode("--names", "short")) == NameMode::kShort);
  for (const char* bad : {"", "Short", "strip", "short,keep"}) {
    const Result<NameMode> r = parse_name_mode("--names", bad);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kInvalidArgument);
    CHECK(r.status().message() == std::string("--names must be keep or short, got '") + bad + "'");
  }
}

TEST_CASE("short names: a file that is not a model is refused", "[short_names]") {
  const std::vector<uint8_t> junk(64, 7);
  CHECK_FALSE(shorten_names_in_file(junk, false).is_ok());
}
