#include "xnnpack_operator.h"

#include "polyhead/kernels/shape_inference.h"

namespace polyhead::kernels {

ErrorCode xnn_error_code(xnn_status s) {
  switch (s) {
    case xnn_status_success:
      return ErrorCode::kOk;
    case xnn_status_invalid_parameter:
    case xnn_status_unsupported_parameter:
    case xnn_status_unsupported_hardware:
      return ErrorCode::kUnsupported;
    case xnn_status_out_of_memory:
      return ErrorCode::kOutOfMemory;
    case xnn_status_uninitialized:
    case xnn_status_invalid_state:
      return ErrorCode::kInternal;
  }
  return ErrorCode::kInternal;  // a status this XNNPACK header does not list
}

const char* xnn_status_name(xnn_status s) {
  switch (s) {
    case xnn_status_success:
      return "success";
    case xnn_status_uninitialized:
      return "uninitialized";
    case xnn_status_invalid_parameter:
      return "invalid parameter";
    case xnn_status_invalid_state:
      return "invalid state";
    case xnn_status_unsupported_parameter:
      return "unsupported parameter";
    case xnn_status_unsupported_hardware:
      return "unsupported hardware";
    case xnn_status_out_of_memory:
      return "out of memory";
  }
  return "unknown status";
}

Status xnn_check(xnn_status s, const schema::Node& node, const char* stage, const char* variant) {
  if (s == xnn_status_success) return Status::ok();
  return Status(xnn_error_code(s), std::string("XNNPACK ") + variant + stage + " of " +
                                       op_kind_name(node.op()) + " node '" + node.name()->str() +
                                       "' failed: " + xnn_status_name(s));
}

uint32_t xnn_resize_flags(schema::CoordinateMode mode) {
  switch (mode) {
    case schema::CoordinateMode::HALF_PIXEL:
      return 0;
    case schema::CoordinateMode::ALIGN_CORNERS:
      return XNN_FLAG_ALIGN_CORNERS;
    case schema::CoordinateMode::ASYMMETRIC:
      return XNN_FLAG_TENSORFLOW_LEGACY_MODE;
  }
  return 0;  // unreachable: shape inference rejects unknown coordinate modes
}

}  // namespace polyhead::kernels
