// ModelData: the bytes of a model (mapped or borrowed), its FlatBuffer root and the validated
// runtime graph built from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/runtime/graph.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::detail {

// What identifies the contents of an open file without reading it: an in-place write changes the
// modification time, a truncation the size. Not the status-change time: replacing the file by
// rename, which leaves our bytes untouched, changes that of the old file (its link count).
struct FileStamp {
  uint64_t size = 0;
  int64_t modified_seconds = 0;
  int64_t modified_nanoseconds = 0;
  bool operator==(const FileStamp& o) const {
    return size == o.size && modified_seconds == o.modified_seconds &&
           modified_nanoseconds == o.modified_nanoseconds;
  }
};

struct ModelData {
  ModelData() = default;
  ModelData(const ModelData&) = delete;
  ModelData& operator=(const ModelData&) = delete;
  ~ModelData();

  const uint8_t* bytes = nullptr;
  size_t size = 0;
  void* mapping = nullptr;  // munmap'ed on destruction when the file was mapped
  size_t mapping_size = 0;
  void* owned = nullptr;  // freed on destruction when the Model copied the bytes

  // A mapped file stays open so that prepare can tell whether it changed on disk since it was
  // verified: a mapping shows later writes to the file, and a truncated one faults when read.
  std::string path;
  int file = -1;
  FileStamp stamp;

  const schema::Model* root = nullptr;
  // Copied at load so that reading them never goes back to a mapped file's bytes.
  uint32_t version_major = 0;
  uint32_t version_minor = 0;
  std::string producer;
  std::string description;
  std::vector<std::pair<std::string, std::string>> metadata;  // key, value (empty when absent)
  runtime::Graph graph;
  // I32 constants the file stores as int16 (Tensor.storage INT16), widened at load; the graph's
  // TensorInfo::constant points here. 64-byte aligned like constants read in place.
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<int32_t, FreeDeleter>> widened_constants;
  std::vector<InputInfo> inputs;
  std::vector<TaskInfo> tasks;
};

// Ok unless the model was mapped from a file that has changed on disk since it was verified (then
// its bytes can no longer be trusted: kIoError naming the file and what changed).
Status check_file_unchanged(const ModelData& data);

// Verifies and validates `data` (which owns or borrows the bytes) and fills the graph and infos.
Status validate_model(ModelData& data);

}  // namespace polyhead::detail
