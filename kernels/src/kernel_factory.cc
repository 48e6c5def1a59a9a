#include <xnnpack.h>

#include <mutex>

#include "int8_dispatch.h"
#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/shape_inference.h"
#include "own_kernels.h"
#include "xnnpack_f16_kernels.h"
#include "xnnpack_float_kernels.h"

namespace polyhead::kernels {

Status initialize_backend() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success)
    return Status(ErrorCode::kUnsupported, "XNNPACK could not initialise (status " +
                                               std::to_string(status) +
                                               "): this CPU may lack the instructions it needs");
  return Status::ok();
}

Result<std::unique_ptr<Kernel>> create_kernel(const NodeDesc& d) {
  if (!d.node) return Status(ErrorCode::kInternal, "create_kernel: no node");
  const std::string where = op_kind_name(d.node->op()) + " node '" + d.node->name()->str() + "'";
  if (d.inputs.empty() || !d.inputs[0].present || d.outputs.size() != 1)
    return Status(ErrorCode::kInternal, where + ": kernels take a first input and one output");
  PH_RETURN_IF_ERROR(initialize_backend());
  if (is_int8_node(d)) return create_int8_kernel(d);
  for (const auto* list : {&d.inputs, &d.outputs})
    for (const OperandDesc& op : *list)
      if (op.present && op.type != ElementType::kF32)
        return Status(ErrorCode::kUnsupported,
                      where + " has a " + element_type_name(op.type) +
                          " tensor; float operators read and write f32, int8 ones i8 (i32 bias)");
  PH_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> own, create_polyhead_kernel(d));
  if (own) return own;
  if (d.precision == Precision::kF16) {
    // A node XNNPACK cannot run in f16 (no operator, or options it rejects there) runs in f32.
    Result<std::unique_ptr<Kernel>> half = create_xnnpack_f16_kernel(d);
    if (half.is_ok() && *half) return std::move(*half);
    if (!half.is_ok() && half.status().code() != ErrorCode::kUnsupported) return half.status();
  }
  return create_xnnpack_kernel(d);
}

}  // namespace polyhead::kernels
