// What the XNNPACK-backed kernels of every precision share: the one translation of XNNPACK's
// status into a Status, shape helpers, and the base class that owns one XNNPACK operator.
#pragma once

#include <xnnpack.h>

#include <cstdint>
#include <string>

#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

// The error code of an XNNPACK status (kOk for success): parameters XNNPACK rejects and hardware
// it cannot use are kUnsupported, memory exhaustion kOutOfMemory, the rest (XNNPACK used before
// initialisation or in the wrong state) kInternal.
ErrorCode xnn_error_code(xnn_status s);
// "invalid parameter", "out of memory", ...
const char* xnn_status_name(xnn_status s);

// An error naming the stage ("create", "setup", "run"), the node and XNNPACK's status; success
// maps to ok. `variant` qualifies the operator family in the message ("int8 ", "f16 ", "").
Status xnn_check(xnn_status s, const schema::Node& node, const char* stage,
                 const char* variant = "");

// XNNPACK's resize flags for a node's RESIZE coordinates (half-pixel centres are its default).
uint32_t xnn_resize_flags(schema::CoordinateMode mode);

inline size_t dim(const Shape& s, size_t i) {
  return static_cast<size_t>(s[i]);
}
inline size_t last_dim(const Shape& s) {
  return s.rank() ? dim(s, s.rank() - 1) : 1;
}
inline size_t elements(const Shape& s) {
  return static_cast<size_t>(s.elements());
}

// Owns one XNNPACK operator; subclasses create it and describe how to set it up.
class XnnKernel : public Kernel {
 public:
  explicit XnnKernel(const NodeDesc& d, const char* variant = "")
      : node_(*d.node), in_(d.inputs[0].shape), out_(d.outputs[0].shape), variant_(variant) {}
  ~XnnKernel() override {
    if (op_) xnn_delete_operator(op_);
  }
  Status run(pthreadpool_t pool) override { return check(xnn_run_operator(op_, pool), "run"); }
  size_t packed_weight_bytes() const override { return packed_bytes_; }

 protected:
  Status check(xnn_status s, const char* stage) const {
    return xnn_check(s, node_, stage, variant_);
  }
  Status created(xnn_status s) const { return check(s, "create"); }
  Status set_up(xnn_status s) const { return check(s, "setup"); }

  const schema::Node& node_;
  Shape in_, out_;
  const char* variant_;
  xnn_operator_t op_ = nullptr;
  size_t packed_bytes_ = 0;
};

}  // namespace polyhead::kernels
