// What the XNNPACK-backed kernels share: status translation and the base class that owns one
// XNNPACK operator (create in the subclass, setup per plan, run).
#pragma once

#include <xnnpack.h>

#include <string>

#include "polyhead/kernels/kernel.h"

namespace polyhead::kernels {

// An error naming the stage ("create", "setup", "run"), the node and XNNPACK's status; success
// maps to ok. `variant` qualifies the operator family in the message ("int8 ", "").
Status xnn_check(xnn_status s, const schema::Node& node, const char* stage,
                 const char* variant = "");

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
  Status run(pthreadpool_t pool) override {
    return xnn_check(xnn_run_operator(op_, pool), node_, "run", variant_);
  }
  const char* backend() const override { return "xnnpack"; }
  size_t packed_weight_bytes() const override { return packed_bytes_; }

 protected:
  Status created(xnn_status s) { return xnn_check(s, node_, "create", variant_); }
  Status set_up(xnn_status s) { return xnn_check(s, node_, "setup", variant_); }

  const schema::Node& node_;
  Shape in_, out_;
  const char* variant_;
  xnn_operator_t op_ = nullptr;
  size_t packed_bytes_ = 0;
};

}  // namespace polyhead::kernels
