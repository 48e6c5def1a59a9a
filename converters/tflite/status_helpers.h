// The two kinds of failure the converter reports: the file is malformed (kInvalidModel) or it
// uses something Polyhead cannot represent (kUnsupported).
#pragma once

#include <string>

#include "polyhead/status.h"

namespace polyhead::tflite {

inline Status invalid(const std::string& message) {
  return Status(ErrorCode::kInvalidModel, message);
}
inline Status unsupported(const std::string& message) {
  return Status(ErrorCode::kUnsupported, message);
}

}  // namespace polyhead::tflite
