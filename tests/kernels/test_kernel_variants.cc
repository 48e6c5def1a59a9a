// Every instruction-set variant of Polyhead's own kernels that the running CPU offers (reference,
// generic, and NEON, AVX2 or AVX-512) against the portable reference, on odd sizes and tails; and
// the rules for forcing a variant. Under qemu this covers NEON; on x86 AVX2 and AVX-512.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/model_builder.h"
#include "support/test_models.h"

using namespace polyhead;
using kernels::Isa;
using kernels::KernelVariant;
using testing::random_values;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

const KernelVariant& reference_table() {
  return *kernels::kernel_variant(Isa::kReference);
}

std::vector<float> scaled(size_t count, uint32_t seed, float scale) {
  return random_values(count, seed, scale);
}

// Largest |a - b| / (abs_tol + rel_tol * |b|); <= 1 means agreement. NaN counts as disagreement.
double worst_ratio(const std::vector<float>& a, const std::vector<float>& b, double abs_tol,
                   double rel_tol, size_t* where) {
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::fabs(static_cast<double>(a[i]) - b[i]);
    const double ratio = err / (abs_tol + rel_tol * std::fabs(static_cast<double>(b[i])));
    if (!(ratio <= worst)) {
      worst = std::isnan(ratio) ? kInf : ratio;
      *where = i;
    }
  }
  return worst;
}

void require_close(const std::vector<float>& got, const std::vector<float>& want, double abs_tol,
                   double rel_tol) {
  REQUIRE(got.size() == want.size());
  size_t at = 0;
  const double r = worst_ratio(got, want, abs_tol, rel_tol, &at);
  INFO("worst at " << at << ": got " << (got.empty() ? 0.f : got[at]) << ", reference "
                   << (want.empty() ? 0.f : want[at]));
  CHECK(r <= 1.0);
}

void require_equal(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  // memcmp must not see the null data() of empty vectors.
  const bool same =
      got.empty() || std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0;
  CHECK(same);
}

// The variants to check: all that this build on this CPU offers.
std::vector<Isa> variants() {
  std::vector<Isa> v = kernels::available_isas();
  REQUIRE(std::find(v.begin(), v.end(), Isa::kReference) != v.end());
  REQUIRE(std::find(v.begin(), v.end(), Isa::kGeneric) != v.end());
  return v;
}

// Sizes around every vector width (4, 8, 16 lanes) and a long run with a tail.
const std::vector<size_t>& odd_counts() {
  static const std::vector<size_t> counts = {0,  1,  2,  3,  4,  5,  7,  8,   9,   15,
                                             16, 17, 31, 32, 33, 63, 65, 100, 1037};
  return counts;
}

Shape nhwc(int64_t n, int64_t h, int64_t w, int64_t c) {
  return Shape{n, h, w, c};
}

}  // namespace

TEST_CASE("the reference and generic variants are always available", "[variants]") {
  const std::vector<Isa> v = variants();
  INFO("available: " << kernels::available_isa_names());
#if defined(__x86_64__)
  // What this x86 CPU reports decides which SIMD variants must be there.
  CHECK(std::find(v.begin(), v.end(), Isa::kNeon) == v.end());
#elif defined(__aarch64__)
  CHECK(std::find(v.begin(), v.end(), Isa::kNeon) != v.end());  // NEON is baseline on aarch64
#endif
  const Result<Isa> selected = kernels::selected_isa();
  REQUIRE(selected.is_ok());
  CHECK(*selected == v.back());  // the most specialised one runs by default
}

TEST_CASE("tanh variants agree with the reference on odd sizes and tails", "[variants][tanh]") {
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (size_t count : odd_counts()) {
      INFO("count " << count);
      std::vector<float> x = scaled(count, 7 + static_cast<uint32_t>(count), 6.f);
      // Points where the approximations switch or saturate, and the signed zeros.
      const float special[] = {0.f,   -0.f,   0.625f, -0.625f, 0.6249f, 1e-6f, -1e-6f,
                               9.99f, -10.5f, 20.f,   -40.f,   88.f,    -1e30f};
      for (size_t i = 0; i < count && i < std::size(special); ++i) x[i * 3 % count] = special[i];
      std::vector<float> want(count), got(count, -7.f);
      reference_table().tanh(x.data(), count, want.data());
      k.tanh(x.data(), count, got.data());
      require_close(got, want, 5e-7, 2e-6);
      for (size_t i = 0; i < count; ++i)
        if (x[i] == 0.f) CHECK(std::signbit(got[i]) == std::signbit(x[i]));
    }
  }
}

TEST_CASE("silu variants agree with the reference on odd sizes and tails", "[variants][silu]") {
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (size_t count : odd_counts()) {
      INFO("count " << count);
      std::vector<float> x = scaled(count, 11 + static_cast<uint32_t>(count), 12.f);
      // Around the -88 cut, saturation on both sides, and the signed zeros.
      const float inf = std::numeric_limits<float>::infinity();
      const float special[] = {0.f, -0.f, -87.9f, -88.1f, 88.f, -1e30f, 1e30f, -inf, inf, 1e-7f};
      for (size_t i = 0; i < count && i < std::size(special); ++i) x[i * 3 % count] = special[i];
      std::vector<float> want(count), got(count, -7.f);
      reference_table().silu(x.data(), count, want.data());
      k.silu(x.data(), count, got.data());
      for (size_t i = 0; i < count; ++i) {
        INFO("x = " << x[i]);
        if (std::isinf(x[i])) {
          CHECK(got[i] == want[i]);
        } else {
          CHECK(got[i] == Approx(want[i]).epsilon(2e-6).margin(1e-35));
        }
      }
    }
  }
}

TEST_CASE("softmax variants agree with the reference for several betas", "[variants][softmax]") {
  const size_t channel_counts[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1001};
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (float beta : {0.5f, 2.f, 0.f, -1.f, 1e-3f})
      for (size_t channels : channel_counts)
        for (size_t rows : {size_t{1}, size_t{3}}) {
          INFO("beta " << beta << ", rows " << rows << ", channels " << channels);
          const std::vector<float> x =
              scaled(rows * channels, 31 + static_cast<uint32_t>(channels), 8.f);
          std::vector<float> want(x.size()), got(x.size(), -7.f);
          reference_table().softmax(x.data(), rows, channels, beta, want.data());
          k.softmax(x.data(), rows, channels, beta, got.data());
          require_close(got, want, 1e-7, 1e-5);
        }
  }
}

TEST_CASE("softmax variants keep -inf logits at zero", "[variants][softmax]") {
  std::vector<float> x = {-kInf, 1.f, 2.f, -kInf, 0.5f, -3.f, 4.f, -kInf, 1.f};
  for (Isa isa : variants()) {
    INFO("variant " << kernels::isa_name(isa));
    std::vector<float> want(x.size()), got(x.size());
    reference_table().softmax(x.data(), 1, x.size(), 0.5f, want.data());
    kernels::kernel_variant(isa)->softmax(x.data(), 1, x.size(), 0.5f, got.data());
    require_close(got, want, 1e-7, 1e-5);
  }
}

TEST_CASE("transpose variants agree with the reference for every permutation",
          "[variants][transpose]") {
  // Permutations that keep the last axis, swap it, merge neighbours, and size-1 and empty axes.
  const std::vector<Shape> shapes = {
      Shape{7},          Shape{3, 5},       Shape{1, 9},        Shape{2, 3, 5},    Shape{4, 1, 7},
      Shape{2, 3, 5, 7}, Shape{1, 6, 5, 3}, Shape{3, 1, 1, 17}, Shape{1, 1, 1, 1}, Shape{2, 0, 3}};
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (const Shape& s : shapes) {
      std::vector<int32_t> perm(s.rank());
      std::iota(perm.begin(), perm.end(), 0);
      do {
        INFO("shape " << s.to_string() << " perm " << ::Catch::Detail::stringify(perm));
        const auto n = static_cast<size_t>(s.elements());
        const std::vector<float> x = scaled(n, 5, 1.f);
        std::vector<float> want(n), got(n, -7.f);
        reference_table().transpose(x.data(), s, perm.data(), want.data());
        k.transpose(x.data(), s, perm.data(), got.data());
        require_equal(got, want);
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
  }
}

TEST_CASE("nearest resize variants agree with the reference in every coordinate mode",
          "[variants][resize]") {
  struct Case {
    Shape in;
    int64_t h, w;
  };
  const Case cases[] = {{nhwc(1, 5, 7, 3), 10, 14}, {nhwc(2, 3, 3, 1), 7, 5},
                        {nhwc(1, 9, 11, 5), 4, 3},  {nhwc(1, 1, 1, 2), 3, 3},
                        {nhwc(1, 4, 6, 17), 4, 6},  {nhwc(1, 6, 4, 2), 1, 1}};
  using kernels::reference::Coordinates;
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (const Case& c : cases)
      for (Coordinates mode :
           {Coordinates::kHalfPixel, Coordinates::kAlignCorners, Coordinates::kAsymmetric}) {
        INFO(c.in.to_string() << " -> " << c.h << "x" << c.w << " mode " << static_cast<int>(mode));
        const std::vector<float> x = scaled(static_cast<size_t>(c.in.elements()), 11, 1.f);
        const auto n = static_cast<size_t>(c.in[0] * c.h * c.w * c.in[3]);
        std::vector<float> want(n), got(n, -7.f);
        reference_table().resize_nearest(x.data(), c.in, c.h, c.w, mode, want.data());
        k.resize_nearest(x.data(), c.in, c.h, c.w, mode, got.data());
        require_equal(got, want);
      }
  }
}

TEST_CASE("subsample, concatenation and copy variants agree with the reference",
          "[variants][movement]") {
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (int64_t stride_h : {1, 2, 3})
      for (int64_t stride_w : {1, 2, 3})
        for (const auto& [lo, hi] : {std::pair{-kInf, kInf}, std::pair{0.f, 6.f}}) {
          const Shape in = nhwc(2, 7, 9, 5);
          const Shape out = nhwc(2, (7 - 1) / stride_h + 1, (9 - 1) / stride_w + 1, 5);
          INFO("strides " << stride_h << "x" << stride_w << " range [" << lo << ", " << hi << "]");
          const std::vector<float> x = scaled(static_cast<size_t>(in.elements()), 13, 8.f);
          std::vector<float> want(static_cast<size_t>(out.elements())), got(want.size(), -7.f);
          reference_table().subsample(x.data(), in, out, stride_h, stride_w, lo, hi, want.data());
          k.subsample(x.data(), in, out, stride_h, stride_w, lo, hi, got.data());
          require_equal(got, want);
        }
    for (size_t axis = 0; axis < 3; ++axis) {
      INFO("concatenation axis " << axis);
      // Inputs 1, 2 and 3 wide along the axis.
      std::vector<Shape> shapes(3, Shape{2, 3, 5});
      for (size_t i = 0; i < shapes.size(); ++i) shapes[i][axis] = static_cast<int64_t>(i + 1);
      std::vector<std::vector<float>> inputs;
      std::vector<const float*> pointers;
      inputs.reserve(shapes.size());
      pointers.reserve(shapes.size());
      int64_t total = 0;
      for (size_t i = 0; i < shapes.size(); ++i) {
        inputs.push_back(
            scaled(static_cast<size_t>(shapes[i].elements()), 17 + static_cast<uint32_t>(i), 1.f));
        total += shapes[i].elements();
      }
      for (const auto& v : inputs) pointers.push_back(v.data());
      std::vector<float> want(static_cast<size_t>(total)), got(want.size(), -7.f);
      reference_table().concatenation(3, pointers.data(), shapes.data(), axis, want.data());
      k.concatenation(3, pointers.data(), shapes.data(), axis, got.data());
      require_equal(got, want);
    }
    for (size_t count : odd_counts()) {
      const std::vector<float> x = scaled(count, 19, 1.f);
      std::vector<float> got(count, -7.f);
      k.copy(x.data(), count * sizeof(float), got.data());
      require_equal(got, x);
    }
  }
}

TEST_CASE("pad variants agree with the reference", "[variants][movement][pad]") {
  struct Case {
    Shape in;
    std::vector<int64_t> before, after;
  };
  const Case cases[] = {
      {nhwc(1, 6, 5, 3), {0, 1, 1, 0}, {0, 1, 1, 0}},  // an image's border (pose landmarks' input)
      {nhwc(2, 4, 3, 5), {0, 0, 2, 0}, {0, 3, 0, 0}},  // asymmetric, batch of two
      {nhwc(1, 3, 4, 6), {0, 0, 0, 2}, {0, 0, 0, 3}},  // channels only
      {nhwc(1, 3, 4, 2), {1, 2, 0, 1}, {1, 0, 2, 1}},  // every dimension
      {nhwc(1, 2, 2, 2), {0, 0, 0, 0}, {0, 0, 0, 0}},  // nothing
      {Shape{7}, {3}, {2}},                            // rank 1
      {Shape{3, 5}, {0, 4}, {2, 0}},                   // rank 2
  };
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    for (const Case& c : cases) {
      INFO("variant " << kernels::isa_name(isa) << ", input of " << c.in.elements());
      Shape out = c.in;
      for (size_t d = 0; d < c.in.rank(); ++d) out[d] += c.before[d] + c.after[d];
      const std::vector<float> x = scaled(static_cast<size_t>(c.in.elements()), 23, 4.f);
      std::vector<float> want(static_cast<size_t>(out.elements())), got(want.size(), -7.f);
      reference_table().pad(x.data(), c.in, c.before.data(), out, 0.5f, want.data());
      k.pad(x.data(), c.in, c.before.data(), out, 0.5f, got.data());
      require_equal(got, want);
      // The reference itself: every input value appears once, the rest is the pad value.
      const auto pads = static_cast<size_t>(std::count(want.begin(), want.end(), 0.5f));
      CHECK(pads >= want.size() - x.size());
    }
  }
}

TEST_CASE("slice variants agree with the reference", "[variants][movement][slice]") {
  struct Case {
    Shape in;
    std::vector<int64_t> begin, step;
    Shape out;
  };
  const Case cases[] = {
      {nhwc(1, 6, 5, 8),
       {0, 0, 0, 4},
       {1, 1, 1, 1},
       nhwc(1, 6, 5, 4)},  // channel half (ShuffleNet)
      {nhwc(2, 6, 5, 8), {1, 2, 0, 0}, {1, 1, 1, 1}, nhwc(1, 3, 5, 8)},     // whole rows
      {nhwc(1, 6, 5, 3), {0, 5, 4, 2}, {1, -1, -2, -1}, nhwc(1, 6, 3, 3)},  // backwards
      {nhwc(1, 7, 7, 5), {0, 1, 1, 1}, {1, 3, 2, 2}, nhwc(1, 2, 3, 2)},     // strided everywhere
      {nhwc(1, 2, 2, 2), {0, 0, 0, 0}, {1, 1, 1, 1}, nhwc(1, 2, 2, 2)},     // all of it
      {nhwc(1, 3, 4, 5), {0, 2, 3, 4}, {1, 1, 1, 1}, nhwc(1, 1, 1, 1)},     // one value
      {Shape{37}, {3}, {5}, Shape{7}},                                      // rank 1
      {Shape{4, 9}, {3, 8}, {-1, -4}, Shape{4, 3}},                         // rank 2, backwards
      {Shape{2, 3, 2, 3, 2, 3}, {1, 0, 1, 2, 0, 1}, {1, 2, 1, -1, 1, 1}, Shape{1, 2, 1, 3, 2, 2}},
  };
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    for (const Case& c : cases) {
      INFO("variant " << kernels::isa_name(isa) << ", " << c.in.to_string() << " -> "
                      << c.out.to_string());
      const std::vector<float> x = scaled(static_cast<size_t>(c.in.elements()), 29, 4.f);
      std::vector<float> want(static_cast<size_t>(c.out.elements()), -9.f), got(want.size(), -7.f);
      reference_table().slice(x.data(), c.in, c.begin.data(), c.step.data(), c.out, want.data());
      k.slice(x.data(), c.in, c.begin.data(), c.step.data(), c.out, got.data());
      require_equal(got, want);
      // The reference itself: the first and last values read.
      int64_t first = 0, last = 0, stride = 1;
      for (size_t d = c.in.rank(); d-- > 0;) {
        first += c.begin[d] * stride;
        last += (c.begin[d] + (c.out[d] - 1) * c.step[d]) * stride;
        stride *= c.in[d];
      }
      CHECK(want.front() == x[static_cast<size_t>(first)]);
      CHECK(want.back() == x[static_cast<size_t>(last)]);
    }
  }
}

namespace {

std::vector<int8_t> random_bytes(size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> v(count);
  for (int8_t& x : v) x = static_cast<int8_t>(byte(rng));
  return v;
}

void require_equal_bytes(const std::vector<int8_t>& got, const std::vector<int8_t>& want) {
  REQUIRE(got.size() == want.size());
  size_t first = got.size();
  for (size_t i = 0; i < got.size() && first == got.size(); ++i)
    if (got[i] != want[i]) first = i;
  INFO("first difference at " << first << " of " << got.size());
  CHECK(first == got.size());
}

}  // namespace

TEST_CASE("the reference int8 requantization rounds half to even and clamps", "[variants][int8]") {
  using kernels::reference::Requantization;
  const std::vector<int8_t> in = {-128, -3, -1, 0, 1, 3, 5, 127};
  std::vector<int8_t> out(in.size());
  kernels::reference::requantize_s8(in.data(), in.size(), Requantization{0.5f, 0, 0, -128, 127},
                                    out.data());
  CHECK(out == std::vector<int8_t>{-64, -2, 0, 0, 0, 2, 2, 64});
  kernels::reference::requantize_s8(in.data(), in.size(), Requantization{16384.f, 1, 3, -100, 90},
                                    out.data());
  CHECK(out == std::vector<int8_t>{-100, -100, -100, -100, 3, 90, 90, 90});
}

TEST_CASE("requantize_s8 variants agree with the reference bit for bit", "[variants][int8]") {
  std::mt19937 rng(2024);
  std::uniform_real_distribution<float> log_multiplier(std::log(1e-4f), std::log(16384.f));
  std::uniform_int_distribution<int32_t> zero_point(-128, 127);
  std::vector<size_t> counts(71);
  std::iota(counts.begin(), counts.end(), size_t{0});
  counts.push_back(1037);
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    bool saturated_low = false, saturated_high = false;
    for (size_t count : counts)
      for (int trial = 0; trial < 4; ++trial) {
        kernels::reference::Requantization r;
        // Random multipliers over the whole supported range (0, 16384], its end, and values
        // whose products land on exact halves.
        r.multiplier = trial == 0 ? 16384.f : trial == 1 ? 0.5f : std::exp(log_multiplier(rng));
        r.input_zero_point = zero_point(rng);
        r.output_zero_point = zero_point(rng);
        if (trial == 3) {  // a fused activation's narrower bounds
          r.min = std::uniform_int_distribution<int32_t>(-128, 0)(rng);
          r.max = std::uniform_int_distribution<int32_t>(r.min, 127)(rng);
        }
        INFO("count " << count << ", multiplier " << r.multiplier << ", zero points "
                      << r.input_zero_point << "/" << r.output_zero_point << ", bounds [" << r.min
                      << ", " << r.max << "]");
        std::vector<int8_t> x = random_bytes(count, rng);
        if (count > 2) x[0] = -128, x[count - 1] = 127;
        std::vector<int8_t> want(count), got(count, 55);
        reference_table().requantize_s8(x.data(), count, r, want.data());
        k.requantize_s8(x.data(), count, r, got.data());
        require_equal_bytes(got, want);
        for (int8_t v : want) {
          saturated_low = saturated_low || v == -128;
          saturated_high = saturated_high || v == 127;
        }
      }
    CHECK(saturated_low);  // the clamps were exercised
    CHECK(saturated_high);
  }
}

TEST_CASE("lookup_s8 variants agree with the reference", "[variants][int8]") {
  std::mt19937 rng(77);
  const std::vector<int8_t> table = random_bytes(256, rng);
  for (Isa isa : variants()) {
    const KernelVariant& k = *kernels::kernel_variant(isa);
    INFO("variant " << kernels::isa_name(isa));
    for (size_t count = 0; count <= 70; ++count) {
      INFO("count " << count);
      const std::vector<int8_t> x = random_bytes(count, rng);
      std::vector<int8_t> want(count), got(count, 55);
      reference_table().lookup_s8(x.data(), count, table.data(), want.data());
      k.lookup_s8(x.data(), count, table.data(), got.data());
      require_equal_bytes(got, want);
      for (size_t i = 0; i < count; ++i)  // and the reference is the table
        CHECK(want[i] == table[static_cast<uint8_t>(x[i])]);
    }
    std::vector<int8_t> every;
    for (int v = -128; v <= 127; ++v) every.push_back(static_cast<int8_t>(v));
    std::vector<int8_t> got(256);
    k.lookup_s8(every.data(), every.size(), table.data(), got.data());
    for (size_t i = 0; i < 256; ++i) CHECK(got[i] == table[static_cast<uint8_t>(every[i])]);
  }
}

TEST_CASE("forcing an instruction set", "[variants][isa]") {
  for (Isa isa : kernels::kAllIsas) {
    INFO("variant " << kernels::isa_name(isa));
    const Status s = kernels::force_isa(isa);
    if (kernels::isa_available(isa)) {
      CHECK(s.is_ok());
      const Result<Isa> selected = kernels::selected_isa();
      REQUIRE(selected.is_ok());
      CHECK(*selected == isa);
    } else {
      // An unavailable variant is an error naming it and what is on offer, never a fallback.
      CHECK(s.code() == ErrorCode::kUnsupported);
      CHECK(s.message().find(kernels::isa_name(isa)) != std::string::npos);
      CHECK(s.message().find("reference") != std::string::npos);
    }
  }
  kernels::clear_forced_isa();
  const Result<Isa> parsed = kernels::parse_isa("sse9");
  REQUIRE_FALSE(parsed.is_ok());
  CHECK(parsed.status().message().find("'sse9'") != std::string::npos);
  for (Isa isa : kernels::kAllIsas) CHECK(*kernels::parse_isa(kernels::isa_name(isa)) == isa);
}

TEST_CASE("every variant gives the reference's results through the engine", "[variants][engine]") {
  // One model with every own kernel: tanh, softmax with beta 0.5, transpose, nearest resize,
  // concatenation, 1x1 subsampling and a reshape.
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 6, 10, 5});
  const int t = *b.unary("tanh", UnaryOp::kTanh, x);
  Pool2DParams sub;
  sub.stride_h = 2;
  sub.stride_w = 2;
  const int s = *b.pool2d("subsample", PoolOp::kMax, t, sub);
  const int r = *b.resize("resize", s, 6, 10, ResizeMode::kNearest, ResizeCoordinates::kHalfPixel);
  const int c = *b.concatenation("concat", {t, r}, 3);
  const int p = *b.transpose("transpose", c, {0, 3, 1, 2});
  const int flat = *b.reshape("reshape", p, Shape{1, 10, 60});
  const int sm = *b.softmax("softmax", flat, 0.5f);
  REQUIRE(b.add_task("all", TaskKind::kOther, {{"out", sm}}).is_ok());
  const auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  const auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  const std::vector<float> input = scaled(300, 3, 3.f);

  auto run_with = [&](Isa isa) {
    REQUIRE(kernels::force_isa(isa).is_ok());
    auto engine = Engine::create(*model);
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    REQUIRE(plan.is_ok());
    REQUIRE(plan->set_input("x", input.data(), input.size()).is_ok());
    REQUIRE(plan->run().is_ok());
    const TensorView out = *plan->output("all", "out");
    return std::vector<float>(out.f32(), out.f32() + out.shape.elements());
  };
  const std::vector<float> want = run_with(Isa::kReference);
  for (Isa isa : variants()) {
    INFO("variant " << kernels::isa_name(isa));
    require_close(run_with(isa), want, 1e-7, 1e-5);
  }
  kernels::clear_forced_isa();
}

TEST_CASE("qc8 GEMM variants agree with the reference bit for bit", "[variants][int8][gemm]") {
  std::mt19937 rng(11);
  auto byte = [&rng](int lo, int hi) {
    return static_cast<int8_t>(std::uniform_int_distribution<int>(lo, hi)(rng));
  };
  size_t variants_with_gemm = 0;
  for (Isa isa : kernels::available_isas()) {
    const KernelVariant* v = kernels::kernel_variant(isa);
    if (!v->qc8_gemm) continue;
    ++variants_with_gemm;
    // Rows around the 8-row tile, channels around the 16-channel blocks, depths around the
    // 4-byte groups (tails read with partial loads).
    for (size_t m : {1, 7, 8, 9, 33})
      for (size_t n : {1, 5, 16, 17, 33, 64})
        for (size_t k : {1, 3, 4, 5, 27, 97}) {
          CAPTURE(kernels::isa_name(isa), m, n, k);
          std::vector<int8_t> a(m * k), w(n * k), expected(m * n), actual(m * n, 0);
          std::vector<int32_t> bias(n);
          std::vector<float> scale(n);
          for (auto& x : a) x = byte(-128, 127);
          for (auto& x : w) x = byte(-127, 127);
          for (auto& x : bias) x = std::uniform_int_distribution<int32_t>(-5000, 5000)(rng);
          for (auto& x : scale) x = std::uniform_real_distribution<float>(1e-4f, 2e-2f)(rng);
          const int32_t a_zero = byte(-128, 127), c_zero = byte(-128, 127);
          const kernels::reference::Qc8Output out{scale.data(), c_zero, -100, 120};
          kernels::reference::qc8_gemm(m, n, k, a.data(), k, a_zero, w.data(), bias.data(), out,
                                       expected.data(), n);
          std::vector<uint8_t> packed(v->qc8_gemm->packed_bytes(n, k));
          v->qc8_gemm->pack(w.data(), n, k, bias.data(), a_zero, scale.data(), packed.data());
          v->qc8_gemm->run(m, n, k, a.data(), k, packed.data(), c_zero, -100, 120, actual.data(),
                           n);
          REQUIRE(actual == expected);
          if (v->qc8_gemm->run_in_range &&
              kernels::reference::qc8_sums_in_range(n, k, w.data(), bias.data(), scale.data())) {
            std::fill(actual.begin(), actual.end(), int8_t{0});
            v->qc8_gemm->run_in_range(m, n, k, a.data(), k, packed.data(), c_zero, -100, 120,
                                      actual.data(), n);
            REQUIRE(actual == expected);
          }
        }
  }
  // The VNNI variant has one; a CPU without it runs these layers in XNNPACK instead.
  if (kernels::isa_available(Isa::kAvx512Vnni)) CHECK(variants_with_gemm >= 1);
}

// One GEMM problem, its rows of a and c `a_stride` and `c_stride` apart.
struct GemmProblem {
  size_t m, n, k;
  const std::vector<int8_t>& a;
  size_t a_stride;
  int32_t a_zero;
  const std::vector<int8_t>& w;
  const std::vector<int32_t>& bias;
  const std::vector<float>& scale;
  int32_t c_zero, lo, hi;
  size_t c_stride;
};

// The variant's run() gives the reference's bytes and leaves the bytes between strided rows of c
// untouched; so does run_in_range(), where the variant has one and the problem's sums are in
// range (every problem of the tests that call this).
void check_gemm(const kernels::Qc8Gemm& gemm, const GemmProblem& p) {
  std::vector<int8_t> expected(p.m * p.c_stride, 77), actual(p.m * p.c_stride, 77);
  const kernels::reference::Qc8Output out{p.scale.data(), p.c_zero, p.lo, p.hi};
  kernels::reference::qc8_gemm(p.m, p.n, p.k, p.a.data(), p.a_stride, p.a_zero, p.w.data(),
                               p.bias.data(), out, expected.data(), p.c_stride);
  std::vector<uint8_t> packed(gemm.packed_bytes(p.n, p.k));
  gemm.pack(p.w.data(), p.n, p.k, p.bias.data(), p.a_zero, p.scale.data(), packed.data());
  gemm.run(p.m, p.n, p.k, p.a.data(), p.a_stride, packed.data(), p.c_zero, p.lo, p.hi,
           actual.data(), p.c_stride);
  REQUIRE(actual == expected);
  if (!gemm.run_in_range) return;
  REQUIRE(
      kernels::reference::qc8_sums_in_range(p.n, p.k, p.w.data(), p.bias.data(), p.scale.data()));
  std::fill(actual.begin(), actual.end(), int8_t{77});
  gemm.run_in_range(p.m, p.n, p.k, p.a.data(), p.a_stride, packed.data(), p.c_zero, p.lo, p.hi,
                    actual.data(), p.c_stride);
  REQUIRE(actual == expected);
}

TEST_CASE("qc8 GEMM variants agree with the reference on few channels, strided and clamped",
          "[variants][int8][gemm]") {
  // The VNNI variant's path for n <= 16, k <= 64 (and the general one past it): every n and k up
  // to 40, odd row counts across its 8-row steps and 64-row passes, rows of a and c wider than k
  // and n, narrow and full clamps, and scales of 1/2 and 1/4 that put results exactly on halves
  // (rounded to even).
  std::mt19937 rng(29);
  auto byte = [&rng](int lo, int hi) {
    return static_cast<int8_t>(std::uniform_int_distribution<int>(lo, hi)(rng));
  };
  const size_t rows[] = {1, 3, 13, 71, 130};
  const int32_t clamps[][2] = {{-128, 127}, {-20, 30}, {0, 127}, {-128, -128}};
  for (Isa isa : kernels::available_isas()) {
    const KernelVariant* v = kernels::kernel_variant(isa);
    if (!v->qc8_gemm) continue;
    for (size_t n = 1; n <= 40; ++n)
      for (size_t k = 1; k <= 40; ++k) {
        const size_t m = rows[(n + k) % 5];
        const bool strided = (n * 7 + k) % 3 == 0;
        const size_t a_stride = strided ? k + 3 : k, c_stride = strided ? n + 5 : n;
        const int32_t lo = clamps[(n + 2 * k) % 4][0], hi = clamps[(n + 2 * k) % 4][1];
        CAPTURE(kernels::isa_name(isa), m, n, k, a_stride, c_stride, lo, hi);
        std::vector<int8_t> a(m * a_stride), w(n * k);
        std::vector<int32_t> bias(n);
        std::vector<float> scale(n);
        for (auto& x : a) x = byte(-128, 127);
        for (auto& x : w) x = byte(-127, 127);
        for (auto& x : bias) x = std::uniform_int_distribution<int32_t>(-3000, 3000)(rng);
        const int kind = static_cast<int>((n + k) % 3);
        for (auto& x : scale)
          x = kind == 0   ? 0.5f
              : kind == 1 ? 0.25f
                          : std::uniform_real_distribution<float>(1e-4f, 2e-2f)(rng);
        const int32_t a_zero = byte(-128, 127), c_zero = byte(-128, 127);
        if (kind != 2) {  // small sums, so that halves are common and not all clamped
          for (auto& x : w) x = byte(-2, 2);
          for (auto& x : a) x = static_cast<int8_t>(std::clamp(a_zero + byte(-3, 3), -128, 127));
          for (auto& x : bias) x = std::uniform_int_distribution<int32_t>(-20, 20)(rng);
        }
        check_gemm(*v->qc8_gemm, GemmProblem{m, n, k, a, a_stride, a_zero, w, bias, scale, c_zero,
                                             lo, hi, c_stride});
      }
  }
}

TEST_CASE("qc8 GEMM variants agree with the reference on deep rows: four-row stores, clamps",
          "[variants][int8][gemm]") {
  // The VNNI variant's general tile (k > 64): rows leave four at a time (saturating packs, the
  // lower clamp after them) and tiles of 1-2 rows one by one. Every n to 40 (partial blocks) and
  // row counts around the 4- and 8-row steps, with narrow, full and one-value clamps, strided
  // rows, scales of 1/2 that put results on halves, and sums far past both ends of the clamp.
  std::mt19937 rng(31);
  auto byte = [&rng](int lo, int hi) {
    return static_cast<int8_t>(std::uniform_int_distribution<int>(lo, hi)(rng));
  };
  const size_t rows[] = {1, 2, 3, 4, 5, 8, 12, 13, 17};
  const size_t depths[] = {65, 68, 97, 144};
  const int32_t clamps[][2] = {{-128, 127}, {-20, 30}, {0, 127}, {-128, -128}, {127, 127}};
  for (Isa isa : kernels::available_isas()) {
    const KernelVariant* v = kernels::kernel_variant(isa);
    if (!v->qc8_gemm) continue;
    for (size_t n = 1; n <= 40; ++n)
      for (size_t mi = 0; mi < std::size(rows); ++mi) {
        const size_t m = rows[mi], k = depths[(n + mi) % 4];
        const bool strided = (n + mi) % 3 == 0;
        const size_t a_stride = strided ? k + 5 : k, c_stride = strided ? n + 3 : n;
        const int32_t lo = clamps[(n + mi) % 5][0], hi = clamps[(n + mi) % 5][1];
        const bool halves = (n + 2 * mi) % 2 == 0;
        CAPTURE(kernels::isa_name(isa), m, n, k, a_stride, c_stride, lo, hi, halves);
        std::vector<int8_t> a(m * a_stride), w(n * k);
        std::vector<int32_t> bias(n);
        std::vector<float> scale(n);
        const int32_t a_zero = byte(-128, 127), c_zero = byte(-128, 127);
        if (halves) {  // small sums, exactly on halves often, mostly inside the clamp
          for (auto& x : w) x = byte(-1, 1);
          for (auto& x : a) x = static_cast<int8_t>(std::clamp(a_zero + byte(-2, 2), -128, 127));
          for (auto& x : bias) x = std::uniform_int_distribution<int32_t>(-40, 40)(rng);
          for (auto& x : scale) x = 0.5f;
        } else {  // large sums: many results far past both ends of the clamp
          for (auto& x : w) x = byte(-127, 127);
          for (auto& x : a) x = byte(-128, 127);
          for (auto& x : bias) x = std::uniform_int_distribution<int32_t>(-100000, 100000)(rng);
          for (auto& x : scale) x = std::uniform_real_distribution<float>(1e-3f, 5e-2f)(rng);
        }
        check_gemm(*v->qc8_gemm, GemmProblem{m, n, k, a, a_stride, a_zero, w, bias, scale, c_zero,
                                             lo, hi, c_stride});
      }
  }
}

TEST_CASE("qc8_sums_in_range bounds every sum a GEMM can make", "[variants][int8][gemm]") {
  // 255 * |w| summed plus |bias|, then times the scale, both at most 2^30.
  const std::vector<int8_t> w = {-128, 127, 5, 0};  // sum |w| = 260: 66300 per input swing
  const std::vector<int32_t> small = {1000}, large = {(1 << 30) - 66300}, over = {(1 << 30)};
  const std::vector<float> one = {1.f}, big = {20000.f}, huge = {16200.f};
  CHECK(kernels::reference::qc8_sums_in_range(1, 4, w.data(), small.data(), one.data()));
  CHECK(kernels::reference::qc8_sums_in_range(1, 4, w.data(), nullptr, one.data()));
  CHECK(kernels::reference::qc8_sums_in_range(1, 4, w.data(), large.data(), one.data()));
  CHECK_FALSE(kernels::reference::qc8_sums_in_range(1, 4, w.data(), over.data(), one.data()));
  // (1000 + 66300) * 16200 = 1.09e9 and * 20000 are past 2^30; * 15000 = 1.01e9 fits.
  CHECK_FALSE(kernels::reference::qc8_sums_in_range(1, 4, w.data(), small.data(), huge.data()));
  CHECK_FALSE(kernels::reference::qc8_sums_in_range(1, 4, w.data(), small.data(), big.data()));
  const std::vector<float> fits = {15000.f};
  CHECK(kernels::reference::qc8_sums_in_range(1, 4, w.data(), small.data(), fits.data()));
  // Any channel out of range decides.
  const std::vector<int8_t> w2 = {1, 1, 1, 1, 1, 1, 1, 1};
  const std::vector<int32_t> b2 = {0, INT32_MIN};
  const std::vector<float> s2 = {1.f, 1e-9f};
  CHECK_FALSE(kernels::reference::qc8_sums_in_range(2, 4, w2.data(), b2.data(), s2.data()));
}

TEST_CASE("qc8 GEMM: biases at the int32 limits wrap alike in the reference and every variant",
          "[variants][int8][gemm]") {
  // Found by fuzz_phm_model: a hostile model's bias near INT32_MIN made the int32 sums overflow
  // (undefined behaviour, caught by UBSan). They now wrap modulo 2^32 as SIMD accumulators do.
  const size_t m = 3, n = 4, k = 5;
  const std::vector<int8_t> a = {-128, 127, 5,    -7,   0,    127,  127, 127,
                                 127,  127, -128, -128, -128, -128, -128};
  const std::vector<int8_t> w = {-128, 127,  3,    -3,   100,  127, 127, 127, 127, 127,
                                 -128, -128, -128, -128, -128, 1,   -1,  1,   -1,  1};
  const std::vector<int32_t> bias = {INT32_MIN, INT32_MAX, INT32_MIN + 3672, INT32_MAX - 100};
  const std::vector<float> scale(n, 1e-9f);
  const int32_t a_zero = 127, c_zero = 0;
  const kernels::reference::Qc8Output out{scale.data(), c_zero, -128, 127};
  std::vector<int8_t> expected(m * n);
  kernels::reference::qc8_gemm(m, n, k, a.data(), k, a_zero, w.data(), bias.data(), out,
                               expected.data(), n);
  // The sums in 64 bits, wrapped to int32: what the reference must have computed.
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      int64_t sum = bias[j];
      for (size_t t = 0; t < k; ++t) sum += (int64_t{a[i * k + t]} - a_zero) * w[j * k + t];
      const auto acc = static_cast<int32_t>(static_cast<uint32_t>(sum));
      const float v = std::min(std::max(static_cast<float>(acc) * scale[j], -128.f), 127.f);
      CAPTURE(i, j, sum);
      CHECK(expected[i * n + j] == static_cast<int8_t>(std::nearbyint(v)));
    }
  for (Isa isa : kernels::available_isas()) {
    const KernelVariant* v = kernels::kernel_variant(isa);
    if (!v->qc8_gemm) continue;
    CAPTURE(kernels::isa_name(isa));
    std::vector<int8_t> actual(m * n, 0);
    std::vector<uint8_t> packed(v->qc8_gemm->packed_bytes(n, k));
    v->qc8_gemm->pack(w.data(), n, k, bias.data(), a_zero, scale.data(), packed.data());
    v->qc8_gemm->run(m, n, k, a.data(), k, packed.data(), c_zero, -128, 127, actual.data(), n);
    CHECK(actual == expected);
  }
}

TEST_CASE("f32 indirect GEMM variants agree with the reference bit for bit", "[variants][gemm]") {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> value(-2.f, 2.f);
  size_t variants_with_gemm = 0;
  for (Isa isa : kernels::available_isas()) {
    const KernelVariant* v = kernels::kernel_variant(isa);
    if (!v->f32_igemm) continue;
    ++variants_with_gemm;
    const kernels::F32Igemm& g = *v->f32_igemm;
    // Rows around every tile height (1, 2, 4, 6, 8), channels around the one- and two-register
    // panels, kernels of one and nine taps with padding taps pointing at a zero row.
    for (size_t m : {1, 2, 3, 5, 7, 8, 9, 13, 49})
      for (size_t n : {1, 5, 8, 16, 17, 24, 32, 33, 48, 70})
        for (size_t taps : {1, 9})
          for (size_t c : {1, 3, 16, 21}) {
            CAPTURE(kernels::isa_name(isa), m, n, taps, c);
            const size_t k = taps * c;
            std::vector<float> x((m * taps + 1) * c), w(n * k), bias(n), zeros(c, 0.f);
            for (auto& e : x) e = value(rng);
            for (auto& e : w) e = value(rng);
            for (auto& e : bias) e = value(rng);
            std::vector<const float*> ind(m * taps);
            for (size_t i = 0; i < ind.size(); ++i)
              ind[i] = i % 7 == 3 ? zeros.data() : x.data() + ((i * 5) % (m * taps + 1)) * c;
            const bool with_bias = (m + n) % 2 == 0;
            const float lo = -3.f, hi = taps == 1 ? kInf : 4.f;
            std::vector<float> expected(m * n), actual(m * n, -1.f);
            kernels::reference::f32_igemm(m, n, taps, c, ind.data(), w.data(),
                                          with_bias ? bias.data() : nullptr, lo, hi,
                                          expected.data(), n);
            std::vector<float> packed(g.packed_bytes(n, k) / sizeof(float) + 1);
            g.pack(w.data(), with_bias ? bias.data() : nullptr, n, k, packed.data());
            // All panels in one call, then panel by panel as the convolution's tasks run them
            // (each with the next panel to prefetch).
            g.run(m, n, taps, c, ind.data(), packed.data(), lo, hi, actual.data(), n, nullptr);
            REQUIRE(actual == expected);
            std::fill(actual.begin(), actual.end(), -1.f);
            const size_t panel_bytes = g.packed_bytes(g.nr, k);
            const auto* base = reinterpret_cast<const char*>(packed.data());
            for (size_t j0 = 0, p = 0; j0 < n; j0 += g.nr, ++p) {
              const size_t cols = std::min(g.nr, n - j0);
              const char* next = j0 + g.nr < n ? base + (p + 1) * panel_bytes : nullptr;
              g.run(m, cols, taps, c, ind.data(), base + p * panel_bytes, lo, hi,
                    actual.data() + j0, n, next);
            }
            REQUIRE(actual == expected);
          }
  }
  // AVX2, AVX-512 and aarch64 NEON have one; other CPUs run these layers in XNNPACK.
  if (kernels::isa_available(Isa::kAvx2) || kernels::isa_available(Isa::kAvx512)) {
    CHECK(variants_with_gemm >= 1);
  }
}

namespace {

// A model of one convolution: input "x", weights and bias random, output "y" of task "t".
Model conv_model(const Shape& x, const Shape& w, const Conv2DParams& p) {
  ModelBuilder b;
  const int in = b.add_input("x", x);
  const int weights = b.add_constant("w", w, random_values(static_cast<size_t>(w.elements()), 3));
  const int bias = b.add_constant("b", Shape{w[0]}, random_values(static_cast<size_t>(w[0]), 4));
  const auto y = b.conv2d("conv", in, weights, bias, p);
  REQUIRE(y.is_ok());
  REQUIRE(b.add_task("t", TaskKind::kOther, {{"y", *y}}).is_ok());
  const auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  return *model;
}

// Output "y" of a conv_model() with instruction set `isa` and `threads`. Runs another input
// first, so state a kernel wrongly carries from one run to the next shows. `packed` receives the
// engine's packed weight bytes.
std::vector<float> run_conv(const Model& model, const std::vector<float>& input, Isa isa,
                            size_t threads, size_t* packed = nullptr) {
  REQUIRE(kernels::force_isa(isa).is_ok());
  EngineOptions options;
  options.threads = threads;
  auto engine = Engine::create(model, options);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  if (packed) *packed = engine->stats().packed_weight_bytes;
  const std::vector<float> other(input.size(), 3.f);
  REQUIRE(plan->set_input("x", other.data(), other.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  REQUIRE(plan->set_input("x", input.data(), input.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  const TensorView out = *plan->output("t", "y");
  return std::vector<float>(out.f32(), out.f32() + out.shape.elements());
}

}  // namespace

TEST_CASE("the own dense convolution matches the reference through the engine",
          "[variants][engine][conv]") {
  // The own kernel takes layers whose weights exceed half of L2, so the input channels are chosen
  // to give weights of about one L2. Geometries the indirection table must get right: padding on
  // every side (asymmetric), stride, dilation, a batch of two, a 1x1 at stride 2, output channels
  // around the panel widths, one output pixel, and a fused ReLU6.
  struct Geometry {
    int64_t batch, h, w, n, kh, kw, stride, dilation, pad_top, pad_left, pad_bottom, pad_right;
  };
  const Geometry cases[] = {
      {1, 9, 7, 17, 3, 3, 1, 1, 1, 1, 1, 1},  {2, 8, 8, 33, 3, 3, 2, 1, 0, 0, 1, 1},
      {1, 10, 9, 18, 3, 3, 1, 2, 2, 2, 2, 2}, {1, 7, 7, 41, 1, 1, 2, 1, 0, 0, 0, 0},
      {1, 6, 11, 3, 5, 3, 1, 1, 2, 0, 2, 1},  {1, 1, 1, 70, 1, 1, 1, 1, 0, 0, 0, 0},
  };
  for (const Geometry& g : cases) {
    const auto c = static_cast<int64_t>(kernels::l2_cache_bytes() / sizeof(float) /
                                        static_cast<size_t>(g.n * g.kh * g.kw)) +
                   1;
    CAPTURE(g.batch, g.h, g.w, c, g.n, g.kh, g.kw, g.stride, g.dilation);
    const auto weight_count = static_cast<size_t>(g.n * g.kh * g.kw * c);
    Conv2DParams p;
    p.stride_h = p.stride_w = static_cast<int>(g.stride);
    p.dilation_h = p.dilation_w = static_cast<int>(g.dilation);
    p.pad_top = static_cast<int>(g.pad_top);
    p.pad_left = static_cast<int>(g.pad_left);
    p.pad_bottom = static_cast<int>(g.pad_bottom);
    p.pad_right = static_cast<int>(g.pad_right);
    p.activation = Activation::relu6();
    const Model model = conv_model(Shape{g.batch, g.h, g.w, c}, Shape{g.n, g.kh, g.kw, c}, p);
    const std::vector<float> input = random_values(static_cast<size_t>(g.batch * g.h * g.w * c), 5);
    size_t packed_bytes = 0;
    auto run_with = [&](Isa isa, size_t threads) {
      return run_conv(model, input, isa, threads, &packed_bytes);
    };
    // The reference table has no GEMM: XNNPACK's convolution, the independent check.
    const std::vector<float> want = run_with(Isa::kReference, 1);
    const size_t constant_bytes = (weight_count + static_cast<size_t>(g.n)) * sizeof(float);
    CHECK(packed_bytes == constant_bytes);
    for (Isa isa : variants()) {
      INFO("variant " << kernels::isa_name(isa));
      for (size_t threads : {1, 2}) {
        require_close(run_with(isa, threads), want, 1e-4, 1e-5);
        // The own kernel pads the output channels to whole panels (none of these counts is a
        // multiple of 16): a larger packing says it ran.
        if (kernels::kernel_variant(isa)->f32_igemm) CHECK(packed_bytes > constant_bytes);
      }
    }
  }
  kernels::clear_forced_isa();
}

TEST_CASE("multiply_add_taps variants agree with the reference bit for bit", "[variants][conv]") {
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> value(-2.f, 2.f);
  size_t variants_with_it = 0;
  for (Isa isa : kernels::available_isas()) {
    const KernelVariant* v = kernels::kernel_variant(isa);
    if (!v->multiply_add_taps) continue;
    ++variants_with_it;
    for (size_t taps : {0, 1, 4, 9})
      for (size_t period : {32, 96})
        for (size_t count : {1, 7, 16, 31, 32, 33, 95, 200}) {
          CAPTURE(kernels::isa_name(isa), taps, period, count);
          std::vector<std::vector<float>> xs(taps, std::vector<float>(count)),
              ws(taps, std::vector<float>(period));
          std::vector<const float*> x, w;
          for (auto& row : xs) {
            for (auto& e : row) e = value(rng);
            x.push_back(row.data());
          }
          for (auto& row : ws) {
            for (auto& e : row) e = value(rng);
            w.push_back(row.data());
          }
          std::vector<float> expected(count);
          for (auto& e : expected) e = value(rng);
          std::vector<float> actual = expected;
          const float lo = -1.5f, hi = taps % 2 ? kInf : 2.5f;
          kernels::reference::multiply_add_taps(taps, x.data(), w.data(), period, count, lo, hi,
                                                expected.data());
          v->multiply_add_taps(taps, x.data(), w.data(), period, count, lo, hi, actual.data());
          REQUIRE(actual == expected);
        }
  }
  if (kernels::isa_available(Isa::kAvx2) || kernels::isa_available(Isa::kAvx512)) {
    CHECK(variants_with_it >= 1);
  }
}

TEST_CASE("the own narrow convolutions match the reference through the engine",
          "[variants][engine][conv]") {
  // Depthwise convolutions of fewer than 16 channels and dense ones to a single output channel
  // (pose landmarks' segmentation head), with padding on every side, a batch of two, a 5x5 and
  // a 1x3 kernel, and activations.
  struct Geometry {
    bool depthwise;
    int64_t batch, h, w, c, kh, kw, pad_top, pad_left, pad_bottom, pad_right;
    Activation act;
  };
  const Geometry cases[] = {
      {true, 1, 17, 19, 8, 3, 3, 1, 1, 1, 1, Activation::relu6()},
      {true, 2, 9, 7, 3, 5, 5, 2, 2, 2, 2, Activation::none()},
      {true, 1, 6, 40, 5, 1, 3, 0, 1, 0, 0, Activation::relu()},
      {true, 1, 8, 8, 15, 3, 3, 0, 0, 0, 0, Activation::none()},
      {false, 1, 33, 21, 8, 3, 3, 1, 1, 1, 1, Activation::none()},
      {false, 2, 7, 9, 13, 3, 2, 0, 1, 2, 0, Activation::relu()},
  };
  for (const Geometry& g : cases) {
    CAPTURE(g.depthwise, g.batch, g.h, g.w, g.c, g.kh, g.kw);
    const Shape ws = g.depthwise ? Shape{g.c, g.kh, g.kw, 1} : Shape{1, g.kh, g.kw, g.c};
    Conv2DParams p;
    p.pad_top = static_cast<int>(g.pad_top);
    p.pad_left = static_cast<int>(g.pad_left);
    p.pad_bottom = static_cast<int>(g.pad_bottom);
    p.pad_right = static_cast<int>(g.pad_right);
    p.groups = g.depthwise ? static_cast<int>(g.c) : 1;
    p.activation = g.act;
    const Model model = conv_model(Shape{g.batch, g.h, g.w, g.c}, ws, p);
    const std::vector<float> input =
        random_values(static_cast<size_t>(g.batch * g.h * g.w * g.c), 9);
    auto run_with = [&](Isa isa, size_t threads) { return run_conv(model, input, isa, threads); };
    const std::vector<float> want = run_with(Isa::kReference, 1);  // XNNPACK's convolution
    for (Isa isa : variants()) {
      INFO("variant " << kernels::isa_name(isa));
      for (size_t threads : {1, 2}) require_close(run_with(isa, threads), want, 1e-5, 1e-5);
    }
  }
  kernels::clear_forced_isa();
}
