#include "offline/merge/merged_writer.h"

#include <algorithm>
#include <cstring>

#include "offline/graph/phm_file_writer.h"
#include "offline/graph/schema_copy.h"
#include "polyhead/format_version.h"
#include "polyhead/kernels/op_table.h"

namespace polyhead::merge {

namespace fb = flatbuffers;

namespace {

struct Writer {
  const MergedGraph& mg;
  const MergedNames& names;
  const std::vector<SourceGraph>& graphs;
  const ConstantPool& pool;
  const std::vector<MergedTask>& tasks;
  const MergedHeader& header;
  std::vector<int> buffer_class;           // per buffer: the constant class it holds
  std::vector<uint32_t> buffer_of_tensor;  // per merged tensor: 1-based buffer, 0 for none

  void assign_buffers() {
    std::vector<uint32_t> of_class(pool.size(), 0);
    buffer_of_tensor.assign(mg.tensors.size(), 0);
    for (size_t t = 0; t < mg.tensors.size(); ++t) {
      const int cls = mg.tensors[t].constant;
      if (cls < 0) continue;
      uint32_t& buffer = of_class[static_cast<size_t>(cls)];
      if (buffer == 0) {  // one copy of equal bytes, however many tensors read them
        buffer_class.push_back(cls);
        buffer = static_cast<uint32_t>(buffer_class.size());
      }
      buffer_of_tensor[t] = buffer;
    }
  }

  Result<fb::Offset<schema::Model>> build(fb::FlatBufferBuilder& b,
                                          const std::vector<uint64_t>& offsets) const {
    std::vector<fb::Offset<schema::Tensor>> t_off;
    for (size_t t = 0; t < mg.tensors.size(); ++t) {
      const MergedTensor& mt = mg.tensors[t];
      const schema::Tensor& src = graphs[mt.model].tensor(mt.source);
      t_off.push_back(schema::CreateTensor(b, b.CreateString(names.tensors[t]),
                                           b.CreateVector(src.shape()->data(), src.shape()->size()),
                                           src.type(), copy_quantization(b, src.quantization()),
                                           buffer_of_tensor[t]));
    }
    std::vector<schema::BufferRef> buffers;
    for (size_t i = 0; i < buffer_class.size(); ++i)
      buffers.emplace_back(offsets[i], pool.bytes(buffer_class[i]));
    std::vector<fb::Offset<schema::Node>> n_off;
    uint32_t newest_minor = 0;  // the newest operator's format version
    for (size_t n = 0; n < mg.nodes.size(); ++n) {
      const MergedNode& mn = mg.nodes[n];
      const schema::Node& src = graphs[mn.model].node(mn.source);
      PH_ASSIGN_OR_RETURN(const kernels::OpInfo* op, kernels::op_info(src.op()));
      newest_minor = std::max(newest_minor, op->since_minor);
      PH_ASSIGN_OR_RETURN(fb::Offset<void> options, copy_options(b, src));
      n_off.push_back(schema::CreateNode(b, b.CreateString(names.nodes[n]), src.op(),
                                         src.options_type(), options, b.CreateVector(mn.inputs),
                                         b.CreateVector(mn.outputs)));
    }
    std::vector<fb::Offset<schema::Input>> i_off;
    for (size_t k = 0; k < mg.inputs.size(); ++k) {
      const schema::Input* src = graphs[0].root->inputs()->Get(static_cast<fb::uoffset_t>(k));
      i_off.push_back(schema::CreateInput(b, mg.inputs[k], copy_preprocess(b, src->preprocess())));
    }
    std::vector<fb::Offset<schema::Task>> k_off;
    for (const MergedTask& task : tasks) {
      const schema::Task* src =
          graphs[task.model].root->tasks()->Get(static_cast<fb::uoffset_t>(task.source));
      std::vector<fb::Offset<schema::TaskOutput>> outs;
      for (const schema::TaskOutput* o : *src->outputs()) {
        const int t = mg.tensor_map[task.model][static_cast<size_t>(o->tensor())];
        if (t < 0)
          return Status(ErrorCode::kInternal, "task '" + task.name + "' output '" +
                                                  o->name()->str() + "' lost its tensor");
        outs.push_back(schema::CreateTaskOutput(b, b.CreateString(o->name()->str()), t));
      }
      k_off.push_back(schema::CreateTask(
          b, b.CreateString(task.name), src->kind(), b.CreateVector(outs),
          copy_postprocess(b, src->postprocess()), src->priority(), src->rate()));
    }
    std::vector<fb::Offset<schema::Metadata>> m_off;
    for (const auto& [key, value] : header.metadata)
      m_off.push_back(schema::CreateMetadata(b, b.CreateString(key), b.CreateString(value)));
    return schema::CreateModel(b, kFormatVersionMajor, format_minor_to_write(newest_minor),
                               b.CreateString(header.producer), b.CreateString(header.description),
                               b.CreateVector(t_off), b.CreateVectorOfStructs(buffers),
                               b.CreateVector(n_off), b.CreateVector(i_off), b.CreateVector(k_off),
                               b.CreateVector(m_off));
  }
};

}  // namespace

Result<std::vector<uint8_t>> write_merged_model(const MergedGraph& mg, const MergedNames& names,
                                                const std::vector<SourceGraph>& graphs,
                                                const ConstantPool& pool,
                                                const std::vector<MergedTask>& tasks,
                                                const MergedHeader& header) {
  Writer w{mg, names, graphs, pool, tasks, header, {}, {}};
  w.assign_buffers();
  std::vector<ConstantBytes> constants;
  for (const int cls : w.buffer_class) constants.push_back({pool.data(cls), pool.bytes(cls)});
  return write_phm_file([&w](fb::FlatBufferBuilder& b,
                             const std::vector<uint64_t>& offsets) { return w.build(b, offsets); },
                        constants, "the merged model");
}

}  // namespace polyhead::merge
