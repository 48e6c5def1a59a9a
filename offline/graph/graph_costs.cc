#include "offline/graph/graph_costs.h"

#include <map>

#include "polyhead/kernels/shape_inference.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::graph {

namespace {

// Stored values over dense values of a constant stored block-sparse; 1 for a dense one.
double stored_fraction(const schema::Tensor& t) {
  const schema::SparseLayout* s = t.sparse();
  if (!s) return 1.0;
  uint64_t dense = 1;
  for (int d : *t.shape()) dense *= static_cast<uint64_t>(d);
  const uint64_t stored = static_cast<uint64_t>(s->block_columns()->size()) *
                          static_cast<uint64_t>(s->block_rows()) *
                          static_cast<uint64_t>(s->block_cols());
  return dense == 0 ? 1.0 : static_cast<double>(stored) / static_cast<double>(dense);
}

}  // namespace

Result<GraphCosts> read_graph_costs(const Model& loaded) {
  // The bytes were verified and validated when the Model was loaded, and a Model never changes.
  const schema::Model* model = schema::GetModel(loaded.bytes());
  const auto* tensors = model->tensors();
  const auto* buffers = model->buffers();
  GraphCosts costs;
  costs.constant_bytes.assign(tensors->size(), 0);
  std::vector<kernels::InputShape> shapes(tensors->size());
  for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
    const schema::Tensor* t = tensors->Get(i);
    for (int d : *t->shape()) shapes[i].shape.push_back(d);
    shapes[i].present = true;
    if (t->buffer() != 0 && buffers && t->buffer() <= buffers->size()) {
      shapes[i].constant = true;
      costs.constant_bytes[i] = buffers->Get(t->buffer() - 1)->size();
    }
  }
  for (const schema::Node* node : *model->nodes()) {
    NodeCost cost;
    cost.name = node->name()->str();
    cost.op = kernels::op_kind_name(node->op());
    std::vector<kernels::InputShape> in;
    for (int t : *node->inputs()) {
      if (t < 0 || static_cast<size_t>(t) >= shapes.size()) {
        in.push_back({});
        continue;
      }
      in.push_back(shapes[static_cast<size_t>(t)]);
      if (shapes[static_cast<size_t>(t)].constant) cost.constants.push_back(t);
    }
    auto out = kernels::infer_output_shapes(*node, in);
    if (!out.is_ok())
      return Status(ErrorCode::kInvalidModel,
                    "node '" + cost.name + "': " + out.status().message());
    PH_ASSIGN_OR_RETURN(cost.macs, kernels::count_macs(*node, in, *out));
    // Weights stored block-sparse (input 1 of a convolution or fully connected layer) cost only
    // their stored values: what the sparse kernel computes.
    if (node->inputs()->size() > 1 && node->inputs()->Get(1) >= 0 &&
        static_cast<flatbuffers::uoffset_t>(node->inputs()->Get(1)) < tensors->size()) {
      const double f = stored_fraction(
          *tensors->Get(static_cast<flatbuffers::uoffset_t>(node->inputs()->Get(1))));
      if (f < 1.0) cost.macs = static_cast<uint64_t>(static_cast<double>(cost.macs) * f + 0.5);
    }
    for (const kernels::InputShape& i : in) cost.input_shapes.push_back(i.shape);
    cost.output_shapes = *out;
    costs.nodes.push_back(std::move(cost));
  }
  return costs;
}

Result<std::vector<size_t>> resolve_nodes(const std::vector<std::string>& names,
                                          const GraphCosts& costs) {
  std::multimap<std::string, size_t> index;
  for (size_t i = 0; i < costs.nodes.size(); ++i) index.emplace(costs.nodes[i].name, i);
  std::map<std::string, size_t> seen;
  std::vector<size_t> out;
  for (const std::string& name : names) {
    auto range = index.equal_range(name);
    size_t k = seen[name]++;
    auto it = range.first;
    while (it != range.second && k > 0) ++it, --k;
    if (it == range.second)
      return Status(ErrorCode::kInternal, "the plan names node '" + name + "' that the file lacks");
    out.push_back(it->second);
  }
  return out;
}

}  // namespace polyhead::graph
