// How the factories that create_kernel() (kernel_factory.cc) asks in turn answer. Each handles a
// family of nodes (Polyhead's own kernels, XNNPACK's f16, f32 or int8 operators). A null kernel,
// never an error, says "not a node this factory handles": the next factory is asked. An error
// says the node is the factory's own and cannot run, and create_kernel() returns it.
#pragma once

#include <memory>
#include <string>

#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/shape_inference.h"

namespace polyhead::kernels {

using KernelResult = Result<std::unique_ptr<Kernel>>;

// The answer of a factory that does not handle the node.
inline KernelResult not_handled() {
  return std::unique_ptr<Kernel>();
}

// For an implementation tried first that may decline a node (XNNPACK rejecting options in half
// precision, or an int8 scale ratio outside its fixed-point range): its kUnsupported error becomes
// not_handled(), so the next factory runs the node; other errors stay errors.
inline KernelResult unsupported_as_not_handled(KernelResult kernel) {
  if (!kernel.is_ok() && kernel.status().code() == ErrorCode::kUnsupported) return not_handled();
  return kernel;
}

// The answer of a factory whose switch over the operator kinds has no case for the node's: a kind
// added to schema/phm.fbs that the factory was not taught (-Wswitch names the switch).
inline Status unlisted_operator(const NodeDesc& d, const char* factory) {
  return Status(ErrorCode::kInternal, std::string(factory) + " kernels have no case for " +
                                          op_kind_name(d.node->op()) + " (node '" +
                                          d.node->name()->str() + "')");
}

}  // namespace polyhead::kernels
