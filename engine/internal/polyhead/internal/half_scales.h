// Quantization scales stored as IEEE 754 half floats (docs/format.md, "Half-float scales", since
// format 1.8). A per-channel weight scale needs no more than a half's 11 significant bits: the
// quantizer rounds it to one, and the file then stores 2 bytes per channel instead of 4. The
// writer stores halves only when every scale is exactly one, so nothing is lost.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "polyhead/schema/phm_generated.h"

namespace polyhead::internal {

// Every half is exactly a float (subnormals, infinities and NaN too).
float half_to_float(uint16_t h);

// The normal half equal to `v`, or nullopt when `v` is not exactly a normal half.
std::optional<uint16_t> exact_half(float v);

// The normal half nearest `v` (ties to the even one), or nullopt when `v` is not positive or the
// nearest half lies outside the normal half range [2^-14, 65504].
std::optional<float> round_to_half(float v);

// The table's scales, from `scale` or `scale_f16` (whichever is present; empty when neither is).
std::vector<float> quantization_scales(const schema::Quantization& q);

// How many scales the table stores, from either field.
size_t quantization_scale_count(const schema::Quantization& q);

}  // namespace polyhead::internal
