// I32 constants stored as int16 (docs/format.md, "Int16 storage", since format 1.8): int8
// biases are mostly small, so a file stores each in 2 bytes instead of 4 when every value of the
// constant fits, and every reader widens it back to the same int32 values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace polyhead::internal {

// `count` int32 values as int16, or nullopt when one does not fit.
std::optional<std::vector<int16_t>> narrow_to_int16(const void* int32_values, size_t count);

// `count` little-endian int16 values from `stored` (any alignment), widened into `out`.
void widen_int16(const void* stored, size_t count, int32_t* out);

}  // namespace polyhead::internal
