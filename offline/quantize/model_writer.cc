#include "offline/quantize/model_writer.h"

#include "offline/graph/schema_copy.h"
#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/phm_writer.h"

namespace polyhead::quantize {

namespace fb = flatbuffers;

EditModel edit_copy(const merge::SourceGraph& g) {
  EditModel m;
  const schema::Model& root = *g.root;
  for (fb::uoffset_t i = 0; i < root.tensors()->size(); ++i) {
    const schema::Tensor& t = *root.tensors()->Get(i);
    EditTensor et;
    et.name = t.name()->str();
    et.shape.assign(t.shape()->begin(), t.shape()->end());
    et.type = t.type();
    if (const schema::Quantization* q = t.quantization()) {
      et.scales = internal::quantization_scales(*q);
      if (q->zero_point()) et.zero_points.assign(q->zero_point()->begin(), q->zero_point()->end());
      et.axis = q->axis();
    }
    if (t.buffer() != 0) {
      et.data = g.constant_data(static_cast<int>(i));
      et.size = g.constant_size(static_cast<int>(i));
      if (const schema::SparseLayout* sparse = t.sparse()) {
        et.sparse_block_rows = sparse->block_rows();
        et.sparse_block_cols = sparse->block_cols();
      }
    }
    m.tensors.push_back(std::move(et));
  }
  for (int n : g.order) {  // producers first
    const schema::Node& src = g.node(n);
    EditNode en;
    en.name = src.name()->str();
    en.op = src.op();
    en.options_from = &src;
    en.inputs.assign(src.inputs()->begin(), src.inputs()->end());
    en.outputs.assign(src.outputs()->begin(), src.outputs()->end());
    m.nodes.push_back(std::move(en));
  }
  for (const schema::Input* in : *root.inputs()) m.inputs.emplace_back(in->tensor(), in);
  for (const schema::Task* t : *root.tasks()) {
    EditTask et;
    et.name = t->name()->str();
    et.kind = t->kind();
    et.from = t;
    for (const schema::TaskOutput* o : *t->outputs())
      et.outputs.emplace_back(o->name()->str(), o->tensor());
    m.tasks.push_back(std::move(et));
  }
  if (root.producer()) m.producer = root.producer()->str();
  if (root.description()) m.description = root.description()->str();
  if (root.metadata())
    for (const schema::Metadata* e : *root.metadata())
      m.metadata.emplace_back(e->key()->str(), e->value() ? e->value()->str() : "");
  return m;
}

void drop_unused_constants(EditModel& m) {
  std::vector<bool> used(m.tensors.size(), false);
  for (const EditNode& n : m.nodes) {
    for (int t : n.inputs)
      if (t >= 0) used[static_cast<size_t>(t)] = true;
    for (int t : n.outputs) used[static_cast<size_t>(t)] = true;
  }
  for (const auto& in : m.inputs) used[static_cast<size_t>(in.first)] = true;
  for (const EditTask& t : m.tasks)
    for (const auto& o : t.outputs) used[static_cast<size_t>(o.second)] = true;
  std::vector<int> remap(m.tensors.size(), -1);
  std::vector<EditTensor> kept;
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    if (m.tensors[t].data && !used[t]) continue;
    remap[t] = static_cast<int>(kept.size());
    kept.push_back(std::move(m.tensors[t]));
  }
  m.tensors = std::move(kept);
  auto fix = [&](int& t) {
    if (t >= 0) t = remap[static_cast<size_t>(t)];
  };
  for (EditNode& n : m.nodes) {
    for (int& t : n.inputs) fix(t);
    for (int& t : n.outputs) fix(t);
  }
  for (auto& in : m.inputs) fix(in.first);
  for (EditTask& task : m.tasks)
    for (auto& o : task.outputs) fix(o.second);
}

Result<std::vector<uint8_t>> write_model(const EditModel& m, bool keep_defaults) {
  internal::PhmModel out;
  out.producer = m.producer;
  out.description = m.description;
  for (const EditTensor& et : m.tensors) {
    internal::PhmTensor t;
    t.name = et.name;
    t.shape = et.shape;
    t.type = et.type;
    if (!et.scales.empty()) {
      internal::PhmQuantization q;
      q.scale = et.scales;
      // All-zero zero points (weights, biases) are left out: absent means all 0.
      std::vector<int64_t> zp = et.zero_points;
      zp.resize(et.scales.size(), 0);
      bool all_zero = true;
      for (int64_t z : zp) all_zero = all_zero && z == 0;
      if (!all_zero) q.zero_point = std::move(zp);
      q.axis = et.axis;
      t.quantization = std::move(q);
    }
    if (et.data) {
      t.constant = static_cast<int>(out.constants.size());
      out.constants.push_back({et.data, et.size});
      if (et.sparse_block_rows > 0 || et.sparse_block_cols > 0)
        t.sparse = internal::PhmSparseBlocks{et.sparse_block_rows, et.sparse_block_cols};
    }
    out.tensors.push_back(std::move(t));
  }
  for (const EditNode& n : m.nodes) {
    internal::PhmNode node;
    node.name = n.name;
    node.op = n.op;
    // A node without an options table stores type NONE, whatever its source said.
    const schema::Node* from = n.options_from;
    if (from && from->options_type() != schema::OpOptions::NONE && from->options()) {
      node.options_type = from->options_type();
      node.options = [from](flatbuffers::FlatBufferBuilder& b) {
        return merge::copy_options(b, *from);
      };
    }
    node.inputs = n.inputs;
    node.outputs = n.outputs;
    out.nodes.push_back(std::move(node));
  }
  for (const auto& [tensor, from] : m.inputs)
    out.inputs.push_back({tensor, merge::read_preprocess(from ? from->preprocess() : nullptr)});
  for (const EditTask& et : m.tasks) {
    internal::PhmTask task;
    task.name = et.name;
    task.kind = et.kind;
    for (const auto& [name, tensor] : et.outputs) task.outputs.push_back({name, tensor});
    if (et.from) {
      PH_ASSIGN_OR_RETURN(task.postprocess, merge::read_postprocess(et.from->postprocess()));
      task.priority = et.from->priority();
      task.rate = et.from->rate();
    }
    out.tasks.push_back(std::move(task));
  }
  out.metadata = m.metadata;

  internal::PhmWriteOptions options;
  options.keep_defaults = keep_defaults;
  return internal::write_phm(out, options);
}

}  // namespace polyhead::quantize
