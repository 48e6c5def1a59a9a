// Kernel: one operator instance with the XNNPACK-style lifecycle
//   create (validate options, pack constant weights; once per model)
//   -> setup (bind input/output memory; once per plan that uses it)
//   -> run (compute; no allocation, no lock).
#pragma once

#include <pthreadpool.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/precision.h"
#include "polyhead/quantization.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"
#include "polyhead/tensor.h"

namespace polyhead::kernels {

// One input or output of a node as the kernel factory sees it.
struct OperandDesc {
  bool present = false;  // false for an absent optional input (index -1)
  Shape shape;
  ElementType type = ElementType::kF32;
  const void* constant = nullptr;  // constant data (read in place from the model), or null
  Quantization quantization;       // of I8 and I32 operands (docs/int8.md); empty otherwise
  // Weights given block-sparse, for the sparse kernel only (sparse_choice.h): `constant` is then
  // null and this view reads the model's bytes in place.
  const SparseMatrix* sparse = nullptr;
};

struct NodeDesc {
  const schema::Node* node = nullptr;  // operator kind and options, already verified
  std::vector<OperandDesc> inputs;
  std::vector<OperandDesc> outputs;
  // kF16: run in half precision when XNNPACK has an f16 operator for the node (f32 otherwise).
  Precision precision = Precision::kF32;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  Kernel() = default;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Binds memory: `inputs[i]` for every input of the node (constants included, null for absent
  // ones), `outputs[i]` for every output. Setting up again with new pointers and the same shapes
  // performs no heap allocation, so plans can share one kernel and rebind it when they switch.
  virtual Status setup(const void* const* inputs, void* const* outputs, pthreadpool_t pool) = 0;
  // Computes the outputs from the bound inputs.
  virtual Status run(pthreadpool_t pool) = 0;
  // Bytes of weights this kernel packed for itself (0 when it reads them in place).
  virtual size_t packed_weight_bytes() const { return 0; }
};

// Creates the kernel for a node. Errors name the operator and the problem (unsupported element
// type, non-constant weights, options the backend rejects).
Result<std::unique_ptr<Kernel>> create_kernel(const NodeDesc& desc);

// Brings up XNNPACK once per process. Safe to call from several threads.
Status initialize_backend();

}  // namespace polyhead::kernels
