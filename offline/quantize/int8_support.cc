#include "offline/quantize/int8_support.h"

#include "polyhead/kernels/op_table.h"

namespace polyhead::quantize {

using schema::OpKind;

bool has_int8_kernel(OpKind op) {
  const auto info = kernels::op_info(op);
  return info.is_ok() && (*info)->has_int8_kernel();
}

bool shares_input_quantization(OpKind op) {
  const auto info = kernels::op_info(op);
  return info.is_ok() && (*info)->shares_input_quantization();
}

bool has_channel_weights(OpKind op) {
  return op == OpKind::CONV_2D || op == OpKind::DEPTHWISE_CONV_2D ||
         op == OpKind::FULLY_CONNECTED || op == OpKind::TRANSPOSE_CONV_2D;
}

const char* op_name(OpKind op) {
  const auto info = kernels::op_info(op);
  return info.is_ok() ? (*info)->name : "UNKNOWN";
}

bool can_run_int8(const merge::SourceGraph& g, int n) {
  const schema::Node& node = g.node(n);
  if (!has_int8_kernel(node.op())) return false;
  for (int t : *node.inputs())
    if (t >= 0 && g.tensor(t).type() != schema::ElementType::F32) return false;
  for (int t : *node.outputs())
    if (g.tensor(t).type() != schema::ElementType::F32) return false;
  if (has_channel_weights(node.op())) {
    const auto* in = node.inputs();
    if (in->size() < 2 || in->Get(1) < 0 || !g.is_constant(in->Get(1))) return false;
    if (in->size() > 2 && in->Get(2) >= 0 && !g.is_constant(in->Get(2))) return false;
    if (g.tensor(in->Get(1)).shape()->size() < 1) return false;
  }
  if (node.inputs()->size() == 0 || node.inputs()->Get(0) < 0 ||
      g.is_constant(node.inputs()->Get(0)))
    return false;  // a node computing on constants only: leave it as it is
  return true;
}

}  // namespace polyhead::quantize
