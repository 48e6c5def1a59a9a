// Block-sparse constants (docs/sparse.md): written by ModelBuilder::store_sparse, verified at load
// (every hostile layout refused by name), and run by the sparse kernel or expanded for the dense
// one, with the same outputs either way (EngineOptions::sparse_weights).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/format_version.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/model_builder.h"
#include "polyhead/polyhead_c.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;
namespace fb = flatbuffers;
namespace sc = polyhead::schema;

namespace {

// Weights [rows][cols] with whole blocks of `block_rows` x 1 zeroed, about `sparsity` of them.
std::vector<float> block_pruned(size_t rows, size_t cols, size_t block_rows, double sparsity,
                                uint32_t seed) {
  std::vector<float> w = testing::random_values(rows * cols, seed, 0.5f);
  uint32_t state = seed * 2654435761u + 1;
  for (size_t r = 0; r < rows; r += block_rows)
    for (size_t c = 0; c < cols; ++c) {
      state = state * 1664525u + 1013904223u;
      if ((state >> 8) % 1000 < sparsity * 1000)
        for (size_t i = 0; i < block_rows; ++i) w[(r + i) * cols + c] = 0.f;
    }
  return w;
}

// input [1,4,4,32] -> 1x1 conv to 16 (relu) -> mean -> fc to 24: both weights block-pruned to
// `sparsity`, stored sparse with blocks of 8x1 when `sparse`.
std::vector<uint8_t> pointwise_model(bool sparse, double sparsity) {
  ModelBuilder b;
  const int in = b.add_input("image", Shape{1, 4, 4, 32});
  const int cw =
      b.add_constant("conv/w", Shape{16, 1, 1, 32}, block_pruned(16, 32, 8, sparsity, 3));
  const int cb = testing::random_constant(b, "conv/b", Shape{16}, 4, 0.1f);
  const int fw = b.add_constant("fc/w", Shape{24, 16}, block_pruned(24, 16, 8, sparsity, 5));
  const int fb_ = testing::random_constant(b, "fc/b", Shape{24}, 6, 0.1f);
  if (sparse) {
    REQUIRE(b.store_sparse(cw, 8, 1).is_ok());
    REQUIRE(b.store_sparse(fw, 8, 1).is_ok());
  }
  Conv2DParams p;
  p.activation = Activation::relu();
  const int conv = b.conv2d("conv", in, cw, cb, p).value();
  const int pooled = b.mean("pool", conv, false).value();
  const int logits = b.fully_connected("fc", pooled, fw, fb_).value();
  REQUIRE(b.add_task("features", TaskKind::kOther, {{"map", conv}}).is_ok());
  REQUIRE(b.add_task("classes", TaskKind::kClassification, {{"logits", logits}}).is_ok());
  return b.finish().value();
}

std::vector<float> run_outputs(const std::vector<uint8_t>& bytes, SparseWeights mode,
                               EngineStats* stats = nullptr) {
  Model model = Model::from_bytes(bytes).value();
  EngineOptions options;
  options.sparse_weights = mode;
  Engine engine = Engine::create(model, options).value();
  Plan plan = engine.prepare().value();
  const std::vector<float> image = testing::random_values(4 * 4 * 32, 9);
  REQUIRE(plan.set_input("image", image.data(), image.size()).is_ok());
  REQUIRE(plan.run().is_ok());
  std::vector<float> out;
  for (auto [task, name] : {std::pair{"features", "map"}, std::pair{"classes", "logits"}}) {
    const TensorView v = plan.output(task, name).value();
    out.insert(out.end(), v.f32(), v.f32() + v.shape.elements());
  }
  if (stats) *stats = engine.stats();
  return out;
}

void check_close(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(1e-5).epsilon(1e-5));
}

}  // namespace

TEST_CASE("a model with sparse weights is written as 1.6, smaller, and computes the same") {
  const std::vector<uint8_t> dense = pointwise_model(false, 0.75);
  const std::vector<uint8_t> sparse = pointwise_model(true, 0.75);
  CHECK(sparse.size() < dense.size());
  const Model model = Model::from_bytes(sparse).value();
  CHECK(model.format_version_minor() == kSparseConstantsSinceMinor);
  CHECK(Model::from_bytes(dense).value().format_version_minor() < kSparseConstantsSinceMinor);

  const std::vector<float> expected = run_outputs(dense, SparseWeights::kDense);
  EngineStats s;
  SECTION("expanded for the dense kernel") {
    check_close(run_outputs(sparse, SparseWeights::kDense, &s), expected);
    CHECK(s.sparse_kernel_nodes == 0);
    CHECK(s.expanded_sparse_weight_bytes == (16 * 32 + 24 * 16) * sizeof(float));
  }
  SECTION("on the sparse kernel") {
    check_close(run_outputs(sparse, SparseWeights::kSparse, &s), expected);
    CHECK(s.sparse_kernel_nodes == 2);
    CHECK(s.expanded_sparse_weight_bytes == 0);
  }
  SECTION("auto picks the sparse kernel at 75% sparsity where it has SIMD") {
    check_close(run_outputs(sparse, SparseWeights::kAuto, &s), expected);
    // The scalar tables (armv7, x86 without AVX2) pay only on nearly empty weights.
    const kernels::Isa isa = kernels::selected_isa().value();
    const kernels::KernelVariant* v = kernels::kernel_variant(isa);
    const bool simd =
        v && v->sparse_gemm_f32 && isa != kernels::Isa::kGeneric && isa != kernels::Isa::kReference;
    CHECK(s.sparse_kernel_nodes == (simd ? 2u : 0u));
  }
}

TEST_CASE("auto expands weights too dense for the sparse kernel to pay") {
  // A quarter of the 8x1 blocks zero: sparse storage is smaller, the kernel would be slower.
  const std::vector<uint8_t> sparse = pointwise_model(true, 0.25);
  EngineStats s;
  check_close(run_outputs(sparse, SparseWeights::kAuto, &s),
              run_outputs(pointwise_model(false, 0.25), SparseWeights::kDense));
  CHECK(s.sparse_kernel_nodes == 0);
  CHECK(s.expanded_sparse_weight_bytes > 0);
}

TEST_CASE("sparse weights on a layer without a sparse kernel are expanded") {
  ModelBuilder b;
  const int in = b.add_input("image", Shape{1, 6, 6, 8});
  const int w = b.add_constant("w", Shape{8, 3, 3, 8}, block_pruned(8, 72, 8, 0.8, 11));
  REQUIRE(b.store_sparse(w, 8, 1).is_ok());
  Conv2DParams p;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const int out = b.conv2d("conv3x3", in, w, -1, p).value();
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", out}}).is_ok());
  Model model = Model::from_bytes(b.finish().value()).value();
  EngineOptions o;
  o.sparse_weights = SparseWeights::kSparse;
  Engine engine = Engine::create(model, o).value();
  Plan plan = engine.prepare().value();
  const std::vector<float> x = testing::random_values(6 * 6 * 8, 12);
  REQUIRE(plan.set_input("image", x.data(), x.size()).is_ok());
  REQUIRE(plan.run().is_ok());
  CHECK(engine.stats().sparse_kernel_nodes == 0);
  CHECK(engine.stats().expanded_sparse_weight_bytes == 8 * 72 * sizeof(float));
}

TEST_CASE("store_sparse refuses what cannot be stored sparse, by name") {
  ModelBuilder b;
  const int in = b.add_input("image", Shape{1, 4});
  const int w = b.add_constant("w", Shape{6, 4}, std::vector<float>(24, 1.f));
  const int q =
      b.add_constant_i8("q", Shape{4}, std::vector<int8_t>(4, 1), Quantization{{0.5f}, {0}, -1});
  auto message = [](const Status& s) { return s.message(); };
  CHECK_THAT(message(b.store_sparse(in, 1, 1)), Catch::Contains("'image' is not a float constant"));
  CHECK_THAT(message(b.store_sparse(q, 1, 1)), Catch::Contains("'q' is not a float constant"));
  CHECK_THAT(message(b.store_sparse(w, 4, 1)),
             Catch::Contains("blocks of 4x1 do not divide the 6x4 matrix of 'w'"));
  CHECK_THAT(message(b.store_sparse(w, 0, 1)), Catch::Contains("blocks of 0x1"));
  CHECK_THAT(message(b.store_sparse(99, 1, 1)), Catch::Contains("no tensor 99"));
  CHECK(b.store_sparse(w, 3, 2).is_ok());
}

TEST_CASE("a constant that sparse storage would not make smaller is stored dense") {
  ModelBuilder b;
  const int in = b.add_input("x", Shape{1, 8});
  const int w = b.add_constant("w", Shape{8, 8}, testing::random_values(64, 21, 1.f));
  REQUIRE(b.store_sparse(w, 8, 1).is_ok());
  const int y = b.fully_connected("fc", in, w, -1).value();
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", y}}).is_ok());
  const std::vector<uint8_t> bytes = b.finish().value();
  CHECK(Model::from_bytes(bytes).value().format_version_minor() < kSparseConstantsSinceMinor);
  const sc::Tensor* t = sc::GetModel(bytes.data())->tensors()->Get(1);
  CHECK(t->sparse() == nullptr);

  // 1x1 blocks, 60 % stored: a value and an index each take more than the dense form.
  ModelBuilder c;
  const int x = c.add_input("x", Shape{1, 10});
  std::vector<float> v = testing::random_values(100, 22, 1.f);
  for (size_t i = 0; i < v.size(); i += 5) v[i] = v[i + 1] = 0.f;
  const int w2 = c.add_constant("w", Shape{10, 10}, v);
  REQUIRE(c.store_sparse(w2, 1, 1).is_ok());
  REQUIRE(c.add_task("t", TaskKind::kOther, {{"y", c.fully_connected("fc", x, w2, -1).value()}})
              .is_ok());
  const std::vector<uint8_t> written = c.finish().value();
  CHECK(sc::GetModel(written.data())->tensors()->Get(1)->sparse() == nullptr);
}

TEST_CASE("an all-zero sparse constant stores no block and still runs") {
  ModelBuilder b;
  const int in = b.add_input("x", Shape{1, 8});
  const int w = b.add_constant("w", Shape{8, 8}, std::vector<float>(64, 0.f));
  const int bias = b.add_constant("b", Shape{8}, std::vector<float>(8, 0.25f));
  REQUIRE(b.store_sparse(w, 8, 1).is_ok());
  const int y = b.fully_connected("fc", in, w, bias).value();
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", y}}).is_ok());
  Model model = Model::from_bytes(b.finish().value()).value();
  for (SparseWeights mode : {SparseWeights::kSparse, SparseWeights::kDense}) {
    EngineOptions o;
    o.sparse_weights = mode;
    Engine engine = Engine::create(model, o).value();
    Plan plan = engine.prepare().value();
    const std::vector<float> x(8, 3.f);
    REQUIRE(plan.set_input("x", x.data(), x.size()).is_ok());
    REQUIRE(plan.run().is_ok());
    const TensorView v = plan.output("t", "y").value();
    for (int i = 0; i < 8; ++i) CHECK(v.f32()[i] == 0.25f);
  }
}

TEST_CASE("an unknown sparse_weights mode is refused with its value") {
  Model model = Model::from_bytes(pointwise_model(true, 0.5)).value();
  EngineOptions o;
  o.sparse_weights = static_cast<SparseWeights>(7);
  const auto engine = Engine::create(model, o);
  REQUIRE(!engine.is_ok());
  CHECK(engine.status().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(engine.status().message(),
             Catch::Contains("sparse_weights must be auto, sparse or dense, found 7"));
  SparseWeights parsed{};
  CHECK(parse_sparse_weights("dense", &parsed));
  CHECK(parsed == SparseWeights::kDense);
  CHECK(!parse_sparse_weights("Sparse", &parsed));
  CHECK(std::string(sparse_weights_name(SparseWeights::kSparse)) == "sparse");
}

TEST_CASE("the C API takes sparse_weights and refuses an unknown one") {
  const std::vector<uint8_t> bytes = pointwise_model(true, 0.75);
  ph_model* model = nullptr;
  REQUIRE(ph_model_from_bytes(bytes.data(), bytes.size(), &model) == PH_OK);
  ph_engine_options options = ph_engine_options_default();
  CHECK(options.sparse_weights == PH_SPARSE_WEIGHTS_AUTO);
  CHECK(std::string(ph_sparse_weights_name(PH_SPARSE_WEIGHTS_DENSE)) == "dense");
  CHECK(std::string(ph_sparse_weights_name(static_cast<ph_sparse_weights>(5))) ==
        "unknown sparse weights mode");
  const int bad = 5;
  std::memcpy(&options.sparse_weights, &bad, sizeof bad);
  ph_engine* engine = nullptr;
  CHECK(ph_engine_create(model, &options, &engine) == PH_INVALID_ARGUMENT);
  CHECK_THAT(ph_last_error(), Catch::Contains("options->sparse_weights is 5"));
  options.sparse_weights = PH_SPARSE_WEIGHTS_DENSE;
  REQUIRE(ph_engine_create(model, &options, &engine) == PH_OK);
  ph_plan* plan = nullptr;
  REQUIRE(ph_plan_prepare(engine, nullptr, 0, &plan) == PH_OK);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
}

// ---------------------------------------------------------------------------------------------
// Hostile layouts, written directly with the generated API: x [1,8] -> fc (w [rows][8]) -> y.

namespace {

struct LayoutSpec {
  std::vector<int> shape{8, 8};
  sc::ElementType type = sc::ElementType::F32;
  int block_rows = 4, block_cols = 1;
  std::vector<uint32_t> row_starts{0, 2, 3};
  std::vector<uint32_t> block_columns{1, 5, 0};
  size_t values = 12;  // floats stored
  bool constant = true;
  float fill = 1.f;
};

std::vector<uint8_t> serialize(const LayoutSpec& s) {
  auto build = [&](uint64_t offset, std::vector<uint8_t>* file) {
    fb::FlatBufferBuilder b;
    const auto layout =
        sc::CreateSparseLayout(b, s.block_rows, s.block_cols, b.CreateVector(s.row_starts),
                               b.CreateVector(s.block_columns));
    std::vector<fb::Offset<sc::Tensor>> tensors{
        sc::CreateTensor(b, b.CreateString("x"), b.CreateVector(std::vector<int>{1, 8})),
        sc::CreateTensor(b, b.CreateString("w"), b.CreateVector(s.shape), s.type, 0,
                         s.constant ? 1 : 0, layout),
        sc::CreateTensor(b, b.CreateString("y"), b.CreateVector(std::vector<int>{1, s.shape[0]}))};
    const size_t bytes = s.values * (s.type == sc::ElementType::F32 ? 4 : 1);
    std::vector<sc::BufferRef> buffers{sc::BufferRef(offset, bytes)};
    std::vector<fb::Offset<sc::Node>> nodes{sc::CreateNode(
        b, b.CreateString("fc"), sc::OpKind::FULLY_CONNECTED, sc::OpOptions::NONE, 0,
        b.CreateVector(std::vector<int>{0, 1, -1}), b.CreateVector(std::vector<int>{2}))};
    std::vector<fb::Offset<sc::Input>> inputs{sc::CreateInput(b, 0)};
    std::vector<fb::Offset<sc::TaskOutput>> outs{sc::CreateTaskOutput(b, b.CreateString("y"), 2)};
    std::vector<fb::Offset<sc::Task>> tasks{
        sc::CreateTask(b, b.CreateString("t"), sc::TaskKind::OTHER, b.CreateVector(outs))};
    const auto root =
        sc::CreateModel(b, kFormatVersionMajor, kSparseConstantsSinceMinor, 0, 0,
                        b.CreateVector(tensors), b.CreateVectorOfStructs(buffers),
                        b.CreateVector(nodes), b.CreateVector(inputs), b.CreateVector(tasks));
    b.Finish(root, kFileIdentifier);
    const uint64_t fb_size = b.GetSize();
    if (file) {
      file->assign(offset + bytes, 0);
      std::memcpy(file->data(), b.GetBufferPointer(), b.GetSize());
      if (s.type == sc::ElementType::F32)
        for (size_t i = 0; i < s.values; ++i)
          std::memcpy(file->data() + offset + 4 * i, &s.fill, 4);
    }
    return fb_size;
  };
  const uint64_t size = build(0, nullptr);
  std::vector<uint8_t> file;
  build((size + 63) / 64 * 64, &file);
  return file;
}

std::string load_error(const LayoutSpec& s) {
  const auto model = Model::from_bytes(serialize(s));
  if (model.is_ok()) return "loaded";
  CHECK(model.status().code() == ErrorCode::kInvalidModel);
  return model.status().message();
}

}  // namespace

TEST_CASE("a valid hand-written sparse layout loads and expands as stored") {
  LayoutSpec s;
  Model model = Model::from_bytes(serialize(s)).value();
  Engine engine = Engine::create(model).value();
  Plan plan = engine.prepare().value();
  std::vector<float> x(8);
  for (int i = 0; i < 8; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  REQUIRE(plan.set_input("x", x.data(), x.size()).is_ok());
  REQUIRE(plan.run().is_ok());
  const float* y = plan.output("t", "y").value().f32();
  // Rows 0-3 hold columns 1 and 5 (x = 2 and 6), rows 4-7 column 0 (x = 1).
  for (int r = 0; r < 4; ++r) CHECK(y[r] == 8.f);
  for (int r = 4; r < 8; ++r) CHECK(y[r] == 1.f);
}

TEST_CASE("hostile sparse layouts are refused with the tensor and the value") {
  LayoutSpec s;
  SECTION("blocks that do not divide the matrix") {
    s.block_rows = 3;
    CHECK_THAT(load_error(s), Catch::Contains("tensor 1 'w': sparse blocks of 3x1 do not divide "
                                              "its 8x8 matrix"));
  }
  SECTION("a zero block") {
    s.block_cols = 0;
    CHECK_THAT(load_error(s), Catch::Contains("sparse blocks of 4x0"));
  }
  SECTION("too few row starts") {
    s.row_starts = {0, 3};
    CHECK_THAT(load_error(s), Catch::Contains("sparse row_starts has 2 entries, 3 expected"));
  }
  SECTION("row starts that do not begin at 0") {
    s.row_starts = {1, 2, 3};
    CHECK_THAT(load_error(s), Catch::Contains("sparse row_starts begins at 1, not 0"));
  }
  SECTION("row starts that decrease") {
    s.row_starts = {0, 3, 2};
    s.block_columns = {1, 5};
    s.values = 8;
    CHECK_THAT(load_error(s),
               Catch::Contains("sparse row_starts entry 1 is 3, past the 2 block columns"));
    s.shape = {12, 8};
    s.row_starts = {0, 2, 1, 2};
    s.block_columns = {1, 5};
    s.values = 8;
    CHECK_THAT(load_error(s), Catch::Contains("sparse row_starts decreases at block row 1 (2 then "
                                              "1)"));
  }
  SECTION("row starts past the block count") {
    s.row_starts = {0, 2, 4};
    CHECK_THAT(load_error(s), Catch::Contains("sparse row_starts ends at 4 but there are 3 block "
                                              "columns"));
  }
  SECTION("a block column out of range") {
    s.block_columns = {1, 8, 0};
    CHECK_THAT(load_error(s),
               Catch::Contains("sparse block 1 has block column 8, beyond the 8 there are"));
  }
  SECTION("block columns out of order") {
    s.block_columns = {5, 1, 0};
    CHECK_THAT(load_error(s), Catch::Contains("block columns of block row 0 are not increasing "
                                              "at block 1"));
  }
  SECTION("repeated block columns") {
    s.block_columns = {5, 5, 0};
    CHECK_THAT(load_error(s), Catch::Contains("are not increasing at block 1"));
  }
  SECTION("values that do not match the block count") {
    s.values = 8;
    CHECK_THAT(load_error(s),
               Catch::Contains("constant data has 32 bytes, its 12 stored sparse values need 48"));
  }
  SECTION("a stored value that is not finite") {
    s.fill = std::nanf("");
    CHECK_THAT(load_error(s), Catch::Contains("constant value 0 is not finite"));
  }
  SECTION("an int8 constant") {
    s.type = sc::ElementType::I8;
    CHECK_THAT(load_error(s), Catch::Contains("only float constants can be stored sparse, not i8"));
  }
  SECTION("a sparse layout on an activation") {
    s.constant = false;
    CHECK_THAT(load_error(s), Catch::Contains("has a sparse layout but no constant data"));
  }
}
