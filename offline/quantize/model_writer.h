// A .phm model as plain, editable data (tensors, nodes, inputs, tasks, metadata) and its
// serialisation through the one .phm writer (polyhead/internal/phm_writer.h). The quantizer
// starts from a faithful copy of the float model and edits it: the calibration copy adds a task,
// the int8 rewrite swaps tensors and inserts nodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "offline/graph/source_graph.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::quantize {

struct EditTensor {
  std::string name;
  std::vector<int> shape;
  schema::ElementType type = schema::ElementType::F32;
  // Quantization; empty scales: none.
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int axis = -1;
  // Constant data (null: not a constant), always dense. Points into the source file, a source
  // graph's expanded copy of a sparse constant, or EditModel::storage.
  const uint8_t* data = nullptr;
  size_t size = 0;
  // Non-zero: the file stores this float constant block-sparse with blocks of these dimensions
  // (docs/format.md, "Sparse constants"); the writer keeps only the blocks holding a nonzero.
  int sparse_block_rows = 0;
  int sparse_block_cols = 0;
};

struct EditNode {
  std::string name;
  schema::OpKind op = schema::OpKind::CONV_2D;
  const schema::Node* options_from = nullptr;  // whose options table to copy; null: none
  std::vector<int> inputs, outputs;
};

struct EditTask {
  std::string name;
  schema::TaskKind kind = schema::TaskKind::OTHER;
  std::vector<std::pair<std::string, int>> outputs;  // output name, tensor
  const schema::Task* from = nullptr;                // post-processing, priority and rate
};

// Move-only: tensors point into `storage`.
struct EditModel {
  EditModel() = default;
  EditModel(EditModel&&) = default;
  EditModel& operator=(EditModel&&) = default;
  EditModel(const EditModel&) = delete;
  EditModel& operator=(const EditModel&) = delete;

  std::vector<EditTensor> tensors;
  std::vector<EditNode> nodes;
  std::vector<std::pair<int, const schema::Input*>> inputs;  // tensor, pre-processing from
  std::vector<EditTask> tasks;
  std::string producer, description;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::deque<std::vector<uint8_t>> storage;  // constant bytes the edits made

  // Keeps `bytes` alive with the model and returns where they are.
  const uint8_t* store(std::vector<uint8_t> bytes) {
    storage.push_back(std::move(bytes));
    return storage.back().data();
  }
  int add_tensor(EditTensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }
};

// A copy of `g`'s model that serialises to the same model (every field this build knows).
EditModel edit_copy(const merge::SourceGraph& g);

// Removes the constants no node reads (renumbering the tensors).
void drop_unused_constants(EditModel& m);

// The .phm bytes of `m`; all-zero zero points are left out. Fails (kInvalidArgument) past the
// 2 GiB limit or on a constant whose bytes do not fit its shape, and on options it cannot copy;
// the result still has to pass Model::from_bytes. Scalars equal to their schema default are left
// out (the compact file ModelBuilder writes too; a copied -0.0 pad value is stored all the same,
// merge::copy_options); `keep_defaults` stores them all.
Result<std::vector<uint8_t>> write_model(const EditModel& m, bool keep_defaults = false);

}  // namespace polyhead::quantize
