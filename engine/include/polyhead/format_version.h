// The .phm format version this build reads and writes. See docs/format.md for the rule: readers
// accept every minor version of their major version and reject any other major version.
#pragma once

#include <cstdint>

namespace polyhead {

constexpr uint32_t kFormatVersionMajor = 1;
constexpr uint32_t kFormatVersionMinor = 2;
constexpr const char kFileIdentifier[] = "PHM1";

}  // namespace polyhead
