// create_kernel(): asks the factories in turn, most specific first, as kernel_factory.h
// describes: a node with a block-sparse operand goes to the sparse kernel, which runs it or
// names why not (no other kernel reads sparse weights); int8 nodes go to the int8 ones
// (int8_dispatch.cc); a float node goes to Polyhead's own kernels, then in half precision to
// XNNPACK's f16 operators, then to its f32 ones. (Own kernels that have an f16 rival in XNNPACK,
// the dense convolution, decline half-precision nodes until XNNPACK's f16 operator has declined
// them too.)
#include <xnnpack.h>

#include <mutex>

#include "int8_dispatch.h"
#include "kernel_factory.h"
#include "own_kernels.h"
#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/shape_inference.h"
#include "xnnpack_float_kernels.h"
#include "xnnpack_operator.h"

namespace polyhead::kernels {

Status initialize_backend() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success)
    return Status(xnn_error_code(status), std::string("XNNPACK could not initialise (") +
                                              xnn_status_name(status) +
                                              "): this CPU may lack the instructions it needs");
  return Status::ok();
}

Result<std::unique_ptr<Kernel>> create_kernel(const NodeDesc& d) {
  if (!d.node) return Status(ErrorCode::kInternal, "create_kernel: no node");
  const std::string where = op_kind_name(d.node->op()) + " node '" + d.node->name()->str() + "'";
  if (d.inputs.empty() || !d.inputs[0].present || d.outputs.size() != 1)
    return Status(ErrorCode::kInternal, where + ": kernels take a first input and one output");
  PH_RETURN_IF_ERROR(initialize_backend());
  for (const OperandDesc& op : d.inputs)
    if (op.sparse) return create_own_sparse_kernel(d);
  if (is_int8_node(d)) return create_int8_kernel(d);
  for (const auto* list : {&d.inputs, &d.outputs})
    for (const OperandDesc& op : *list)
      if (op.present && op.type != ElementType::kF32)
        return Status(ErrorCode::kUnsupported,
                      where + " has a " + element_type_name(op.type) +
                          " tensor; float operators read and write f32, int8 ones i8 (i32 bias)");
  PH_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, create_own_kernel(d));
  if (k) return k;
  if (d.precision == Precision::kF16) {
    PH_ASSIGN_OR_RETURN(k, create_xnnpack_f16_kernel(d));
    if (k) return k;
    // A node XNNPACK cannot run in f16 runs as it would in float32 precision, own kernels first.
    NodeDesc f32 = d;
    f32.precision = Precision::kF32;
    PH_ASSIGN_OR_RETURN(k, create_own_kernel(f32));
    if (k) return k;
  }
  PH_ASSIGN_OR_RETURN(k, create_xnnpack_f32_kernel(d));
  if (k) return k;
  return Status(ErrorCode::kInternal, where + ": no float kernel handles it");
}

}  // namespace polyhead::kernels
