// ModelKernels: the kernels of one model, created the first time a plan needs a node and shared by
// every plan afterwards, so weights are packed once per model. Tracks which plan each kernel is
// currently set up for; a plan rebinds a kernel only when another plan used it since.
//
// Weights stored block-sparse go to the sparse kernel where kernels::use_sparse_kernel says so;
// for every other reader they are expanded once, here, and kept as long as the kernels.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "polyhead/kernels/kernel.h"
#include "polyhead/runtime/graph.h"
#include "polyhead/sparse_weights.h"

namespace polyhead::runtime {

class ModelKernels {
 public:
  explicit ModelKernels(const Graph& graph, Precision precision = Precision::kF32,
                        SparseWeights sparse = SparseWeights::kAuto);

  // Prepare-time only.
  Result<kernels::Kernel*> get_or_create(int node);
  // Prepare-time, after get_or_create of a node that reads `tensor`: the data its setup binds for
  // that constant (the expanded copy of a sparse constant read densely, else the model's bytes).
  const void* constant_data(int node, int tensor) const;
  // Nodes created so far that run on the sparse kernel, and the bytes of expanded sparse weights.
  size_t sparse_kernel_count() const;
  size_t expanded_weight_bytes() const;
  // Prepare-time: the kernel of `node` was set up (so its backend buffers exist), or its setup
  // failed. A kernel whose first setup failed is dropped and made anew by the next get_or_create:
  // an XNNPACK operator whose setup ran out of memory may keep half-updated state that a later
  // setup trusts. (No plan holds such a kernel: setting up one that was set up before, with the
  // same shapes, does not allocate, so cannot run out of memory.)
  void note_setup(int node, bool succeeded);

  // Hot path: plain loads and stores, no lock (an engine runs one plan at a time).
  const void* bound_plan(int node) const { return bound_[static_cast<size_t>(node)]; }
  void set_bound_plan(int node, const void* plan) { bound_[static_cast<size_t>(node)] = plan; }
  // Called when a plan dies so a later plan at the same address cannot be mistaken for it.
  void forget_plan(const void* plan);

  size_t packed_weight_bytes() const;

 private:
  // The dense form of sparse constant `tensor`, expanded on first use (kOutOfMemory when it cannot
  // be allocated).
  Result<const float*> expanded(int tensor);

  const Graph& graph_;
  Precision precision_;
  SparseWeights sparse_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<kernels::Kernel>> kernels_;
  std::vector<char> on_sparse_kernel_;              // per node
  std::vector<std::unique_ptr<float[]>> expanded_;  // per tensor: dense copy of a sparse constant
  std::vector<const void*> bound_;
  std::vector<char> set_up_;  // per node: some setup of its kernel succeeded
};

}  // namespace polyhead::runtime
