#include "polyhead/runtime/model_kernels.h"

namespace polyhead::runtime {

ModelKernels::ModelKernels(const Graph& graph, Precision precision)
    : graph_(graph),
      precision_(precision),
      kernels_(graph.nodes.size()),
      bound_(graph.nodes.size(), nullptr),
      set_up_(graph.nodes.size(), 0) {}

Result<kernels::Kernel*> ModelKernels::get_or_create(int node) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = kernels_[static_cast<size_t>(node)];
  if (slot) return slot.get();
  const NodeInfo& n = graph_.nodes[static_cast<size_t>(node)];
  kernels::NodeDesc desc;
  desc.node = n.node;
  desc.precision = precision_;
  for (int t : n.inputs) {
    kernels::OperandDesc op;
    if (t >= 0) {
      const TensorInfo& info = graph_.tensors[static_cast<size_t>(t)];
      op = {true, info.shape, info.type, info.constant, info.quantization};
    }
    desc.inputs.push_back(op);
  }
  for (int t : n.outputs) {
    const TensorInfo& info = graph_.tensors[static_cast<size_t>(t)];
    desc.outputs.push_back({true, info.shape, info.type, nullptr, info.quantization});
  }
  PH_ASSIGN_OR_RETURN(slot, kernels::create_kernel(desc));
  return slot.get();
}

void ModelKernels::note_setup(int node, bool succeeded) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto n = static_cast<size_t>(node);
  if (succeeded) {
    set_up_[n] = 1;
  } else if (!set_up_[n]) {
    kernels_[n].reset();
    bound_[n] = nullptr;
  }
}

void ModelKernels::forget_plan(const void* plan) {
  for (auto& b : bound_)
    if (b == plan) b = nullptr;
}

size_t ModelKernels::packed_weight_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const auto& k : kernels_)
    if (k) n += k->packed_weight_bytes();
  return n;
}

}  // namespace polyhead::runtime
