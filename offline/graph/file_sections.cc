#include "offline/graph/file_sections.h"

#include <algorithm>
#include <set>

#include "polyhead/schema/phm_generated.h"

namespace polyhead::graph {

namespace fb = flatbuffers;

namespace {

enum Section : size_t {
  kInt8Constants,
  kInt32Constants,
  kFloatConstants,
  kConstantPadding,
  kQuantization,
  kTensorNames,
  kTensorShapes,
  kSparseIndices,
  kNodeNames,
  kNodeIo,
  kAnchors,
  kLabels,
  kStrings,
  kFlatBufferOther,
  kSectionCount,
};

FileSections empty_sections(uint64_t file_bytes) {
  FileSections s;
  s.file_bytes = file_bytes;
  s.sections = {
      {"int8_constants", "int8 constants (weights)", 0, 0},
      {"int32_constants", "int32 constants (biases)", 0, 0},
      {"float_constants", "float constants", 0, 0},
      {"constant_padding", "constant alignment padding", 0, 0},
      {"quantization", "quantization scales and zero points", 0, 0},
      {"tensor_names", "tensor names", 0, 0},
      {"tensor_shapes", "tensor shapes", 0, 0},
      {"sparse_indices", "sparse block indices", 0, 0},
      {"node_names", "node names", 0, 0},
      {"node_io", "node input/output lists", 0, 0},
      {"anchors", "detection anchors", 0, 0},
      {"labels", "class labels", 0, 0},
      {"strings", "producer, description, metadata, task names", 0, 0},
      {"flatbuffer_other", "FlatBuffer tables, options, vtables, padding", 0, 0},
  };
  return s;
}

// Bytes a FlatBuffer vector or string takes: its 32-bit length and its elements (a string's
// terminating zero too). Alignment padding before it is left to "flatbuffer_other".
template <typename T>
uint64_t vector_bytes(const fb::Vector<T>* v) {
  return v ? sizeof(fb::uoffset_t) + uint64_t{v->size()} * sizeof(T) : 0;
}
uint64_t string_bytes(const fb::String* s) {
  return s ? sizeof(fb::uoffset_t) + uint64_t{s->size()} + 1 : 0;
}

Section constant_section(schema::ElementType type) {
  switch (type) {
    case schema::ElementType::I8:
    case schema::ElementType::U8:
      return kInt8Constants;
    case schema::ElementType::I32:
      return kInt32Constants;
    default:
      return kFloatConstants;
  }
}

struct BufferUse {
  uint64_t offset = 0, size = 0;
  Section section = kFloatConstants;
};

}  // namespace

Result<FileSections> measure_file_sections(const uint8_t* data, size_t size) {
  fb::Verifier verifier(data, size);
  if (size < 8 || !schema::VerifyModelBuffer(verifier))
    return Status(ErrorCode::kInvalidModel, "not a valid .phm FlatBuffer");
  const schema::Model& m = *schema::GetModel(data);
  FileSections out = empty_sections(size);
  auto add = [&](Section s, uint64_t bytes) {
    if (bytes == 0) return;
    out.sections[s].bytes += bytes;
    ++out.sections[s].count;
  };
  // Writers share identical vectors between tables (phm_writer.h): each is counted once, where it
  // is first met, so the sections still sum to the file size.
  std::set<const void*> counted;
  auto once = [&](const void* v) { return v && counted.insert(v).second; };
  auto vector_once = [&](const auto* v) -> uint64_t { return once(v) ? vector_bytes(v) : 0; };
  auto string_once = [&](const fb::String* s) -> uint64_t { return once(s) ? string_bytes(s) : 0; };

  // Constant data: each buffer once, of the kind of the first tensor that reads it. Buffers no
  // tensor reads count as padding (nothing uses their bytes).
  const auto* buffers = m.buffers();
  const size_t buffer_count = buffers ? buffers->size() : 0;
  std::vector<int> kind(buffer_count, -1);
  uint64_t flatbuffer_end = size;  // where the constant region starts
  for (const schema::Tensor* t : *m.tensors()) {
    if (t->buffer() == 0 || t->buffer() > buffer_count) continue;
    int& k = kind[t->buffer() - 1];
    if (k < 0) k = constant_section(t->type());
  }
  std::vector<BufferUse> uses;
  for (size_t i = 0; i < buffer_count; ++i) {
    const schema::BufferRef* b = buffers->Get(static_cast<fb::uoffset_t>(i));
    if (kind[i] < 0 || b->size() == 0 || b->offset() >= size) continue;
    uses.push_back({b->offset(), std::min<uint64_t>(b->size(), size - b->offset()),
                    static_cast<Section>(kind[i])});
    flatbuffer_end = std::min<uint64_t>(flatbuffer_end, b->offset());
  }
  // Bytes two buffers share belong to the one that starts first, so the sum stays the file size.
  std::sort(uses.begin(), uses.end(),
            [](const BufferUse& a, const BufferUse& b) { return a.offset < b.offset; });
  uint64_t covered_to = flatbuffer_end, covered = 0;
  for (const BufferUse& u : uses) {
    const uint64_t begin = std::max(u.offset, covered_to), end = u.offset + u.size;
    if (end <= begin) continue;
    add(u.section, end - begin);
    covered += end - begin;
    covered_to = end;
  }
  out.sections[kConstantPadding].bytes = size - flatbuffer_end - covered;

  // The FlatBuffer's variable-size parts.
  for (const schema::Tensor* t : *m.tensors()) {
    add(kTensorNames, string_once(t->name()));
    add(kTensorShapes, vector_once(t->shape()));
    if (const schema::Quantization* q = t->quantization())
      add(kQuantization,
          vector_once(q->scale()) + vector_once(q->scale_f16()) + vector_once(q->zero_point()));
    if (const schema::SparseLayout* s = t->sparse())
      add(kSparseIndices, vector_once(s->row_starts()) + vector_once(s->block_columns()));
  }
  for (const schema::Node* n : *m.nodes()) {
    add(kNodeNames, string_once(n->name()));
    add(kNodeIo, vector_once(n->inputs()) + vector_once(n->outputs()));
  }
  for (const schema::Task* t : *m.tasks()) {
    add(kStrings, string_once(t->name()));
    for (const schema::TaskOutput* o : *t->outputs()) add(kStrings, string_once(o->name()));
    if (const schema::PostProcess* p = t->postprocess()) {
      add(kAnchors, vector_once(p->anchors()));
      if (p->anchor_grids())
        for (const schema::AnchorGrid* g : *p->anchor_grids())
          add(kAnchors, vector_once(g->sizes()));
      if (p->labels())
        for (const fb::String* l : *p->labels()) add(kLabels, string_once(l));
    }
  }
  add(kStrings, string_once(m.producer()));
  add(kStrings, string_once(m.description()));
  if (m.metadata())
    for (const schema::Metadata* e : *m.metadata())
      add(kStrings, string_once(e->key()) + string_once(e->value()));
  uint64_t attributed = 0;
  for (size_t s = kQuantization; s < kFlatBufferOther; ++s) attributed += out.sections[s].bytes;
  if (attributed > flatbuffer_end)
    return Status(ErrorCode::kInvalidModel,
                  "the FlatBuffer's vectors take " + std::to_string(attributed) +
                      " bytes, more than the " + std::to_string(flatbuffer_end) +
                      " bytes before the first constant");
  out.sections[kFlatBufferOther].bytes = flatbuffer_end - attributed;
  return out;
}

}  // namespace polyhead::graph
