// Graph: the validated, in-memory view of a model that the runtime plans and executes. It is built
// by the engine's validator from a verified .phm file and points into that file's bytes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "polyhead/kernels/sparse_matrix.h"
#include "polyhead/quantization.h"
#include "polyhead/schema/phm_generated.h"
#include "polyhead/tensor.h"

namespace polyhead::runtime {

struct TensorInfo {
  std::string name;
  Shape shape;
  ElementType type = ElementType::kF32;
  size_t bytes = 0;
  const void* constant = nullptr;  // in-place constant data, or null for activations
  // A constant stored block-sparse: `constant` then points at the stored blocks (sparse.values),
  // and readers that want the dense form expand it (kernels::densify). `bytes` stays the dense
  // size.
  kernels::SparseMatrix sparse;
  Quantization quantization;  // empty for float tensors
  int producer = -1;               // node index, or -1 (constants, model inputs)
  bool is_model_input = false;

  bool is_sparse() const { return sparse.row_starts != nullptr; }
};

struct NodeInfo {
  std::string name;
  const schema::Node* node = nullptr;  // operator kind and options
  std::vector<int> inputs;             // tensor indices, -1 for an absent optional input
  std::vector<int> outputs;
  uint64_t macs = 0;
};

struct TaskOutputInfo {
  std::string name;
  int tensor = -1;
};

struct TaskInfo {
  std::string name;
  schema::TaskKind kind = schema::TaskKind::OTHER;
  std::vector<TaskOutputInfo> outputs;
  const schema::Task* task = nullptr;  // post-processing, priority, rate
};

struct Graph {
  std::vector<TensorInfo> tensors;
  std::vector<NodeInfo> nodes;
  std::vector<int> topological_order;  // node indices, producers before consumers
  std::vector<int> inputs;             // model input tensor indices
  std::vector<TaskInfo> tasks;

  // Index of the task named `name`, or -1.
  int find_task(const std::string& name) const {
    for (size_t i = 0; i < tasks.size(); ++i)
      if (tasks[i].name == name) return static_cast<int>(i);
    return -1;
  }
};

// The nodes that `tasks` need, in topological order: each node appears once even when several
// tasks share it.
std::vector<int> nodes_for_tasks(const Graph& graph, const std::vector<int>& tasks);

}  // namespace polyhead::runtime
