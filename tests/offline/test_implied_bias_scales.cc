// `quantize --bias-scales implied` (offline/quantize/implied_bias_scales.h) and format 1.7: int8
// biases whose scales are input scale x weight scale store none, the file says 1.7, runs to the
// same bytes, and what does not qualify keeps its scales; an I32 bias without scales on a float
// layer is refused at prepare with the node named.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/quantize/implied_bias_scales.h"
#include "offline/quantize/int8_support.h"
#include "offline/quantize/quantized_writer.h"
#include "polyhead/engine.h"
#include "polyhead/format_version.h"
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

// image -> conv3x3 (bias) -> conv1x1 (bias) -> fully connected (no bias) after a mean.
std::vector<uint8_t> float_model() {
  ModelBuilder b;
  const int image = b.add_input("image", Shape{1, 8, 8, 3});
  uint32_t seed = 21;
  auto constant = [&](const std::string& name, const Shape& shape) {
    return polyhead::testing::random_constant(b, name, shape, seed++, 0.5f);
  };
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu();
  const int c1 = must(
      b.conv2d("c1", image, constant("c1.w", Shape{6, 3, 3, 3}), constant("c1.b", Shape{6}), c));
  const int c2 =
      must(b.conv2d("c2", c1, constant("c2.w", Shape{4, 1, 1, 6}), constant("c2.b", Shape{4}), {}));
  const int mean = must(b.mean("mean", c2, false));
  const int fc = must(b.fully_connected("fc", mean, constant("fc.w", Shape{3, 4}), -1));
  REQUIRE(b.add_task("out", TaskKind::kOther, {{"features", c2}, {"logits", fc}}).is_ok());
  return must(b.finish());
}

EditModel int8_edit(const Model& m, bool int8_stem = true) {
  const merge::SourceGraph g = must(merge::read_source_graph(m, "model"));
  std::vector<bool> int8(g.root->nodes()->size());
  for (size_t n = 0; n < int8.size(); ++n)
    int8[n] = can_run_int8(g, static_cast<int>(n)) &&
              (int8_stem || g.node_name(static_cast<int>(n)) != "c1");
  const std::vector<Range> ranges(g.root->tensors()->size(), Range{-2.f, 6.f});
  return must(rewrite_int8(g, int8, ranges, RewriteOptions{}));
}

std::vector<std::vector<uint8_t>> run_all(const std::vector<uint8_t>& bytes) {
  const Model model = must(Model::from_bytes(bytes));
  Engine engine = must(Engine::create(model));
  Plan plan = must(engine.prepare({}));
  const std::vector<float> values = polyhead::testing::random_values(8 * 8 * 3, 5, 1.f);
  REQUIRE(plan.set_input("image", values.data(), values.size()).is_ok());
  REQUIRE(plan.run().is_ok());
  std::vector<std::vector<uint8_t>> out;
  for (const char* name : {"features", "logits"}) {
    const TensorView v = must(plan.output("out", name));
    const auto* p = static_cast<const uint8_t*>(v.data);
    out.emplace_back(p, p + v.bytes());
  }
  return out;
}

size_t i32_with_scales(const std::vector<uint8_t>& bytes) {
  size_t n = 0;
  for (const schema::Tensor* t : *schema::GetModel(bytes.data())->tensors())
    n += t->type() == schema::ElementType::I32 && t->quantization() ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("implied bias scales: int8 biases drop their scales, same outputs, format 1.7",
          "[implied_bias]") {
  const std::vector<uint8_t> source = float_model();
  const Model m = must(Model::from_bytes(source));
  const std::vector<uint8_t> stored = must(write_model(int8_edit(m)));
  CHECK(i32_with_scales(stored) == 2);

  size_t dropped = 0;
  const std::vector<uint8_t> implied = must(drop_implied_bias_scales_in_file(stored, &dropped));
  CHECK(dropped == 2);
  CHECK(i32_with_scales(implied) == 0);
  CHECK(implied.size() < stored.size());
  // Format 1.7 at least (1.8 here: the biases fit int16 and are stored so).
  CHECK(must(Model::from_bytes(implied)).format_version_minor() >= kImpliedBiasScalesSinceMinor);
  CHECK(run_all(implied) == run_all(stored));
  // Nothing left to drop: the file comes back unchanged.
  CHECK(must(drop_implied_bias_scales_in_file(implied, &dropped)) == implied);
  CHECK(dropped == 0);
}

TEST_CASE("implied bias scales: a float model and mismatched scales are left alone",
          "[implied_bias]") {
  const std::vector<uint8_t> source = float_model();
  size_t dropped = 7;
  CHECK(must(drop_implied_bias_scales_in_file(source, &dropped)) == source);
  CHECK(dropped == 0);

  // A bias scale 1 % off input x weight scale is not what the kernels imply: it stays.
  const Model m = must(Model::from_bytes(source));
  EditModel e = int8_edit(m);
  int changed = -1;
  for (size_t t = 0; t < e.tensors.size(); ++t)
    if (e.tensors[t].type == schema::ElementType::I32 && changed < 0) {
      e.tensors[t].scales[0] *= 1.01f;
      changed = static_cast<int>(t);
    }
  REQUIRE(changed >= 0);
  CHECK(drop_implied_bias_scales(e) == 1);
  CHECK_FALSE(e.tensors[static_cast<size_t>(changed)].scales.empty());

  // The float stem's bias is F32: only the int8 layer's I32 bias qualifies.
  EditModel stem_float = int8_edit(m, false);
  CHECK(drop_implied_bias_scales(stem_float) == 1);
}

TEST_CASE("implied bias scales: an I32 bias without scales on a float layer is refused",
          "[implied_bias]") {
  const Model m = must(Model::from_bytes(float_model()));
  const merge::SourceGraph g = must(merge::read_source_graph(m, "model"));
  EditModel e = edit_copy(g);
  // c1's bias made I32 without quantization, its layer still float.
  std::vector<int32_t> ints(6, 3);
  for (EditNode& n : e.nodes)
    if (n.name == "c1") {
      EditTensor& b = e.tensors[static_cast<size_t>(n.inputs[2])];
      b.type = schema::ElementType::I32;
      b.data = e.store(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(ints.data()),
                                            reinterpret_cast<const uint8_t*>(ints.data() + 6)));
      b.size = 6 * sizeof(int32_t);
    }
  const std::vector<uint8_t> bytes = must(write_model(e));
  const Model bad = must(Model::from_bytes(bytes));
  Engine engine = must(Engine::create(bad));
  const Result<Plan> plan = engine.prepare({});
  REQUIRE_FALSE(plan.is_ok());
  INFO(plan.status().to_string());
  CHECK(plan.status().message().find("c1") != std::string::npos);
}

TEST_CASE("implied bias scales: --bias-scales takes stored or implied", "[implied_bias]") {
  CHECK(must(parse_bias_scales("--bias-scales", "stored")) == BiasScales::kStored);
  CHECK(must(parse_bias_scales("--bias-scales", "implied")) == BiasScales::kImplied);
  for (const char* bad : {"", "none", "Implied"}) {
    const Result<BiasScales> r = parse_bias_scales("--bias-scales", bad);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == ErrorCode::kInvalidArgument);
    CHECK(r.status().message() ==
          std::string("--bias-scales must be stored or implied, got '") + bad + "'");
  }
}
