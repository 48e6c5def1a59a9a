// libFuzzer harness: arbitrary bytes as an .onnx file through the ONNX importer
// (polyhead::onnx_import::convert, as `polyhead convert` calls it). A model the importer writes
// must load: Model::from_bytes failing on it is an importer bug, so it aborts. Seeded with the
// small exported models and ones written with the protobuf API (tests/fuzz/README.md); onnx.dict
// holds operator types and attribute names.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "converters/onnx/onnx_converter.h"
#include "polyhead/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  polyhead::onnx_import::ConvertOptions options;
  polyhead::onnx_import::ConvertReport report;
  auto phm = polyhead::onnx_import::convert(bytes, options, &report);
  if (!phm.is_ok()) return 0;
  auto model = polyhead::Model::from_bytes(*phm);
  if (!model.is_ok()) {
    std::fprintf(stderr, "the importer wrote a model that does not load: %s\n",
                 model.status().to_string().c_str());
    std::abort();
  }
  return 0;
}
