#include "support/tflite_builder.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

namespace polyhead::testing {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::uoffset_t;
using flatbuffers::voffset_t;

// The vtable slot of field `id`.
voffset_t slot(int id) {
  return static_cast<voffset_t>(4 + 2 * id);
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// A SparseIndexVector's table and union type (0: none).
std::pair<uint8_t, Offset<void>> index_vector(FlatBufferBuilder& fbb, const TfIndexVector& v) {
  if (v.width == 0) return {static_cast<uint8_t>(v.type < 0 ? 0 : v.type), Offset<void>()};
  Offset<void> values;
  if (v.width == 4) {
    std::vector<int32_t> w(v.values.begin(), v.values.end());
    values = fbb.CreateVector(w).Union();
  } else if (v.width == 2) {
    std::vector<uint16_t> w;
    for (int64_t x : v.values) w.push_back(static_cast<uint16_t>(x));
    fbb.ForceVectorAlignment(w.size(), 2, 4);
    values = fbb.CreateVector(w).Union();
  } else {
    std::vector<uint8_t> w;
    for (int64_t x : v.values) w.push_back(static_cast<uint8_t>(x));
    fbb.ForceVectorAlignment(w.size(), 1, 4);
    values = fbb.CreateVector(w).Union();
  }
  const uoffset_t start = fbb.StartTable();
  fbb.AddOffset(slot(0), values);
  const uint8_t type = static_cast<uint8_t>(v.type >= 0    ? v.type
                                            : v.width == 4 ? 1
                                            : v.width == 2 ? 2
                                                           : 3);
  return {type, Offset<void>(fbb.EndTable(start))};
}

// A SparsityParameters table.
Offset<void> sparsity_table(FlatBufferBuilder& fbb, const TfSparsitySpec& s) {
  std::vector<Offset<void>> dims;
  for (const TfDimMetadata& d : s.dims) {
    const auto segments = index_vector(fbb, d.segments);
    const auto indices = index_vector(fbb, d.indices);
    const uoffset_t start = fbb.StartTable();
    fbb.AddElement<int8_t>(slot(0), static_cast<int8_t>(d.format), 0);
    fbb.AddElement<int32_t>(slot(1), d.dense_size, 0);
    fbb.AddElement<uint8_t>(slot(2), segments.first, 0);
    if (!segments.second.IsNull()) fbb.AddOffset(slot(3), segments.second);
    fbb.AddElement<uint8_t>(slot(4), indices.first, 0);
    if (!indices.second.IsNull()) fbb.AddOffset(slot(5), indices.second);
    dims.push_back(Offset<void>(fbb.EndTable(start)));
  }
  auto order = fbb.CreateVector(s.traversal_order);
  Offset<flatbuffers::Vector<int32_t>> block_map;
  if (!s.block_map.empty()) block_map = fbb.CreateVector(s.block_map);
  auto dim_vec = fbb.CreateVector(dims);
  const uoffset_t start = fbb.StartTable();
  fbb.AddOffset(slot(0), order);
  if (!block_map.IsNull()) fbb.AddOffset(slot(1), block_map);
  fbb.AddOffset(slot(2), dim_vec);
  return Offset<void>(fbb.EndTable(start));
}

}  // namespace

std::vector<TfField> conv_options(int padding, int stride, int act) {
  return {TfField::byte(0, padding), TfField::i32(1, stride), TfField::i32(2, stride),
          TfField::byte(3, act),     TfField::i32(4, 1),      TfField::i32(5, 1)};
}
std::vector<TfField> depthwise_options(int padding, int stride, int multiplier, int act) {
  return {TfField::byte(0, padding),   TfField::i32(1, stride), TfField::i32(2, stride),
          TfField::i32(3, multiplier), TfField::byte(4, act),   TfField::i32(5, 1),
          TfField::i32(6, 1)};
}
std::vector<TfField> pool_options(int padding, int stride, int filter, int act) {
  return {TfField::byte(0, padding), TfField::i32(1, stride), TfField::i32(2, stride),
          TfField::i32(3, filter),   TfField::i32(4, filter), TfField::byte(5, act)};
}

std::vector<int8_t> random_i8(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}
std::vector<int32_t> random_i32(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

int TfliteWriter::tensor(const std::string& name, const std::vector<int32_t>& shape, int8_t type,
                         const TfQuant& quant, const std::vector<uint8_t>& data) {
  tensors_.push_back({name, shape, type, quant, data, {}});
  return static_cast<int>(tensors_.size() - 1);
}

int TfliteWriter::const_f32(const std::string& name, const std::vector<int32_t>& shape,
                            const std::vector<float>& values) {
  return tensor(name, shape, kF32, {}, bytes_of(values));
}

int TfliteWriter::const_i8(const std::string& name, const std::vector<int32_t>& shape,
                           const std::vector<int8_t>& values, const TfQuant& quant) {
  return tensor(name, shape, kI8, quant, bytes_of(values));
}

int TfliteWriter::const_i32(const std::string& name, const std::vector<int32_t>& shape,
                            const std::vector<int32_t>& values, const TfQuant& quant) {
  return tensor(name, shape, kI32, quant, bytes_of(values));
}

void TfliteWriter::op(int builtin, const std::vector<int32_t>& inputs,
                      const std::vector<int32_t>& outputs, const std::vector<TfField>& options,
                      uint8_t options_type) {
  auto it = std::find(codes_.begin(), codes_.end(), builtin);
  const int index = static_cast<int>(it - codes_.begin());
  if (it == codes_.end()) codes_.push_back(builtin);
  ops_.push_back({index, inputs, outputs, options, options_type});
}

std::vector<uint8_t> TfliteWriter::finish() const {
  FlatBufferBuilder fbb(1024);
  fbb.ForceDefaults(true);  // every scalar is stored, so tests can find and patch it

  // Buffers: 0 is the empty sentinel, then one per constant tensor.
  std::vector<Offset<void>> buffers;
  std::vector<uint32_t> buffer_of(tensors_.size(), 0);
  {
    const uoffset_t start = fbb.StartTable();
    buffers.push_back(Offset<void>(fbb.EndTable(start)));
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& data = tensors_[i].data;
    if (data.empty()) continue;
    fbb.ForceVectorAlignment(data.size(), 1, 16);
    auto vec = fbb.CreateVector(data);
    const uoffset_t start = fbb.StartTable();
    fbb.AddOffset(slot(0), vec);
    buffer_of[i] = static_cast<uint32_t>(buffers.size());
    buffers.push_back(Offset<void>(fbb.EndTable(start)));
  }

  std::vector<Offset<void>> tensors;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TfTensorSpec& t = tensors_[i];
    auto shape = fbb.CreateVector(t.shape);
    auto name = fbb.CreateString(t.name);
    Offset<void> quant;
    if (!t.quant.scale.empty() || !t.quant.zero_point.empty() || t.quant.details_type) {
      auto scale = fbb.CreateVector(t.quant.scale);
      auto zp = fbb.CreateVector(t.quant.zero_point);
      const uoffset_t start = fbb.StartTable();
      fbb.AddOffset(slot(2), scale);
      fbb.AddOffset(slot(3), zp);
      fbb.AddElement<uint8_t>(slot(4), t.quant.details_type, 0);
      fbb.AddElement<int32_t>(slot(6), t.quant.quantized_dimension, 0);
      quant = Offset<void>(fbb.EndTable(start));
    }
    Offset<void> sparsity;
    if (t.sparsity.present) sparsity = sparsity_table(fbb, t.sparsity);
    const uoffset_t start = fbb.StartTable();
    fbb.AddOffset(slot(0), shape);
    fbb.AddElement<int8_t>(slot(1), t.type, 0);
    fbb.AddElement<uint32_t>(slot(2), buffer_of[i], 0);
    fbb.AddOffset(slot(3), name);
    if (!quant.IsNull()) fbb.AddOffset(slot(4), quant);
    if (!sparsity.IsNull()) fbb.AddOffset(slot(6), sparsity);
    tensors.push_back(Offset<void>(fbb.EndTable(start)));
  }

  std::vector<Offset<void>> operators;
  for (const Op& o : ops_) {
    auto ins = fbb.CreateVector(o.inputs);
    auto outs = fbb.CreateVector(o.outputs);
    Offset<void> options;
    if (!o.options.empty()) {
      const uoffset_t start = fbb.StartTable();
      for (const TfField& f : o.options) {
        switch (f.kind) {
          case TfField::kByte:
            fbb.AddElement<int8_t>(slot(f.id), static_cast<int8_t>(f.value), 0);
            break;
          case TfField::kInt:
            fbb.AddElement<int32_t>(slot(f.id), static_cast<int32_t>(f.value), 0);
            break;
          case TfField::kFloat:
            fbb.AddElement<float>(slot(f.id), static_cast<float>(f.value), 0.f);
            break;
          case TfField::kBool:
            fbb.AddElement<uint8_t>(slot(f.id), f.value != 0 ? 1 : 0, 0);
            break;
        }
      }
      options = Offset<void>(fbb.EndTable(start));
    }
    const uoffset_t start = fbb.StartTable();
    fbb.AddElement<uint32_t>(slot(0), static_cast<uint32_t>(o.opcode_index), 0);
    fbb.AddOffset(slot(1), ins);
    fbb.AddOffset(slot(2), outs);
    if (!options.IsNull()) {
      fbb.AddElement<uint8_t>(slot(3), o.options_type, 0);
      fbb.AddOffset(slot(4), options);
    }
    operators.push_back(Offset<void>(fbb.EndTable(start)));
  }

  auto tensor_vec = fbb.CreateVector(tensors);
  auto in_vec = fbb.CreateVector(inputs_);
  auto out_vec = fbb.CreateVector(outputs_);
  auto op_vec = fbb.CreateVector(operators);
  auto sg_name = fbb.CreateString("main");
  uoffset_t start = fbb.StartTable();
  fbb.AddOffset(slot(0), tensor_vec);
  fbb.AddOffset(slot(1), in_vec);
  fbb.AddOffset(slot(2), out_vec);
  fbb.AddOffset(slot(3), op_vec);
  fbb.AddOffset(slot(4), sg_name);
  const Offset<void> subgraph(fbb.EndTable(start));

  std::vector<Offset<void>> codes;
  for (int c : codes_) {
    start = fbb.StartTable();
    fbb.AddElement<int8_t>(slot(0), static_cast<int8_t>(std::min(c, 127)), 0);
    fbb.AddElement<int32_t>(slot(2), 1, 0);  // version
    fbb.AddElement<int32_t>(slot(3), c, 0);
    codes.push_back(Offset<void>(fbb.EndTable(start)));
  }
  auto code_vec = fbb.CreateVector(codes);
  auto subgraphs = fbb.CreateVector(std::vector<Offset<void>>{subgraph});
  auto buffer_vec = fbb.CreateVector(buffers);
  auto description = fbb.CreateString("polyhead test model");
  start = fbb.StartTable();
  fbb.AddElement<uint32_t>(slot(0), 3, 0);
  fbb.AddOffset(slot(1), code_vec);
  fbb.AddOffset(slot(2), subgraphs);
  fbb.AddOffset(slot(3), description);
  fbb.AddOffset(slot(4), buffer_vec);
  const Offset<void> model(fbb.EndTable(start));
  fbb.Finish(model, "TFL3");
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace polyhead::testing
