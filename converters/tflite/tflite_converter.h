// Converts a float32 or int8 (full-integer, per-channel) TensorFlow Lite model (.tflite,
// FlatBuffers identifier "TFL3") into a .phm model: operators map onto ModelBuilder calls, model
// outputs are grouped into named tasks and the input's pre-processing is recorded. fp16 weights
// behind DEQUANTIZE are folded into f32 constants; int8 models become int8 .phm models whose
// inputs and task outputs stay float32 (docs/int8.md). The input is untrusted: every offset is
// bounds-checked and every failure is a Status. Sparse tensors (TFLite's sparsity, DENSIFY) are
// decoded into dense constants, and the weights of layers a sparse kernel can run are stored
// block-sparse again. See docs/tflite_import.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "converters/common/import_options.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

// One task made of model outputs (TFLite tensor names), e.g. --task
// faces=regressors,classificators.
using importers::TaskSpec;

struct ConvertOptions {
  // Empty: every model output becomes a task named after the output (sanitised).
  std::vector<TaskSpec> tasks;
  // Pre-processing recorded on the input; empty mean/std leave the defaults (0 and 1 per channel).
  std::vector<float> mean;
  std::vector<float> std;
  std::optional<ColorOrder> color;  // kRgb, kBgr or none (RGB)
  // A known model's task names/kinds, pre- and post-processing (see known_presets()). Settings
  // given explicitly above override the preset's pre-processing; `tasks` must be empty with a
  // preset.
  std::string preset;
  std::string producer = "polyhead convert (tflite)";
  // Sparse weights (TFLite sparse tensors, DENSIFY): kept block-sparse where a sparse kernel can
  // run their layer and it saves space, or all dense (docs/tflite_import.md, "Sparse weights").
  importers::SparseImport sparse_weights = importers::SparseImport::kKeep;
};

// What a conversion did, for tools and tests.
struct ConvertReport {
  std::map<std::string, int> source_ops;  // TFLite operators converted: "CONV_2D", "CUSTOM(X)"
  std::map<std::string, int> nodes;       // .phm nodes written, by kind: "CONV_2D", "RESIZE"
  std::vector<std::string> tasks;         // task names written, in order
  // RELU, RELU6 and RELU_N1_TO_1 operators that became their producer's fused activation.
  int folded_relus = 0;
  // LOGISTIC + MUL pairs (x * sigmoid(x)) written as one SILU node.
  int folded_swishes = 0;
  // Sparse tensors of the file, decoded into dense constants.
  int sparse_tensors = 0;
  // Weights stored block-sparse in the .phm (none with SparseImport::kDensify).
  int sparse_weights_kept = 0;
};

// The preset names convert() accepts.
std::vector<std::string> known_presets();

// Converts a .tflite file in memory / on disk into the bytes of a .phm model.
Result<std::vector<uint8_t>> convert(const std::vector<uint8_t>& tflite,
                                     const ConvertOptions& options);
Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options);
// As above, also filling `report` (may be null).
Result<std::vector<uint8_t>> convert(const std::vector<uint8_t>& tflite,
                                     const ConvertOptions& options, ConvertReport* report);
Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options,
                                          ConvertReport* report);

}  // namespace polyhead::tflite
