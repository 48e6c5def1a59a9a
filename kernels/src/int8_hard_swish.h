// int8 HARD_SWISH, x * relu6(x + 3) / 6, as TFLite's fixed-point definition computes it, so that
// full-integer TFLite models agree with LiteRT bit for bit (docs/int8.md, "Rounding").
#pragma once

#include <array>
#include <cstdint>

#include "int8_params.h"

namespace polyhead::kernels {

// The output code of every input code, indexed by the input byte (uint8_t(q)). When the
// parameters lie outside what the fixed-point definition covers (input scale / output scale
// >= 128, where TFLite refuses the node), the exact function rounded half to even instead.
std::array<int8_t, 256> hard_swish_table_s8(const QParams& in, const QParams& out);

}  // namespace polyhead::kernels
