// Arithmetic precision of an engine's operators.
#pragma once

#include <string_view>

namespace polyhead {

enum class Precision {
  kF32,  // float32 everywhere (the default)
  kF16,  // IEEE half-precision compute where the CPU has fp16 arithmetic (docs/arm.md)
};

inline const char* precision_name(Precision p) {
  return p == Precision::kF16 ? "f16" : "f32";
}

// Parses "f32" or "f16"; false for anything else.
inline bool parse_precision(std::string_view name, Precision* out) {
  if (name == "f32")
    *out = Precision::kF32;
  else if (name == "f16")
    *out = Precision::kF16;
  else
    return false;
  return true;
}

}  // namespace polyhead
