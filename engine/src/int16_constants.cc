#include "polyhead/internal/int16_constants.h"

#include <cstring>
#include <limits>

namespace polyhead::internal {

std::optional<std::vector<int16_t>> narrow_to_int16(const void* int32_values, size_t count) {
  std::vector<int16_t> out(count);
  const auto* bytes = static_cast<const uint8_t*>(int32_values);
  for (size_t k = 0; k < count; ++k) {
    int32_t v = 0;
    std::memcpy(&v, bytes + k * sizeof v, sizeof v);
    if (v < std::numeric_limits<int16_t>::min() || v > std::numeric_limits<int16_t>::max())
      return std::nullopt;
    out[k] = static_cast<int16_t>(v);
  }
  return out;
}

void widen_int16(const void* stored, size_t count, int32_t* out) {
  // Assembled from bytes, so the file's little-endian order holds on any host.
  const auto* b = static_cast<const uint8_t*>(stored);
  for (size_t k = 0; k < count; ++k)
    out[k] = static_cast<int16_t>(static_cast<uint16_t>(b[2 * k] | (b[2 * k + 1] << 8)));
}

}  // namespace polyhead::internal
