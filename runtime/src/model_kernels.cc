#include "polyhead/runtime/model_kernels.h"

#include <new>

#include "polyhead/kernels/sparse_choice.h"

namespace polyhead::runtime {

ModelKernels::ModelKernels(const Graph& graph, Precision precision, SparseWeights sparse)
    : graph_(graph),
      precision_(precision),
      sparse_(sparse),
      kernels_(graph.nodes.size()),
      on_sparse_kernel_(graph.nodes.size(), 0),
      expanded_(graph.tensors.size()),
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
  bool on_sparse = false;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) continue;
    const TensorInfo& info = graph_.tensors[static_cast<size_t>(n.inputs[i])];
    if (!info.is_sparse()) continue;
    if (i == 1 && kernels::use_sparse_kernel(desc, info.sparse, sparse_)) {
      desc.inputs[i].constant = nullptr;
      desc.inputs[i].sparse = &info.sparse;
      on_sparse = true;
    } else {
      PH_ASSIGN_OR_RETURN(desc.inputs[i].constant, expanded(n.inputs[i]));
    }
  }
  PH_ASSIGN_OR_RETURN(slot, kernels::create_kernel(desc));
  on_sparse_kernel_[static_cast<size_t>(node)] = on_sparse ? 1 : 0;
  return slot.get();
}

Result<const float*> ModelKernels::expanded(int tensor) {
  auto& copy = expanded_[static_cast<size_t>(tensor)];
  if (!copy) {
    const TensorInfo& info = graph_.tensors[static_cast<size_t>(tensor)];
    const size_t count = info.sparse.rows * info.sparse.cols;
    copy.reset(new (std::nothrow) float[count]);
    if (!copy)
      return Status(ErrorCode::kOutOfMemory,
                    "could not allocate " + std::to_string(count * sizeof(float)) +
                        " bytes to expand sparse weights '" + info.name + "'");
    kernels::densify(info.sparse, copy.get());
  }
  return copy.get();
}

const void* ModelKernels::constant_data(int node, int tensor) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const TensorInfo& info = graph_.tensors[static_cast<size_t>(tensor)];
  if (!info.is_sparse()) return info.constant;
  if (on_sparse_kernel_[static_cast<size_t>(node)]) return info.constant;
  return expanded_[static_cast<size_t>(tensor)].get();
}

size_t ModelKernels::sparse_kernel_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (size_t i = 0; i < kernels_.size(); ++i) n += kernels_[i] && on_sparse_kernel_[i] ? 1 : 0;
  return n;
}

size_t ModelKernels::expanded_weight_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (size_t t = 0; t < expanded_.size(); ++t)
    if (expanded_[t]) n += graph_.tensors[t].sparse.rows * graph_.tensors[t].sparse.cols * 4;
  return n;
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
