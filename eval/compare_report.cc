#include "eval/compare_report.h"

namespace polyhead::compare {

const char* method_name(Method m) {
  switch (m) {
    case Method::kClassification:
      return "classification";
    case Method::kMask:
      return "mask";
    case Method::kClassMap:
      return "class_map";
    case Method::kDetection:
      return "detection";
    case Method::kLandmarks:
      return "landmarks";
    case Method::kRaw:
      return "raw";
  }
  return "raw";
}

}  // namespace polyhead::compare
