// ModelData: the bytes of a model (mapped or borrowed), its FlatBuffer root and the validated
// runtime graph built from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/runtime/graph.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::detail {

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

  const schema::Model* root = nullptr;
  runtime::Graph graph;
  std::vector<InputInfo> inputs;
  std::vector<TaskInfo> tasks;
};

// Verifies and validates `data` (which owns or borrows the bytes) and fills the graph and infos.
Status validate_model(ModelData& data);

}  // namespace polyhead::detail
