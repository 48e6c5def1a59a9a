// TFLite sparse tensors through the importer (converters/tflite/sparse_tensor.h): small sparse
// tensors written with tests/support/tflite_builder by an encoder here (any traversal order,
// block map, DENSE or SPARSE_CSR levels, each index width) must decode to the tensor they
// encode; hostile sparsity parameters (indices out of range, decreasing segments, wrong counts,
// wrong sizes, bad orders and block maps) must be clear errors naming the tensor and the value;
// DENSIFY (then DEQUANTIZE) must feed a convolution the dense weights, writing no node; and the
// block shape chosen to keep weights sparse in the .phm (sparse_storage.h) must be the cheapest.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "converters/tflite/sparse_storage.h"
#include "converters/tflite/tensor_data.h"
#include "converters/tflite/tflite_converter.h"
#include "converters/tflite/tflite_model.h"
#include "converters/tflite/tflite_ops.h"
#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"
#include "support/tflite_builder.h"

namespace {

namespace tfl = polyhead::tflite;
using polyhead::testing::conv_options;
using polyhead::testing::kActNone;
using polyhead::testing::kF16;
using polyhead::testing::kF32;
using polyhead::testing::kI32;
using polyhead::testing::kI8;
using polyhead::testing::kOptConv;
using polyhead::testing::kOptNone;
using polyhead::testing::kValid;
using polyhead::testing::TfDimMetadata;
using polyhead::testing::TfliteWriter;
using polyhead::testing::TfQuant;
using polyhead::testing::TfSparsitySpec;

constexpr int kDense = 0, kCsr = 1;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// IEEE half of a float that half represents exactly (zero or normal), as the tests use.
uint16_t to_half(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  if ((bits & 0x7fffffffu) == 0) return sign;
  const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  return static_cast<uint16_t>(sign | (exponent << 10) | ((bits >> 13) & 0x3ff));
}

// ---- an encoder: a dense tensor in TFLite's sparse format ---------------------------------------

// How to store a tensor: traversal order of its n dimensions and k block dimensions, the block
// map and block sizes, DENSE or SPARSE_CSR per level, the index width of the sparse levels.
struct Layout {
  std::vector<int32_t> order;
  std::vector<int32_t> block_map;
  std::vector<int32_t> block_sizes;
  std::vector<int> formats;
  int width = 1;
};

struct Encoded {
  TfSparsitySpec sparsity;
  std::vector<float> values;  // the stored values, in tree order
};

// The format's tree, built as the schema describes it: a DENSE level keeps every coordinate under
// each element above, a SPARSE_CSR level those whose sub-tree holds a nonzero.
Encoded encode(const std::vector<float>& dense, const std::vector<int32_t>& shape,
               const Layout& layout) {
  const size_t n = shape.size(), k = layout.block_map.size(), levels = n + k;
  std::vector<int64_t> stride(n, 1);
  for (size_t d = n; d-- > 1;) stride[d - 1] = stride[d] * shape[d];
  std::vector<int64_t> size(levels), step(levels);
  for (size_t d = 0; d < n; ++d) {
    size[d] = shape[d];
    step[d] = stride[d];
  }
  for (size_t j = 0; j < k; ++j) {
    const size_t cut = static_cast<size_t>(layout.block_map[j]);
    const int64_t b = layout.block_sizes[j];
    size[cut] /= b;
    step[cut] *= b;
    size[n + j] = b;
    step[n + j] = stride[cut];
  }
  std::function<bool(size_t, int64_t)> holds_nonzero = [&](size_t level, int64_t offset) {
    if (level == levels) return dense[static_cast<size_t>(offset)] != 0.f;
    const size_t d = static_cast<size_t>(layout.order[level]);
    for (int64_t i = 0; i < size[d]; ++i)
      if (holds_nonzero(level + 1, offset + i * step[d])) return true;
    return false;
  };
  Encoded e;
  e.sparsity.present = true;
  e.sparsity.traversal_order = layout.order;
  e.sparsity.block_map = layout.block_map;
  std::vector<int64_t> nodes = {0};
  for (size_t l = 0; l < levels; ++l) {
    const size_t d = static_cast<size_t>(layout.order[l]);
    TfDimMetadata m;
    m.format = layout.formats[l];
    std::vector<int64_t> next;
    if (m.format == kDense) {
      m.dense_size = static_cast<int32_t>(size[d]);
      for (int64_t p : nodes)
        for (int64_t i = 0; i < size[d]; ++i) next.push_back(p + i * step[d]);
    } else {
      m.segments.width = m.indices.width = layout.width;
      m.segments.values = {0};
      for (int64_t p : nodes) {
        for (int64_t i = 0; i < size[d]; ++i) {
          if (!holds_nonzero(l + 1, p + i * step[d])) continue;
          m.indices.values.push_back(i);
          next.push_back(p + i * step[d]);
        }
        m.segments.values.push_back(static_cast<int64_t>(m.indices.values.size()));
      }
    }
    e.sparsity.dims.push_back(m);
    nodes.swap(next);
  }
  for (int64_t o : nodes) e.values.push_back(dense[static_cast<size_t>(o)]);
  return e;
}

// ---- decoding through the importer --------------------------------------------------------------

// A model holding one sparse float32 constant `w` (stored values `stored`) and a DENSIFY of it.
std::vector<uint8_t> densify_model(const std::vector<int32_t>& shape, const TfSparsitySpec& s,
                                   const std::vector<uint8_t>& stored, int8_t type = kF32,
                                   const TfQuant& quant = {}) {
  TfliteWriter w;
  const int t = w.tensor("w", shape, type, quant, stored);
  w.at(t).sparsity = s;
  const int out = w.tensor("dense", shape, type, quant);
  w.op(tfl::kDensify, {t}, {out}, {}, kOptNone);
  w.outputs({out});
  return w.finish();
}

// read_tflite + densify_sparse_constants on that model: the dense bytes of the DENSIFY output.
polyhead::Result<std::vector<uint8_t>> densified_bytes(const std::vector<uint8_t>& file) {
  PH_ASSIGN_OR_RETURN(tfl::TfModel m, tfl::read_tflite(file.data(), file.size()));
  PH_RETURN_IF_ERROR(tfl::densify_sparse_constants(m));
  const auto it = m.densified.find(1);  // the DENSIFY output
  if (it == m.densified.end()) return polyhead::Status(polyhead::ErrorCode::kInternal, "none");
  return it->second;
}

polyhead::Result<std::vector<float>> decode(const std::vector<int32_t>& shape,
                                            const TfSparsitySpec& s,
                                            const std::vector<float>& stored) {
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                      densified_bytes(densify_model(shape, s, bytes_of(stored))));
  std::vector<float> values(bytes.size() / 4);
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

// The error of decoding (empty when it succeeds).
std::string decode_error(const std::vector<int32_t>& shape, const TfSparsitySpec& s,
                         const std::vector<float>& stored) {
  auto r = decode(shape, s, stored);
  return r.is_ok() ? std::string() : r.status().message();
}

// A tensor of `n` values, a `keep` fraction of them nonzero (seeded).
std::vector<float> sparse_values(size_t n, double keep, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> v(n, 0.f);
  for (size_t i = 0; i < n; ++i) {
    if (u(rng) >= keep) continue;
    // Multiples of 1/16 in [-6, 6.5]: exact in float16 and in int8 with scale 1/16.
    v[i] = static_cast<float>(1 + (rng() % 200)) / 16.f - 6.f;
    if (v[i] == 0.f) v[i] = 0.5f;
  }
  return v;
}

void check_round_trip(const std::vector<int32_t>& shape, const Layout& layout,
                      const std::vector<float>& dense) {
  const Encoded e = encode(dense, shape, layout);
  auto decoded = decode(shape, e.sparsity, e.values);
  REQUIRE(decoded.is_ok());
  CHECK(*decoded == dense);
}

// MediaPipe's layout: a 1x1 convolution's weights [O,1,1,I], every level DENSE but the input
// channels, SPARSE_CSR.
const Layout kMediaPipe = {{0, 1, 2, 3}, {}, {}, {kDense, kDense, kDense, kCsr}, 1};

}  // namespace

// ---- decoding
// ------------------------------------------------------------------------------------

TEST_CASE("sparse tensors decode: CSR levels, any traversal order, each index width",
          "[tflite][sparse]") {
  const std::vector<float> m = {0, 1, 0, 0, 2,   //
                                0, 0, 0, 0, 0,   //
                                3, 0, 0, 4, 5,   //
                                0, 0, 6, 0, 0};  // 4 x 5
  SECTION("a CSR matrix, row-major, uint8 indices") {
    const Layout csr = {{0, 1}, {}, {}, {kDense, kCsr}, 1};
    const Encoded e = encode(m, {4, 5}, csr);
    // The encoding is the textbook CSR: row pointers and column indices.
    CHECK(e.sparsity.dims[1].segments.values == std::vector<int64_t>{0, 2, 2, 5, 6});
    CHECK(e.sparsity.dims[1].indices.values == std::vector<int64_t>{1, 4, 0, 3, 4, 2});
    CHECK(e.values == std::vector<float>{1, 2, 3, 4, 5, 6});
    check_round_trip({4, 5}, csr, m);
  }
  SECTION("column-major (traversal 1, 0), uint16 indices") {
    check_round_trip({4, 5}, {{1, 0}, {}, {}, {kDense, kCsr}, 2}, m);
  }
  SECTION("both dimensions sparse (empty rows not stored), int32 indices") {
    const Layout both = {{0, 1}, {}, {}, {kCsr, kCsr}, 4};
    const Encoded e = encode(m, {4, 5}, both);
    CHECK(e.sparsity.dims[0].indices.values == std::vector<int64_t>{0, 2, 3});
    check_round_trip({4, 5}, both, m);
  }
  SECTION("every level dense: the values in traversal order") {
    check_round_trip({4, 5}, {{1, 0}, {}, {}, {kDense, kDense}, 1}, m);
  }
  SECTION("MediaPipe's 1x1 convolution weights") {
    check_round_trip({8, 1, 1, 32}, kMediaPipe, sparse_values(8 * 32, 0.3, 7));
  }
  SECTION("a tensor of zeros stores nothing") {
    const std::vector<float> zeros(24, 0.f);
    const Encoded e = encode(zeros, {2, 3, 4}, {{0, 1, 2}, {}, {}, {kCsr, kCsr, kCsr}, 1});
    CHECK(e.values.empty());
    auto decoded = decode({2, 3, 4}, e.sparsity, e.values);
    REQUIRE(decoded.is_ok());
    CHECK(*decoded == zeros);
  }
}

TEST_CASE("block-sparse tensors decode: block maps and block traversal orders",
          "[tflite][sparse]") {
  // 4 x 8, nonzero only in some 2 x 4 blocks (block (0,1) and (1,0)), one zero inside a block.
  std::vector<float> m(32, 0.f);
  for (int r = 0; r < 2; ++r)
    for (int c = 4; c < 8; ++c) m[static_cast<size_t>(r * 8 + c)] = static_cast<float>(r * 8 + c);
  for (int r = 2; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m[static_cast<size_t>(r * 8 + c)] = -static_cast<float>(r + c);
  SECTION("2x4 blocks, block columns sparse, blocks row-major (TFLite's block-sparse layout)") {
    const Layout blocks = {{0, 1, 2, 3}, {0, 1}, {2, 4}, {kDense, kCsr, kDense, kDense}, 1};
    const Encoded e = encode(m, {4, 8}, blocks);
    CHECK(e.sparsity.dims[1].segments.values == std::vector<int64_t>{0, 1, 2});
    CHECK(e.sparsity.dims[1].indices.values == std::vector<int64_t>{1, 0});
    CHECK(e.values.size() == 16);  // two blocks of 8, the zero at (2,0)... included
    check_round_trip({4, 8}, blocks, m);
  }
  SECTION("blocks column-major inside (block traversal 3, 2), uint16 indices") {
    check_round_trip({4, 8}, {{0, 1, 3, 2}, {0, 1}, {2, 4}, {kDense, kCsr, kDense, kDense}, 2}, m);
  }
  SECTION("block map in the other order (block dimension 2 cuts columns), int32 indices") {
    check_round_trip({4, 8}, {{1, 0, 2, 3}, {1, 0}, {4, 2}, {kCsr, kCsr, kDense, kDense}, 4}, m);
  }
  SECTION("one blocked dimension (1x4 blocks along the columns)") {
    check_round_trip({4, 8}, {{0, 1, 2}, {1}, {4}, {kDense, kCsr, kDense}, 1}, m);
  }
  SECTION("a rank-3 tensor, traversal (2, 0, 1), a block on dimension 1") {
    const std::vector<float> t = sparse_values(3 * 4 * 5, 0.4, 11);
    check_round_trip({3, 4, 5}, {{2, 0, 1, 3}, {1}, {2}, {kDense, kCsr, kCsr, kDense}, 1}, t);
  }
}

TEST_CASE("sparse tensors decode: random layouts round-trip", "[tflite][sparse]") {
  std::mt19937 rng(2024);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  int cases = 0;
  for (int round = 0; round < 300; ++round) {
    const size_t n = 1 + static_cast<size_t>(pick(4));
    std::vector<int32_t> shape;
    for (size_t d = 0; d < n; ++d) shape.push_back(1 + pick(6));
    Layout layout;
    // Each dimension blocked with a divisor of its size, sometimes.
    for (size_t d = 0; d < n; ++d) {
      std::vector<int32_t> divisors;
      for (int32_t b = 1; b <= shape[d]; ++b)
        if (shape[d] % b == 0) divisors.push_back(b);
      if (pick(3) == 0) {
        layout.block_map.push_back(static_cast<int32_t>(d));
        layout.block_sizes.push_back(
            divisors[static_cast<size_t>(pick(static_cast<int>(divisors.size())))]);
      }
    }
    const size_t k = layout.block_map.size();
    // Shuffle the block map (block dimension j cuts block_map[j]), then the two orders.
    for (size_t j = k; j > 1; --j) {
      const size_t o = static_cast<size_t>(pick(static_cast<int>(j)));
      std::swap(layout.block_map[j - 1], layout.block_map[o]);
      std::swap(layout.block_sizes[j - 1], layout.block_sizes[o]);
    }
    for (size_t d = 0; d < n; ++d) layout.order.push_back(static_cast<int32_t>(d));
    for (size_t j = 0; j < k; ++j) layout.order.push_back(static_cast<int32_t>(n + j));
    std::shuffle(layout.order.begin(), layout.order.begin() + static_cast<long>(n), rng);
    std::shuffle(layout.order.begin() + static_cast<long>(n), layout.order.end(), rng);
    for (size_t l = 0; l < n + k; ++l)
      layout.formats.push_back(static_cast<int32_t>(layout.order[l]) < static_cast<int32_t>(n)
                                   ? pick(2)
                                   : kDense);  // block levels are DENSE
    layout.width = std::vector<int>{1, 2, 4}[static_cast<size_t>(pick(3))];
    size_t elements = 1;
    for (int32_t d : shape) elements *= static_cast<size_t>(d);
    INFO("round " << round);
    check_round_trip(shape, layout, sparse_values(elements, 0.05 + 0.1 * pick(6), 100u + round));
    ++cases;
  }
  CHECK(cases == 300);
}

// ---- hostile sparsity parameters
// -----------------------------------------------------------------

TEST_CASE("bad sparsity parameters are clear errors naming the tensor", "[tflite][sparse]") {
  // Rows 0..3 of a 4 x 5 CSR matrix: {1, 4}, {}, {0, 3, 4}, {2}.
  const std::vector<float> m = {0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4, 5, 0, 0, 6, 0, 0};
  const Layout csr = {{0, 1}, {}, {}, {kDense, kCsr}, 1};
  const Encoded good = encode(m, {4, 5}, csr);
  REQUIRE(decode_error({4, 5}, good.sparsity, good.values).empty());
  TfSparsitySpec s = good.sparsity;
  std::vector<float> values = good.values;
  auto& seg = s.dims[1].segments.values;
  auto& idx = s.dims[1].indices.values;
  std::vector<std::string> expected;  // every message must say these

  SECTION("an index outside its dimension") {
    idx[3] = 5;
    expected = {"array_indices[3] = 5 is outside [0, 5)"};
  }
  SECTION("an index outside its dimension, int32 indices") {
    s.dims[1].indices.width = s.dims[1].segments.width = 4;
    idx[0] = -1;
    expected = {"array_indices[0] = -1 is outside [0, 5)"};
  }
  SECTION("decreasing segments") {
    seg[2] = 1;  // 0, 2, 1, 5, 6
    expected = {"array_segments decreases: entry 2 is 1 after 2"};
  }
  SECTION("a segment past the indices, before the segments decrease") {
    seg[1] = 40;  // 0, 40, 2, 5, 6: entry 1 reaches past the 6 indices
    expected = {"array_segments entry 1 is 40, past the 6 array_indices entries"};
  }
  SECTION("segments not starting at 0") {
    seg[0] = 1;
    expected = {"array_segments starts at 1 (0 expected)"};
  }
  SECTION("segments ending before the indices do") {
    seg[4] = 5;
    expected = {"array_segments ends at 5, array_indices has 6 entries"};
  }
  SECTION("a segment per element of the level above, wrong count") {
    seg.push_back(6);
    expected = {"6 array_segments entries", "the level above has 4 elements, so 5 are needed"};
  }
  SECTION("more indices than coordinates") {
    idx.resize(21, 0);
    seg[4] = 21;
    expected = {"has 21 array_indices entries, more than the 20 coordinates"};
  }
  SECTION("an index twice in one segment") {
    idx[3] = 0;  // row 2: 0, 0, 4
    expected = {"array_indices repeats 0 in segment 2 (entry 3)"};
  }
  SECTION("stored values and sparsity disagree") {
    values.pop_back();
    expected = {"its sparsity describes 6 stored values, its buffer holds 5"};
  }
  SECTION("a DENSE level of the wrong size") {
    s.dims[0].dense_size = 5;
    expected = {"dim_metadata[0] (dimension 0, size 4) is DENSE with dense_size 5"};
  }
  SECTION("a traversal order naming a dimension twice") {
    s.traversal_order = {1, 1};
    expected = {"traversal_order names dimension 1 twice"};
  }
  SECTION("a traversal order outside the dimensions") {
    s.traversal_order = {0, 7};
    expected = {"traversal_order[1] = 7 is outside [0, 2)"};
  }
  SECTION("traversal_order and dim_metadata of the wrong length") {
    s.traversal_order = {0, 1, 2};
    expected = {"3 traversal_order and 2 dim_metadata entries", "need 2 of each"};
  }
  SECTION("a level format the schema does not have") {
    s.dims[1].format = 2;
    expected = {"dim_metadata[1]", "has format 2 (0 DENSE or 1 SPARSE_CSR expected)"};
  }
  SECTION("a SPARSE_CSR level without segments") {
    s.dims[1].segments.width = 0;
    expected = {"is SPARSE_CSR without array_segments"};
  }
  SECTION("an index vector of an unknown type") {
    s.dims[1].indices.type = 4;
    expected = {"dim_metadata[1].array_indices has index vector type 4"};
  }
  for (const std::string& part : expected) {
    const std::string error = decode_error({4, 5}, s, values);
    INFO("error: " << error);
    CHECK(contains(error, "sparse tensor 'w'"));
    CHECK(contains(error, part));
  }
}

TEST_CASE("bad block maps and block sizes are clear errors", "[tflite][sparse]") {
  std::vector<float> m(32, 0.f);
  m[5] = 1.f;
  m[30] = 2.f;
  const Layout blocks = {{0, 1, 2, 3}, {0, 1}, {2, 4}, {kDense, kCsr, kDense, kDense}, 1};
  const Encoded good = encode(m, {4, 8}, blocks);
  REQUIRE(decode_error({4, 8}, good.sparsity, good.values).empty());
  TfSparsitySpec s = good.sparsity;
  std::string expected;
  SECTION("a block map naming a dimension twice") {
    s.block_map = {1, 1};
    expected = "block_map names dimension 1 twice";
  }
  SECTION("a block map outside the dimensions") {
    s.block_map = {0, 2};
    expected = "block_map[1] = 2 is not one of its 2 dimensions";
  }
  SECTION("a block size that does not divide its dimension") {
    s.dims[3].dense_size = 3;
    expected = "block size 3 (dim_metadata[3]) does not divide dimension 1 of size 8";
  }
  SECTION("block dimensions before the tensor's") {
    s.traversal_order = {2, 1, 0, 3};
    expected = "traversal_order[0] = 2 is outside [0, 2) (the tensor's dimensions come first)";
  }
  SECTION("a block level stored SPARSE_CSR") {
    s.dims[3].format = kCsr;
    expected = "block dimension 3 (dim_metadata[3]) is SPARSE_CSR";
  }
  const std::string error = decode_error({4, 8}, s, good.values);
  INFO("error: " << error);
  CHECK(contains(error, "sparse tensor 'w'"));
  CHECK(contains(error, expected));
}

TEST_CASE("sparse tensors the importer does not expand are refused by name", "[tflite][sparse]") {
  SECTION("an enormous tensor of zeros from a few bytes") {
    TfSparsitySpec s;
    s.present = true;
    s.traversal_order = {0, 1};
    s.dims.resize(2);
    s.dims[0].format = kCsr;
    s.dims[0].segments = {1, {0, 0}, -1};
    s.dims[0].indices = {1, {}, -1};
    s.dims[1].dense_size = 1 << 14;
    auto r = densified_bytes(densify_model({1 << 14, 1 << 14}, s, {}));
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == polyhead::ErrorCode::kUnsupported);
    CHECK(contains(r.status().message(),
                   "sparse tensor 'w' has 268435456 elements, more than the 67108864"));
  }
  SECTION("a type DENSIFY does not take") {
    const Encoded e = encode({1, 0, 0, 2}, {4}, {{0}, {}, {}, {kCsr}, 1});
    auto r =
        densified_bytes(densify_model({4}, e.sparsity, bytes_of(std::vector<int32_t>{1, 2}), kI32));
    REQUIRE_FALSE(r.is_ok());
    CHECK(contains(r.status().message(),
                   "sparse tensor 'w' has type INT32 (float32, float16 or int8 expected)"));
  }
  SECTION("stored bytes that are not whole values") {
    const Encoded e = encode({1, 0, 0, 2}, {4}, {{0}, {}, {}, {kCsr}, 1});
    auto r = densified_bytes(densify_model({4}, e.sparsity, std::vector<uint8_t>(7, 0)));
    REQUIRE_FALSE(r.is_ok());
    CHECK(contains(r.status().message(),
                   "sparse tensor 'w' holds 7 bytes, not a whole number of 4-byte values"));
  }
}

TEST_CASE("a sparsity table out of bounds is a clear error", "[tflite][sparse]") {
  const Encoded e = encode({1, 0, 0, 2}, {4}, {{0}, {}, {}, {kCsr}, 1});
  std::vector<uint8_t> file = densify_model({4}, e.sparsity, bytes_of(e.values));
  // Point the first tensor's sparsity field far outside the file.
  auto m = tfl::read_tflite(file.data(), file.size());
  REQUIRE(m.is_ok());
  const tfl::Table root = m->view->root();
  const tfl::Table tensor = root.table_at(2, 0).table_at(0, 0);
  size_t at = 0;
  REQUIRE(tensor.field_position(6, &at));
  const uint32_t far = 0x7fffff00u;
  std::memcpy(file.data() + at, &far, 4);
  auto broken = tfl::read_tflite(file.data(), file.size());
  REQUIRE_FALSE(broken.is_ok());
  CHECK(contains(broken.status().message(), "tensor 0 ('w'): its sparsity table is out of bounds"));
}

// ---- DENSIFY in a model
// --------------------------------------------------------------------------

namespace {

// x [1,3,3,I] -> CONV_2D 1x1 (weights [O,1,1,I] as given, bias) -> y. `weights` either a dense
// float32 constant or the output of DENSIFY (+ DEQUANTIZE for fp16 or int8) of a sparse one.
enum class WeightsAs { kDense, kSparseF32, kSparseF16, kSparseI8, kSparseDirect };

std::vector<uint8_t> pointwise_conv_model(const std::vector<float>& w, int o, int i, WeightsAs as) {
  TfliteWriter tw;
  const int x = tw.f32("x", {1, 3, 3, i});
  const std::vector<int32_t> ws = {o, 1, 1, i};
  int weights = -1;
  const Encoded e = encode(w, ws, kMediaPipe);
  if (as == WeightsAs::kDense) {
    weights = tw.const_f32("w", ws, w);
  } else if (as == WeightsAs::kSparseF32 || as == WeightsAs::kSparseDirect) {
    const int sparse = tw.tensor("w_sparse", ws, kF32, {}, bytes_of(e.values));
    tw.at(sparse).sparsity = e.sparsity;
    if (as == WeightsAs::kSparseDirect) {
      weights = sparse;  // read by the convolution itself, as TFLite's sparse kernels do
    } else {
      weights = tw.f32("w", ws);
      tw.op(tfl::kDensify, {sparse}, {weights}, {}, kOptNone);
    }
  } else if (as == WeightsAs::kSparseF16) {
    std::vector<uint16_t> halves;
    for (float v : e.values) halves.push_back(to_half(v));
    const int sparse = tw.tensor("w_sparse", ws, kF16, {}, bytes_of(halves));
    tw.at(sparse).sparsity = e.sparsity;
    const int dense16 = tw.tensor("w_f16", ws, kF16);
    tw.op(tfl::kDensify, {sparse}, {dense16}, {}, kOptNone);
    weights = tw.f32("w", ws);
    tw.op(tfl::kDequantize, {dense16}, {weights}, {}, kOptNone);
  } else {  // int8, scale 1/16 per tensor
    std::vector<int8_t> q;
    for (float v : e.values) q.push_back(static_cast<int8_t>(std::lround(v * 16.f)));
    const TfQuant quant = TfQuant::per_tensor(1.f / 16.f, 0);
    const int sparse = tw.tensor("w_sparse", ws, kI8, quant, bytes_of(q));
    tw.at(sparse).sparsity = e.sparsity;
    const int dense8 = tw.tensor("w_i8", ws, kI8, quant);
    tw.op(tfl::kDensify, {sparse}, {dense8}, {}, kOptNone);
    weights = tw.f32("w", ws);
    tw.op(tfl::kDequantize, {dense8}, {weights}, {}, kOptNone);
  }
  std::vector<float> bias(static_cast<size_t>(o));
  for (int c = 0; c < o; ++c) bias[static_cast<size_t>(c)] = 0.25f * static_cast<float>(c - 2);
  const int b = tw.const_f32("b", {o}, bias);
  const int y = tw.f32("y", {1, 3, 3, o});
  tw.op(tfl::kConv2D, {x, weights, b}, {y}, conv_options(kValid, 1, kActNone), kOptConv);
  tw.inputs({x});
  tw.outputs({y});
  return tw.finish();
}

std::vector<float> run(const std::vector<uint8_t>& phm, const std::vector<float>& x) {
  auto model = polyhead::Model::from_bytes(phm);
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model, {/*threads=*/1});
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  REQUIRE(plan->set_input(model->inputs()[0].name, x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  const polyhead::TaskInfo& task = model->tasks()[0];
  auto out = plan->output(task.name, task.outputs[0].name);
  REQUIRE(out.is_ok());
  return std::vector<float>(out->f32(), out->f32() + out->shape.elements());
}

}  // namespace

TEST_CASE("DENSIFY feeds the dense weights and writes no node", "[tflite][sparse]") {
  const int o = 8, i = 16;
  const std::vector<float> w = sparse_values(static_cast<size_t>(o * i), 0.3, 5);  // k/16 values
  const std::vector<float> x = sparse_values(9 * i, 1.0, 6);
  tfl::ConvertOptions options;
  options.sparse_weights = polyhead::importers::SparseImport::kDensify;
  auto dense = tfl::convert(pointwise_conv_model(w, o, i, WeightsAs::kDense), options);
  REQUIRE(dense.is_ok());
  const std::vector<float> want = run(*dense, x);

  const std::map<WeightsAs, const char*> kinds = {{WeightsAs::kSparseF32, "float32"},
                                                  {WeightsAs::kSparseF16, "float16 + DEQUANTIZE"},
                                                  {WeightsAs::kSparseI8, "int8 + DEQUANTIZE"},
                                                  {WeightsAs::kSparseDirect, "read directly"}};
  for (const auto& [as, label] : kinds) {
    INFO("sparse weights " << label);
    tfl::ConvertReport report;
    auto phm = tfl::convert(pointwise_conv_model(w, o, i, as), options, &report);
    REQUIRE(phm.is_ok());
    CHECK(report.sparse_tensors == 1);
    CHECK(report.source_ops.count("DENSIFY") == (as == WeightsAs::kSparseDirect ? 0u : 1u));
    CHECK(report.nodes == std::map<std::string, int>{{"CONV_2D", 1}});
    CHECK(run(*phm, x) == want);
  }
}

// Not a fuzzer (docs/fuzzing.md has the libFuzzer harness, seeded with a sparse model), but a
// quick sweep in every build: bytes of a sparse model changed at random must give an error or a
// model that loads.
TEST_CASE("corrupted sparse models are errors or valid models", "[tflite][sparse]") {
  const std::vector<float> w = sparse_values(8 * 16, 0.3, 5);
  const std::vector<uint8_t> good = pointwise_conv_model(w, 8, 16, WeightsAs::kSparseF16);
  std::mt19937 rng(99);
  int converted = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bad = good;
    const int changes = 1 + static_cast<int>(rng() % 4);
    for (int c = 0; c < changes; ++c) {
      const size_t at = rng() % bad.size();
      bad[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(bad[at] ^ 0x80);
    }
    auto phm = tfl::convert(bad, {});
    if (!phm.is_ok()) {
      ++refused;
      continue;
    }
    INFO("round " << round);
    CHECK(polyhead::Model::from_bytes(*phm).is_ok());
    ++converted;
  }
  CHECK(converted + refused == 20000);
  CHECK(refused > 0);
}

TEST_CASE("bad DENSIFY operators are clear errors naming the operator", "[tflite][sparse]") {
  const Encoded e = encode({1, 0, 0, 2}, {4}, {{0}, {}, {}, {kCsr}, 1});
  auto convert_error = [](TfliteWriter& w) {
    auto r = tfl::convert(w.finish(), {});
    return r.is_ok() ? std::string() : r.status().message();
  };
  TfliteWriter w;
  const int x = w.f32("x", {4});
  SECTION("of a dense constant") {
    const int c = w.const_f32("c", {4}, {1, 0, 0, 2});
    const int d = w.f32("d", {4});
    w.op(tfl::kDensify, {c}, {d}, {}, kOptNone);
    const int y = w.f32("y", {4});
    w.op(tfl::kAdd, {x, d}, {y}, {}, kOptNone);
    w.inputs({x});
    w.outputs({y});
    CHECK(contains(convert_error(w), "operator 0 (DENSIFY): input 'c' is not a sparse tensor"));
  }
  SECTION("to another type") {
    const int c = w.tensor("c", {4}, kF32, {}, bytes_of(e.values));
    w.at(c).sparsity = e.sparsity;
    const int d = w.tensor("d", {4}, kF16);
    w.op(tfl::kDensify, {c}, {d}, {}, kOptNone);
    w.inputs({x});
    w.outputs({x});
    CHECK(contains(convert_error(w),
                   "operator 0 (DENSIFY): output 'd' is FLOAT16, input 'c' FLOAT32"));
  }
  SECTION("to another shape") {
    const int c = w.tensor("c", {4}, kF32, {}, bytes_of(e.values));
    w.at(c).sparsity = e.sparsity;
    const int d = w.f32("d", {2, 2});
    w.op(tfl::kDensify, {c}, {d}, {}, kOptNone);
    w.inputs({x});
    w.outputs({x});
    CHECK(contains(convert_error(w),
                   "operator 0 (DENSIFY): output 'd' has shape [2,2], input 'c' [4]"));
  }
  SECTION("into a tensor another operator writes") {
    const int c = w.tensor("c", {4}, kF32, {}, bytes_of(e.values));
    w.at(c).sparsity = e.sparsity;
    const int d = w.f32("d", {4});
    w.op(tfl::kDensify, {c}, {d}, {}, kOptNone);
    w.op(tfl::kRelu, {x}, {d}, {}, kOptNone);
    w.inputs({x});
    w.outputs({d});
    CHECK(contains(convert_error(w), "operator 0 (DENSIFY): output 'd' already has a value"));
  }
}

// ---- keeping weights sparse
// ----------------------------------------------------------------------

namespace {

// The block shape of .phm tensor `name` ({0, 0}: stored dense).
std::pair<int, int> stored_blocks(const std::vector<uint8_t>& phm, const std::string& name) {
  const auto* model = polyhead::schema::GetModel(phm.data());
  for (const auto* t : *model->tensors())
    if (t->name()->str() == name)
      return t->sparse() ? std::make_pair(t->sparse()->block_rows(), t->sparse()->block_cols())
                         : std::make_pair(0, 0);
  FAIL("no tensor '" << name << "'");
  return {0, 0};
}

std::vector<float> run_with(const std::vector<uint8_t>& phm, const std::vector<float>& x,
                            polyhead::SparseWeights mode, size_t* sparse_nodes) {
  auto model = polyhead::Model::from_bytes(phm);
  REQUIRE(model.is_ok());
  polyhead::EngineOptions o;
  o.sparse_weights = mode;
  auto engine = polyhead::Engine::create(*model, o);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  REQUIRE(plan->set_input(model->inputs()[0].name, x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  const polyhead::TaskInfo& task = model->tasks()[0];
  auto out = plan->output(task.name, task.outputs[0].name);
  REQUIRE(out.is_ok());
  *sparse_nodes = engine->stats().sparse_kernel_nodes;
  return std::vector<float>(out->f32(), out->f32() + out->shape.elements());
}

// x [1,3,3,I] -> FULLY_CONNECTED (keep_num_dims false: rows of I) with weights [O,I] read
// directly from a sparse float32 tensor -> y [9,O].
std::vector<uint8_t> sparse_fc_model(const std::vector<float>& w, int o, int i) {
  TfliteWriter tw;
  const int x = tw.f32("x", {1, 3, 3, i});
  const Encoded e = encode(w, {o, i}, {{0, 1}, {}, {}, {kDense, kCsr}, 2});
  const int weights = tw.tensor("fc_w", {o, i}, kF32, {}, bytes_of(e.values));
  tw.at(weights).sparsity = e.sparsity;
  const int y = tw.f32("y", {9, o});
  tw.op(tfl::kFullyConnected, {x, weights}, {y}, {}, kOptNone);
  tw.inputs({x});
  tw.outputs({y});
  return tw.finish();
}

}  // namespace

TEST_CASE("sparse weights of 1x1 convolutions and fully connected layers stay sparse",
          "[tflite][sparse]") {
  const int o = 8, i = 16;
  const std::vector<float> w = sparse_values(static_cast<size_t>(o * i), 0.3, 5);
  const std::vector<float> x = sparse_values(9 * i, 1.0, 6);
  tfl::ConvertOptions densify;
  densify.sparse_weights = polyhead::importers::SparseImport::kDensify;
  size_t sparse_nodes = 0;

  SECTION("a 1x1 convolution, float16 weights through DENSIFY and DEQUANTIZE") {
    const std::vector<uint8_t> file = pointwise_conv_model(w, o, i, WeightsAs::kSparseF16);
    tfl::ConvertReport kept_report, dense_report;
    auto kept = tfl::convert(file, {}, &kept_report);
    auto dense = tfl::convert(file, densify, &dense_report);
    REQUIRE(kept.is_ok());
    REQUIRE(dense.is_ok());
    CHECK(kept_report.sparse_weights_kept == 1);
    CHECK(dense_report.sparse_weights_kept == 0);
    CHECK(stored_blocks(*kept, "w") == std::make_pair(1, 1));  // scattered: 1x1 blocks
    CHECK(stored_blocks(*dense, "w") == std::make_pair(0, 0));
    CHECK(kept->size() < dense->size());
    // Expanded again for the dense kernel: the very same weights, the very same outputs.
    CHECK(run_with(*kept, x, polyhead::SparseWeights::kDense, &sparse_nodes) ==
          run_with(*dense, x, polyhead::SparseWeights::kDense, &sparse_nodes));
    CHECK(sparse_nodes == 0);
  }
  SECTION("a fully connected layer reading sparse weights directly") {
    const std::vector<uint8_t> file = sparse_fc_model(w, o, i);
    tfl::ConvertReport report;
    auto kept = tfl::convert(file, {}, &report);
    auto dense = tfl::convert(file, densify);
    REQUIRE(kept.is_ok());
    REQUIRE(dense.is_ok());
    CHECK(report.sparse_weights_kept == 1);
    CHECK(stored_blocks(*kept, "fc_w") == std::make_pair(1, 1));
    CHECK(run_with(*kept, x, polyhead::SparseWeights::kDense, &sparse_nodes) ==
          run_with(*dense, x, polyhead::SparseWeights::kDense, &sparse_nodes));
  }
  SECTION("not where no sparse kernel runs the layer: a strided 1x1 convolution") {
    TfliteWriter tw;
    const int xx = tw.f32("x", {1, 4, 4, i});
    const Encoded e = encode(w, {o, 1, 1, i}, kMediaPipe);
    const int ws = tw.tensor("w", {o, 1, 1, i}, kF32, {}, bytes_of(e.values));
    tw.at(ws).sparsity = e.sparsity;
    const int y = tw.f32("y", {1, 2, 2, o});
    tw.op(tfl::kConv2D, {xx, ws}, {y}, conv_options(kValid, 2, kActNone), kOptConv);
    tw.inputs({xx});
    tw.outputs({y});
    tfl::ConvertReport report;
    auto phm = tfl::convert(tw.finish(), {}, &report);
    REQUIRE(phm.is_ok());
    CHECK(report.sparse_tensors == 1);
    CHECK(report.sparse_weights_kept == 0);
    CHECK(stored_blocks(*phm, "w") == std::make_pair(0, 0));
  }
  SECTION("not when too dense to pay") {
    const std::vector<float> dense_w = sparse_values(static_cast<size_t>(o * i), 0.7, 5);
    tfl::ConvertReport report;
    REQUIRE(tfl::convert(pointwise_conv_model(dense_w, o, i, WeightsAs::kSparseF32), {}, &report)
                .is_ok());
    CHECK(report.sparse_weights_kept == 0);
  }
}

// Separate, for it needs the sparse kernel (kernels/, docs/sparse.md).
TEST_CASE("sparse weights kept by the importer run on the sparse kernel", "[tflite][sparse]") {
  const int o = 8, i = 16;
  const std::vector<float> w = sparse_values(static_cast<size_t>(o * i), 0.2, 5);
  const std::vector<float> x = sparse_values(9 * i, 1.0, 6);
  auto phm = tfl::convert(pointwise_conv_model(w, o, i, WeightsAs::kSparseF16), {});
  REQUIRE(phm.is_ok());
  size_t sparse_nodes = 0;
  const std::vector<float> want = run_with(*phm, x, polyhead::SparseWeights::kDense, &sparse_nodes);
  const std::vector<float> got = run_with(*phm, x, polyhead::SparseWeights::kSparse, &sparse_nodes);
  CHECK(sparse_nodes == 1);
  REQUIRE(got.size() == want.size());
  for (size_t k = 0; k < got.size(); ++k) CHECK(got[k] == Approx(want[k]).margin(1e-5));
}

TEST_CASE("the block shape kept sparse is the one storing the weights in the fewest bytes",
          "[tflite][sparse]") {
  SECTION("scattered nonzeros: 1x1 blocks") {
    const std::vector<float> w = sparse_values(64 * 32, 0.3, 3);
    const auto s = tfl::choose_sparse_storage(w.data(), 64, 32);
    REQUIRE(s.has_value());
    CHECK(s->block_rows == 1);
    CHECK(s->block_cols == 1);
    size_t nonzero = 0;
    for (float v : w) nonzero += v != 0.f;
    CHECK(s->stored_blocks == nonzero);
    CHECK(s->bytes == 4 * (2 * nonzero + 64 + 1));
    CHECK(s->density == Approx(static_cast<double>(nonzero) / (64 * 32)));
  }
  SECTION("nonzeros in runs of 8 rows: 8x1 blocks") {
    std::vector<float> w(64 * 32, 0.f);
    std::mt19937 rng(4);
    for (size_t r0 = 0; r0 < 64; r0 += 8)
      for (size_t c = 0; c < 32; ++c)
        if (rng() % 4 == 0)
          for (size_t r = r0; r < r0 + 8; ++r) w[r * 32 + c] = 1.f + static_cast<float>(r);
    const auto s = tfl::choose_sparse_storage(w.data(), 64, 32);
    REQUIRE(s.has_value());
    CHECK(s->block_rows == 8);
  }
  SECTION("pairs of rows: 2x1 blocks beat 1x1 (fewer indices) and 4x1 (fewer zeros)") {
    std::vector<float> w(16 * 16, 0.f);
    for (size_t r0 = 0; r0 < 16; r0 += 2)
      for (size_t c = (r0 / 2) % 3; c < 16; c += 3) w[r0 * 16 + c] = w[(r0 + 1) * 16 + c] = 1.f;
    const auto s = tfl::choose_sparse_storage(w.data(), 16, 16);
    REQUIRE(s.has_value());
    CHECK(s->block_rows == 2);
  }
  SECTION("rows not divisible by 8 or 4: only the shapes dividing them") {
    std::vector<float> w(6 * 10, 0.f);
    for (size_t c = 0; c < 10; c += 4)
      for (size_t r = 0; r < 6; ++r) w[r * 10 + c] = 2.f;
    const auto s = tfl::choose_sparse_storage(w.data(), 6, 10);
    REQUIRE(s.has_value());
    CHECK(s->block_rows == 2);  // whole columns: the largest block that divides 6
  }
  SECTION("too dense to be worth it: stored dense") {
    const std::vector<float> w = sparse_values(64 * 32, 0.6, 8);
    CHECK_FALSE(tfl::choose_sparse_storage(w.data(), 64, 32).has_value());
  }
}

TEST_CASE("the import option for sparse weights: keep or densify", "[tflite][sparse]") {
  polyhead::importers::SparseImport s = polyhead::importers::SparseImport::kDensify;
  REQUIRE(polyhead::importers::parse_sparse_import("keep", &s));
  CHECK(s == polyhead::importers::SparseImport::kKeep);
  REQUIRE(polyhead::importers::parse_sparse_import("densify", &s));
  CHECK(s == polyhead::importers::SparseImport::kDensify);
  CHECK_FALSE(polyhead::importers::parse_sparse_import("sparse", &s));
  CHECK(std::string(polyhead::importers::sparse_import_name(s)) == "densify");
  CHECK(tfl::ConvertOptions{}.sparse_weights == polyhead::importers::SparseImport::kKeep);
}
