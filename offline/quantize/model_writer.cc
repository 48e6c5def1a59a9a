#include "offline/quantize/model_writer.h"

#include <algorithm>
#include <cstring>

#include "offline/graph/phm_file_writer.h"
#include "offline/graph/schema_copy.h"
#include "polyhead/format_version.h"
#include "polyhead/kernels/op_table.h"

namespace polyhead::quantize {

namespace fb = flatbuffers;

namespace {

struct Writer {
  const EditModel& m;
  std::vector<int> constant_tensors;  // per buffer: the tensor it holds

  Result<fb::Offset<schema::Model>> build(fb::FlatBufferBuilder& b,
                                          const std::vector<uint64_t>& offsets) const {
    std::vector<uint32_t> buffer_of(m.tensors.size(), 0);
    for (size_t i = 0; i < constant_tensors.size(); ++i)
      buffer_of[static_cast<size_t>(constant_tensors[i])] = static_cast<uint32_t>(i + 1);
    std::vector<fb::Offset<schema::Tensor>> t_off;
    for (size_t t = 0; t < m.tensors.size(); ++t) {
      const EditTensor& et = m.tensors[t];
      fb::Offset<schema::Quantization> q = 0;
      if (!et.scales.empty()) {
        // All-zero zero points (weights, biases) are left out: absent means all 0.
        std::vector<int64_t> zp = et.zero_points;
        zp.resize(et.scales.size(), 0);
        bool all_zero = true;
        for (int64_t z : zp) all_zero = all_zero && z == 0;
        q = schema::CreateQuantization(b, b.CreateVector(et.scales),
                                       all_zero ? 0 : b.CreateVector(zp), et.axis);
      }
      t_off.push_back(schema::CreateTensor(b, b.CreateString(et.name), b.CreateVector(et.shape),
                                           et.type, q, buffer_of[t]));
    }
    std::vector<schema::BufferRef> buffers;
    for (size_t i = 0; i < constant_tensors.size(); ++i)
      buffers.emplace_back(offsets[i], m.tensors[static_cast<size_t>(constant_tensors[i])].size);
    std::vector<fb::Offset<schema::Node>> n_off;
    uint32_t newest_minor = 0;  // the newest operator's format version
    for (const EditNode& n : m.nodes) {
      PH_ASSIGN_OR_RETURN(const kernels::OpInfo* op, kernels::op_info(n.op));
      newest_minor = std::max(newest_minor, op->since_minor);
      fb::Offset<void> options = 0;
      schema::OpOptions type = schema::OpOptions::NONE;
      if (n.options_from) {
        PH_ASSIGN_OR_RETURN(options, merge::copy_options(b, *n.options_from));
        if (!options.IsNull()) type = n.options_from->options_type();
      }
      n_off.push_back(schema::CreateNode(b, b.CreateString(n.name), n.op, type, options,
                                         b.CreateVector(n.inputs), b.CreateVector(n.outputs)));
    }
    std::vector<fb::Offset<schema::Input>> i_off;
    for (const auto& [tensor, from] : m.inputs)
      i_off.push_back(schema::CreateInput(
          b, tensor, merge::copy_preprocess(b, from ? from->preprocess() : nullptr)));
    std::vector<fb::Offset<schema::Task>> k_off;
    for (const EditTask& task : m.tasks) {
      std::vector<fb::Offset<schema::TaskOutput>> outs;
      for (const auto& [name, tensor] : task.outputs)
        outs.push_back(schema::CreateTaskOutput(b, b.CreateString(name), tensor));
      k_off.push_back(schema::CreateTask(
          b, b.CreateString(task.name), task.kind, b.CreateVector(outs),
          merge::copy_postprocess(b, task.from ? task.from->postprocess() : nullptr),
          task.from ? task.from->priority() : 0, task.from ? task.from->rate() : 1));
    }
    std::vector<fb::Offset<schema::Metadata>> md_off;
    for (const auto& [key, value] : m.metadata)
      md_off.push_back(schema::CreateMetadata(b, b.CreateString(key), b.CreateString(value)));
    return schema::CreateModel(b, kFormatVersionMajor, format_minor_to_write(newest_minor),
                               b.CreateString(m.producer), b.CreateString(m.description),
                               b.CreateVector(t_off), b.CreateVectorOfStructs(buffers),
                               b.CreateVector(n_off), b.CreateVector(i_off), b.CreateVector(k_off),
                               b.CreateVector(md_off));
  }
};

}  // namespace

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
      if (q->scale()) et.scales.assign(q->scale()->begin(), q->scale()->end());
      if (q->zero_point()) et.zero_points.assign(q->zero_point()->begin(), q->zero_point()->end());
      et.axis = q->axis();
    }
    if (t.buffer() != 0) {
      et.data = g.constant_data(static_cast<int>(i));
      et.size = g.constant_size(static_cast<int>(i));
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

Result<std::vector<uint8_t>> write_model(const EditModel& m) {
  Writer w{m, {}};
  for (size_t t = 0; t < m.tensors.size(); ++t)
    if (m.tensors[t].data) w.constant_tensors.push_back(static_cast<int>(t));
  std::vector<merge::ConstantBytes> constants;
  for (const int t : w.constant_tensors) {
    const EditTensor& et = m.tensors[static_cast<size_t>(t)];
    constants.push_back({et.data, et.size});
  }
  return merge::write_phm_file(
      [&w](fb::FlatBufferBuilder& b, const std::vector<uint64_t>& offsets) {
        return w.build(b, offsets);
      },
      constants, "the model");
}

}  // namespace polyhead::quantize
