// Converts an ONNX model (opsets 11-17, float32) into a .phm model: operators map onto
// ModelBuilder calls with the model run NHWC inside (weights transposed at conversion) while its
// inputs and outputs keep their ONNX names and NCHW layout; BatchNormalization, per-channel
// Mul/Add, Relu/Clip and zero Pad fold into the neighbouring convolution; shape sub-graphs fold
// into constants. The file is untrusted: failures are Statuses, never crashes.
// See docs/onnx_import.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "converters/common/import_options.h"
#include "polyhead/result.h"

namespace polyhead::onnx_import {

struct ConvertOptions {
  // Empty: every graph output becomes a task named after it.
  std::vector<importers::TaskSpec> tasks;
  importers::PreprocessOverrides preprocess;
  // Shapes for inputs with symbolic dimensions, by input name.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  std::string producer = "polyhead convert (onnx)";
};

struct ConvertReport {
  int opset = 0;
  std::map<std::string, int> source_ops;  // ONNX operators converted, by op type
  std::map<std::string, int> nodes;       // .phm nodes written, by kind
  std::map<std::string, int> folded;      // what folded away at conversion
  std::vector<std::string> tasks;
};

// The opsets of the default domain this importer reads.
constexpr int kMinOpset = 11;
constexpr int kMaxOpset = 17;

Result<std::vector<uint8_t>> convert(const std::vector<uint8_t>& onnx_bytes,
                                     const ConvertOptions& options,
                                     ConvertReport* report = nullptr);
Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options,
                                          ConvertReport* report = nullptr);

}  // namespace polyhead::onnx_import
