#include "offline/graph/phm_file_writer.h"

#include <cstring>

#include "polyhead/format_version.h"

namespace polyhead::merge {
namespace {

namespace fb = flatbuffers;

constexpr uint64_t kMaxFileBytes = uint64_t{1} << 31;  // the FlatBuffers limit

uint64_t align(uint64_t v) {
  return (v + 63) / 64 * 64;
}

}  // namespace

Result<std::vector<uint8_t>> write_phm_file(const ModelTableBuilder& build,
                                            const std::vector<ConstantBytes>& constants,
                                            const std::string& what) {
  std::vector<uint64_t> offsets(constants.size(), 0);
  fb::FlatBufferBuilder sizing;
  sizing.ForceDefaults(true);
  PH_ASSIGN_OR_RETURN(auto sizing_root, build(sizing, offsets));
  sizing.Finish(sizing_root, kFileIdentifier);
  uint64_t cursor = align(sizing.GetSize());
  for (size_t i = 0; i < offsets.size(); ++i) {
    offsets[i] = cursor;
    cursor = align(cursor + constants[i].size);
  }
  if (cursor >= kMaxFileBytes)
    return Status(ErrorCode::kInvalidArgument,
                  what + " would take " + std::to_string(cursor) +
                      " bytes; a .phm file must be smaller than 2 GiB");
  fb::FlatBufferBuilder b;
  b.ForceDefaults(true);
  PH_ASSIGN_OR_RETURN(auto root, build(b, offsets));
  b.Finish(root, kFileIdentifier);
  if (b.GetSize() != sizing.GetSize())
    return Status(ErrorCode::kInternal, what + ": size changed between writer passes");
  std::vector<uint8_t> bytes(static_cast<size_t>(cursor), 0);
  std::memcpy(bytes.data(), b.GetBufferPointer(), b.GetSize());
  for (size_t i = 0; i < offsets.size(); ++i)
    if (constants[i].size > 0)
      std::memcpy(bytes.data() + offsets[i], constants[i].data,
                  static_cast<size_t>(constants[i].size));
  return bytes;
}

}  // namespace polyhead::merge
