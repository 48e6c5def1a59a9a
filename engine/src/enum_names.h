// Names of a closed enum, indexed by its value, and the parse back (internal): the engine's
// public enums print and parse through these, so every name table fails the same way.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "polyhead/result.h"

namespace polyhead::detail {

template <typename Enum, size_t N>
const char* name_of(Enum value, const char* const (&names)[N]) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : "?";
}

template <typename Enum, size_t N>
Result<Enum> parse(std::string_view name, const char* const (&names)[N], const char* what) {
  std::string known;
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<Enum>(i);
    known += (known.empty() ? "" : ", ") + std::string(names[i]);
  }
  return Status(ErrorCode::kInvalidArgument, std::string("unknown ") + what + " '" +
                                                 std::string(name) + "' (known: " + known + ")");
}

}  // namespace polyhead::detail
