// The .phm format version this build reads and writes. See docs/format.md for the rule: readers
// accept every minor version of their major version and reject any other major version; writers
// record the lowest minor version that has everything their model uses.
#pragma once

#include <cstdint>

namespace polyhead {

constexpr uint32_t kFormatVersionMajor = 1;
// The minor version written for a model that uses nothing newer. Every writer wrote 1.2 before
// 1.3 existed, so the files of models without newer operators stay byte for byte the same.
constexpr uint32_t kFormatVersionMinor = 2;
// The minor version that added block-sparse constants (Tensor.sparse).
constexpr uint32_t kSparseConstantsSinceMinor = 6;
// The minor version from which the I32 bias of an int8 layer may omit its quantization (its
// scales are then input scale x weight scale, docs/format.md).
constexpr uint32_t kImpliedBiasScalesSinceMinor = 7;
// The minor version that added detection anchors stored as grids (PostProcess.anchor_grids).
constexpr uint32_t kAnchorGridsSinceMinor = 8;
// The minor version that added quantization scales stored as half floats (Quantization.scale_f16).
constexpr uint32_t kHalfScalesSinceMinor = 8;
// The minor version that added I32 constants stored as int16 (Tensor.storage INT16).
constexpr uint32_t kNarrowConstantsSinceMinor = 8;
// The newest minor version this build knows (1.3 added the ABS operator, 1.4 SILU, 1.5 SLICE and
// CHANNEL_SHUFFLE, 1.6 sparse constants, 1.7 implied bias scales, 1.8 anchor grids and half-float
// scales): the largest OpInfo::since_minor of the operator table (polyhead/kernels/op_table.h) or
// of a feature above.
constexpr uint32_t kFormatVersionMinorLatest = 8;
constexpr const char kFileIdentifier[] = "PHM1";

// The minor version a writer records for a model whose newest operator (OpInfo::since_minor) or
// feature appeared in minor version `newest_used`.
constexpr uint32_t format_minor_to_write(uint32_t newest_used) {
  return newest_used > kFormatVersionMinor ? newest_used : kFormatVersionMinor;
}

}  // namespace polyhead
