#include "offline/merge/merged_writer.h"

#include "offline/graph/schema_copy.h"
#include "polyhead/internal/phm_writer.h"

namespace polyhead::merge {

namespace fb = flatbuffers;

namespace {

// One buffer per constant class, however many merged tensors read its bytes. Returns the class of
// each buffer and sets each tensor's buffer index (-1: not constant).
std::vector<int> assign_buffers(const MergedGraph& mg, const ConstantPool& pool,
                                std::vector<int>& buffer_of_tensor) {
  std::vector<int> buffer_class;
  std::vector<int> of_class(pool.size(), -1);
  buffer_of_tensor.assign(mg.tensors.size(), -1);
  for (size_t t = 0; t < mg.tensors.size(); ++t) {
    const int cls = mg.tensors[t].constant;
    if (cls < 0) continue;
    int& buffer = of_class[static_cast<size_t>(cls)];
    if (buffer < 0) {
      buffer = static_cast<int>(buffer_class.size());
      buffer_class.push_back(cls);
    }
    buffer_of_tensor[t] = buffer;
  }
  return buffer_class;
}

}  // namespace

Result<std::vector<uint8_t>> write_merged_model(const MergedGraph& mg, const MergedNames& names,
                                                const std::vector<SourceGraph>& graphs,
                                                const ConstantPool& pool,
                                                const std::vector<MergedTask>& tasks,
                                                const MergedHeader& header) {
  internal::PhmModel m;
  m.producer = header.producer;
  m.description = header.description;
  std::vector<int> buffer_of_tensor;
  for (const int cls : assign_buffers(mg, pool, buffer_of_tensor))
    m.constants.push_back({pool.data(cls), pool.bytes(cls)});

  // Tensors and nodes take their merged names; everything else is copied from the source model.
  for (size_t t = 0; t < mg.tensors.size(); ++t) {
    const MergedTensor& mt = mg.tensors[t];
    const schema::Tensor& src = graphs[mt.model].tensor(mt.source);
    internal::PhmTensor pt;
    pt.name = names.tensors[t];
    pt.shape.assign(src.shape()->begin(), src.shape()->end());
    pt.type = src.type();
    pt.quantization = read_quantization(src.quantization());
    pt.constant = buffer_of_tensor[t];
    if (pt.constant >= 0) pt.sparse = read_sparse_blocks(src.sparse());
    m.tensors.push_back(std::move(pt));
  }
  for (size_t n = 0; n < mg.nodes.size(); ++n) {
    const MergedNode& mn = mg.nodes[n];
    const schema::Node& src = graphs[mn.model].node(mn.source);
    internal::PhmNode pn;
    pn.name = names.nodes[n];
    pn.op = src.op();
    pn.options_type = src.options_type();
    pn.options = [&src](fb::FlatBufferBuilder& b) { return copy_options(b, src); };
    pn.inputs = mn.inputs;
    pn.outputs = mn.outputs;
    m.nodes.push_back(std::move(pn));
  }
  // The merged model's inputs are the first model's.
  for (size_t k = 0; k < mg.inputs.size(); ++k) {
    const schema::Input* src = graphs[0].root->inputs()->Get(static_cast<fb::uoffset_t>(k));
    m.inputs.push_back({mg.inputs[k], read_preprocess(src->preprocess())});
  }
  for (const MergedTask& task : tasks) {
    const schema::Task* src =
        graphs[task.model].root->tasks()->Get(static_cast<fb::uoffset_t>(task.source));
    internal::PhmTask pt;
    pt.name = task.name;
    pt.kind = src->kind();
    for (const schema::TaskOutput* o : *src->outputs()) {
      const int t = mg.tensor_map[task.model][static_cast<size_t>(o->tensor())];
      if (t < 0)
        return Status(ErrorCode::kInternal,
                      "task '" + task.name + "' output '" + o->name()->str() + "' lost its tensor");
      pt.outputs.push_back({o->name()->str(), t});
    }
    PH_ASSIGN_OR_RETURN(pt.postprocess, read_postprocess(src->postprocess()));
    pt.priority = src->priority();
    pt.rate = src->rate();
    m.tasks.push_back(std::move(pt));
  }
  m.metadata = header.metadata;

  internal::PhmWriteOptions options;
  options.what = "the merged model";
  options.keep_defaults = true;
  return internal::write_phm(m, options);
}

}  // namespace polyhead::merge
