// What every importer (TFLite, ONNX) shares: how model outputs are grouped into tasks, the
// pre-processing a user can override, reading a model file, and writing the tasks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/model_builder.h"
#include "polyhead/model_enums.h"
#include "polyhead/result.h"

namespace polyhead::importers {

// One task made of model outputs (source tensor names), e.g. --task faces=boxes,scores.
struct TaskSpec {
  std::string name;
  std::vector<std::string> outputs;
  TaskKind kind = TaskKind::kOther;
};

// The pre-processing overrides of `polyhead convert` (--mean, --std, --rgb/--bgr): empty leaves
// the importer's default.
struct PreprocessOverrides {
  std::vector<float> mean;
  std::vector<float> std;
  std::optional<ColorOrder> color;  // kRgb, kBgr or none
};

// What an importer does with weights the source model stores sparse (TFLite's sparse tensors):
// `polyhead convert --sparse-weights keep|densify`.
enum class SparseImport {
  kKeep,     // block-sparse in the .phm where a sparse kernel can run the layer and it saves space
  kDensify,  // dense, like every other constant
};

inline const char* sparse_import_name(SparseImport s) {
  return s == SparseImport::kDensify ? "densify" : "keep";
}

// Parses "keep" or "densify"; false for anything else.
bool parse_sparse_import(const std::string& name, SparseImport* out);

// Checks `o` (1 or 3 values, std not 0, known colour order) and applies it to `p`.
Status apply_overrides(const PreprocessOverrides& o, Preprocess* p);

// Task and output names may not contain ',' (tools take comma-separated lists).
std::string sanitise(const std::string& name);

// A model output the importer produced: its source name and our tensor (-1: not computed).
struct ImportedOutput {
  std::string name;
  int tensor = -1;
};

// Adds the tasks: each spec's outputs looked up by source name, or, with no specs, one task per
// output named after it. Returns the task names written.
Result<std::vector<std::string>> add_tasks(ModelBuilder& b, const std::vector<TaskSpec>& specs,
                                           const std::vector<ImportedOutput>& outputs);

// Reads a whole model file (at most 2 GiB).
Result<std::vector<uint8_t>> read_model_file(const std::string& path);

// Serialises `b` and loads the result: anything the loader rejects is reported at conversion.
Result<std::vector<uint8_t>> finish_and_validate(const ModelBuilder& b);

}  // namespace polyhead::importers
