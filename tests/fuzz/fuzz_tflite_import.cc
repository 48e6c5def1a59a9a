// libFuzzer harness: arbitrary bytes as a .tflite file through the TFLite importer
// (polyhead::tflite::convert, as `polyhead convert` calls it), once with the default options and,
// for files that parse, once with the face-detection preset (its anchors and task grouping). A
// model the importer writes must load: Model::from_bytes failing on it is an importer bug, so it
// aborts. Seeded with the MediaPipe face detector and the synthetic int8 network
// (tests/fuzz/README.md); tflite.dict holds the schema's identifiers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "polyhead/model.h"

namespace {

void check_loads(const polyhead::Result<std::vector<uint8_t>>& phm, const char* how) {
  if (!phm.is_ok()) return;
  auto model = polyhead::Model::from_bytes(*phm);
  if (!model.is_ok()) {
    std::fprintf(stderr, "the importer (%s) wrote a model that does not load: %s\n", how,
                 model.status().to_string().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  polyhead::tflite::ConvertOptions options;
  polyhead::tflite::ConvertReport report;
  auto phm = polyhead::tflite::convert(bytes, options, &report);
  check_loads(phm, "default options");
  if (!phm.is_ok()) return 0;
  options.preset = "mediapipe-face-detection-short";
  check_loads(polyhead::tflite::convert(bytes, options, nullptr), "face detection preset");
  return 0;
}
