// Lays out a .phm file (docs/format.md): the FlatBuffer first, then each constant at a 64-byte
// aligned offset. The tools that write models from schema tables (merge, quantize) share it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::merge {

struct ConstantBytes {
  const void* data = nullptr;
  uint64_t size = 0;
};

// Builds the model's root table given the file offset of every constant (in `constants` order).
using ModelTableBuilder = std::function<Result<flatbuffers::Offset<schema::Model>>(
    flatbuffers::FlatBufferBuilder&, const std::vector<uint64_t>& offsets)>;

// Calls `build` twice: once to size the FlatBuffer (offsets are fixed-size struct fields, so the
// second pass with the real offsets has the same size), once for real. Every default is written
// out so that no value is normalised away (a -0.0 option stays -0.0). `what` names the model in
// errors ("the merged model").
Result<std::vector<uint8_t>> write_phm_file(const ModelTableBuilder& build,
                                            const std::vector<ConstantBytes>& constants,
                                            const std::string& what);

}  // namespace polyhead::merge
