// Quantization scales stored as half floats (engine/internal/polyhead/internal/half_scales.h): the
// conversions are exact both ways, the writer stores halves only when nothing is lost, and the
// loader gives the same floats back. Hostile half scales are in test_model_loader.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "polyhead/format_version.h"
#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/phm_writer.h"
#include "polyhead/schema/phm_generated.h"

using namespace polyhead;
using namespace polyhead::internal;

TEST_CASE("half scales: known halves convert to their floats", "[half_scales]") {
  CHECK(half_to_float(0x3c00) == 1.f);
  CHECK(half_to_float(0x3800) == 0.5f);
  CHECK(half_to_float(0xc000) == -2.f);
  CHECK(half_to_float(0x7bff) == 65504.f);
  CHECK(half_to_float(0x0400) == std::ldexp(1.f, -14));  // smallest normal
  CHECK(half_to_float(0x0001) == std::ldexp(1.f, -24));  // smallest subnormal
  CHECK(half_to_float(0x0000) == 0.f);
  CHECK(std::isinf(half_to_float(0x7c00)));
  CHECK(std::isnan(half_to_float(0x7e00)));
}

TEST_CASE("half scales: every normal half round-trips, nothing else is taken as one",
          "[half_scales]") {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const uint32_t exponent = (half >> 10) & 0x1f;
    const std::optional<uint16_t> back = exact_half(half_to_float(half));
    if (exponent == 0 || exponent == 0x1f) {
      // Zero, subnormals, infinities and NaN: never stored as halves (the floats are kept).
      CHECK_FALSE(back.has_value());
    } else {
      REQUIRE(back.has_value());
      CHECK(*back == half);
    }
  }
  CHECK_FALSE(exact_half(0.1f).has_value());
  CHECK_FALSE(exact_half(1.f + std::ldexp(1.f, -11)).has_value());  // one bit too many
  CHECK_FALSE(exact_half(65536.f).has_value());
}

TEST_CASE("half scales: rounding gives the nearest half, within half a half ulp", "[half_scales]") {
  uint32_t seed = 12345;
  for (int i = 0; i < 20000; ++i) {
    seed = seed * 1664525u + 1013904223u;
    const float v = std::ldexp(1.f + static_cast<float>(seed >> 8) / 16777216.f,
                               static_cast<int>(seed % 28) - 14);
    INFO("v = " << v);
    const std::optional<float> r = round_to_half(v);
    if (v >= 65520.f) {  // nearer 65536 than 65504: no normal half
      CHECK_FALSE(r.has_value());
      continue;
    }
    REQUIRE(r.has_value());
    CHECK(exact_half(*r).has_value());
    const float ulp = std::ldexp(1.f, std::ilogb(v) - 10);
    CHECK(std::fabs(*r - v) <= ulp / 2);
    // No other half is nearer: the neighbours one half ulp away are not.
    CHECK(std::fabs(*r - v) <= std::fabs(*r + ulp - v));
    CHECK(std::fabs(*r - v) <= std::fabs(*r - ulp - v));
  }
  CHECK(round_to_half(0.5f) == 0.5f);                       // already a half: unchanged
  CHECK(round_to_half(1.f + std::ldexp(1.f, -11)) == 1.f);  // a tie: to the even half
  CHECK(round_to_half(1.f + 3 * std::ldexp(1.f, -11)) == 1.f + std::ldexp(1.f, -9));
  CHECK(round_to_half(2.f - std::ldexp(1.f, -12)) == 2.f);  // up across a binade
  CHECK_FALSE(round_to_half(0.f).has_value());
  CHECK_FALSE(round_to_half(-1.f).has_value());
  CHECK_FALSE(round_to_half(std::ldexp(1.f, -15)).has_value());  // below the normal range
  CHECK_FALSE(round_to_half(std::numeric_limits<float>::quiet_NaN()).has_value());
  CHECK(round_to_half(65504.f) == 65504.f);
  CHECK_FALSE(round_to_half(65530.f).has_value());
}

TEST_CASE("half scales: the writer stores halves only when every scale is one", "[half_scales]") {
  PhmQuantization q;
  q.axis = 0;
  q.scale = {0.5f, 0.25f, 0.0078125f};
  CHECK(scales_as_halves(q) == std::vector<uint16_t>{0x3800, 0x3400, 0x2000});
  q.scale[1] = 0.1f;  // not a half
  CHECK_FALSE(scales_as_halves(q).has_value());
  q.scale = {0.5f};  // one scale: nothing to save
  CHECK_FALSE(scales_as_halves(q).has_value());

  // Through a whole table: halves in, the same floats out, and a 1.8 stamp on the file.
  flatbuffers::FlatBufferBuilder b;
  PhmQuantization per_channel;
  per_channel.axis = 3;
  per_channel.scale = {0.5f, 0.25f, 0.125f};
  b.Finish(add_phm_quantization(b, per_channel));
  const auto* table = flatbuffers::GetRoot<schema::Quantization>(b.GetBufferPointer());
  CHECK(table->scale() == nullptr);
  REQUIRE(table->scale_f16() != nullptr);
  CHECK(quantization_scales(*table) == per_channel.scale);
  CHECK(quantization_scale_count(*table) == 3);
}
