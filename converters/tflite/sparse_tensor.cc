#include "converters/tflite/sparse_tensor.h"

#include <cstring>

#include "converters/tflite/status_helpers.h"

namespace polyhead::tflite {
namespace {

// Field ids of the schema tables read here.
namespace sparsity_f {
constexpr int kTraversalOrder = 0, kBlockMap = 1, kDimMetadata = 2;
}
namespace dimension_f {
// A union takes two ids: its type, then its value.
constexpr int kFormat = 0, kDenseSize = 1, kSegmentsType = 2, kSegments = 3, kIndicesType = 4,
              kIndices = 5;
}  // namespace dimension_f
constexpr int kIndexValues = 0;  // Int32Vector, Uint16Vector and Uint8Vector: values

// SparseIndexVector union types.
constexpr uint8_t kInt32Vector = 1, kUint16Vector = 2, kUint8Vector = 3;

// More levels than a rank-6 tensor with a block on every dimension can have; a bound on the work
// done before the decoder reports the real mismatch.
constexpr size_t kMaxLevels = 64;

std::string level_name(size_t level) {
  return "dim_metadata[" + std::to_string(level) + "]";
}

Status read_ints(const Table& t, int field, const std::string& what, std::vector<int32_t>* out) {
  const uint8_t* data = nullptr;
  size_t count = 0;
  out->clear();
  if (!t.vector(field, 4, &data, &count)) {
    if (size_t at = 0; t.field_position(field, &at)) return invalid(what + " is out of bounds");
    return Status::ok();  // absent
  }
  if (count > kMaxLevels)
    return invalid(what + " has " + std::to_string(count) + " entries (at most " +
                   std::to_string(kMaxLevels) + ")");
  out->resize(count);
  if (count) std::memcpy(out->data(), data, count * 4);
  return Status::ok();
}

Result<TfIndexArray> read_index_array(const Table& dim, int type_field, int value_field,
                                      const std::string& what) {
  TfIndexArray a;
  const uint8_t type = dim.u8(type_field);
  if (type == 0) return a;  // absent
  if (type != kInt32Vector && type != kUint16Vector && type != kUint8Vector)
    return invalid(what + " has index vector type " + std::to_string(type) +
                   " (1 Int32Vector, 2 Uint16Vector or 3 Uint8Vector expected)");
  const Table v = dim.table(value_field);
  if (!v.valid()) return invalid(what + " is missing or out of bounds");
  a.width = type == kInt32Vector ? 4 : type == kUint16Vector ? 2 : 1;
  if (!v.vector(kIndexValues, static_cast<size_t>(a.width), &a.data, &a.count)) {
    if (size_t at = 0; v.field_position(kIndexValues, &at))
      return invalid(what + "'s values are out of bounds");
    a.data = nullptr;  // a vector table without values: no entries
    a.count = 0;
  }
  return a;
}

const char* format_name(int format) {
  return format == kDimDense ? "DENSE" : format == kDimSparseCsr ? "SPARSE_CSR" : "unknown";
}

}  // namespace

int64_t TfIndexArray::at(size_t i) const {
  if (width == 4) {
    int32_t v;
    std::memcpy(&v, data + 4 * i, 4);
    return v;
  }
  if (width == 2) {
    uint16_t v;
    std::memcpy(&v, data + 2 * i, 2);
    return v;
  }
  return data[i];
}

Result<TfSparsity> read_sparsity(const Table& t, const std::string& where) {
  TfSparsity s;
  PH_RETURN_IF_ERROR(
      read_ints(t, sparsity_f::kTraversalOrder, where + ": traversal_order", &s.traversal_order));
  PH_RETURN_IF_ERROR(read_ints(t, sparsity_f::kBlockMap, where + ": block_map", &s.block_map));
  const uint8_t* entries = nullptr;
  size_t levels = 0;
  if (!t.vector(sparsity_f::kDimMetadata, 4, &entries, &levels)) {
    if (size_t at = 0; t.field_position(sparsity_f::kDimMetadata, &at))
      return invalid(where + ": dim_metadata is out of bounds");
  }
  if (levels > kMaxLevels)
    return invalid(where + " has " + std::to_string(levels) + " dim_metadata entries (at most " +
                   std::to_string(kMaxLevels) + ")");
  for (size_t l = 0; l < levels; ++l) {
    const std::string what = where + ": " + level_name(l);
    const Table d = t.table_at(sparsity_f::kDimMetadata, l);
    if (!d.valid()) return invalid(what + " is out of bounds");
    TfDimensionMetadata m;
    m.format = d.byte_enum(dimension_f::kFormat);
    m.dense_size = d.i32(dimension_f::kDenseSize);
    PH_ASSIGN_OR_RETURN(m.segments,
                        read_index_array(d, dimension_f::kSegmentsType, dimension_f::kSegments,
                                         what + ".array_segments"));
    PH_ASSIGN_OR_RETURN(m.indices,
                        read_index_array(d, dimension_f::kIndicesType, dimension_f::kIndices,
                                         what + ".array_indices"));
    s.dims.push_back(m);
  }
  return s;
}

Result<std::vector<uint32_t>> dense_offsets(const TfSparsity& s, const std::vector<int64_t>& dims,
                                            size_t stored_values, const std::string& where) {
  const size_t n = dims.size(), k = s.block_map.size(), levels = n + k;
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d < 1) return invalid(where + " has dimension " + std::to_string(d));
    total *= d;  // dims come from a checked shape: at most 2^34 elements, no overflow
  }
  if (total > kMaxDensifiedElements)
    return unsupported(where + " has " + std::to_string(total) + " elements, more than the " +
                       std::to_string(kMaxDensifiedElements) +
                       " the importer expands a sparse tensor into");
  if (s.traversal_order.size() != levels || s.dims.size() != levels)
    return invalid(where + " has " + std::to_string(s.traversal_order.size()) +
                   " traversal_order and " + std::to_string(s.dims.size()) +
                   " dim_metadata entries; its " + std::to_string(n) + " dimensions and " +
                   std::to_string(k) + " block dimensions need " + std::to_string(levels) +
                   " of each");

  // The block map: block dimension j (level dimension n + j) cuts tensor dimension block_map[j].
  std::vector<int> block_of(n, -1);
  for (size_t j = 0; j < k; ++j) {
    const int32_t d = s.block_map[j];
    if (d < 0 || static_cast<size_t>(d) >= n)
      return invalid(where + ": block_map[" + std::to_string(j) + "] = " + std::to_string(d) +
                     " is not one of its " + std::to_string(n) + " dimensions");
    if (block_of[static_cast<size_t>(d)] >= 0)
      return invalid(where + ": block_map names dimension " + std::to_string(d) + " twice");
    block_of[static_cast<size_t>(d)] = static_cast<int>(j);
  }

  // The traversal order: the n tensor dimensions, then the k block dimensions, each once.
  std::vector<int> level_of(levels, -1);
  for (size_t l = 0; l < levels; ++l) {
    const int32_t d = s.traversal_order[l];
    const bool block_part = l >= n;
    const int64_t lo = block_part ? static_cast<int64_t>(n) : 0;
    const int64_t hi = block_part ? static_cast<int64_t>(levels) : static_cast<int64_t>(n);
    if (d < lo || d >= hi)
      return invalid(
          where + ": traversal_order[" + std::to_string(l) + "] = " + std::to_string(d) +
          " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + ") (the " +
          (block_part ? "block dimensions follow the tensor's" : "tensor's dimensions come first") +
          ")");
    if (level_of[static_cast<size_t>(d)] >= 0)
      return invalid(where + ": traversal_order names dimension " + std::to_string(d) + " twice");
    level_of[static_cast<size_t>(d)] = static_cast<int>(l);
  }

  // Each level dimension's size and the dense offset one step along it moves.
  std::vector<int64_t> stride(n, 1);
  for (size_t d = n; d-- > 1;) stride[d - 1] = stride[d] * dims[d];
  std::vector<int64_t> size(levels), step(levels);
  for (size_t j = 0; j < k; ++j) {
    const size_t cut = static_cast<size_t>(s.block_map[j]);
    const size_t l = static_cast<size_t>(level_of[n + j]);
    const TfDimensionMetadata& m = s.dims[l];
    if (m.format != kDimDense)
      return unsupported(where + ": block dimension " + std::to_string(n + j) + " (" +
                         level_name(l) + ") is " + format_name(m.format) +
                         "; block dimensions must be DENSE, whose dense_size gives the block size");
    if (m.dense_size < 1 || dims[cut] % m.dense_size != 0)
      return invalid(where + ": block size " + std::to_string(m.dense_size) + " (" + level_name(l) +
                     ") does not divide dimension " + std::to_string(cut) + " of size " +
                     std::to_string(dims[cut]));
    size[n + j] = m.dense_size;
    step[n + j] = stride[cut];
  }
  for (size_t d = 0; d < n; ++d) {
    const int64_t block = block_of[d] >= 0 ? size[n + static_cast<size_t>(block_of[d])] : 1;
    size[d] = dims[d] / block;
    step[d] = stride[d] * block;
  }

  // First the counts alone: each level's element count, checked against its metadata, so that
  // nothing is allocated from numbers the file does not back. Every count stays at most `total`.
  std::vector<int64_t> count(levels + 1);
  count[0] = 1;  // above the first level: the root
  for (size_t l = 0; l < levels; ++l) {
    const TfDimensionMetadata& m = s.dims[l];
    const int64_t sz = size[static_cast<size_t>(s.traversal_order[l])];
    const std::string what = where + ": " + level_name(l) + " (dimension " +
                             std::to_string(s.traversal_order[l]) + ", size " + std::to_string(sz) +
                             ")";
    if (m.format == kDimDense) {
      if (m.dense_size != sz)
        return invalid(what + " is DENSE with dense_size " + std::to_string(m.dense_size));
      count[l + 1] = count[l] * sz;
    } else if (m.format == kDimSparseCsr) {
      if (m.segments.width == 0) return invalid(what + " is SPARSE_CSR without array_segments");
      if (m.indices.width == 0) return invalid(what + " is SPARSE_CSR without array_indices");
      if (m.segments.count != static_cast<uint64_t>(count[l]) + 1)
        return invalid(what + " has " + std::to_string(m.segments.count) +
                       " array_segments entries; the level above has " + std::to_string(count[l]) +
                       " elements, so " + std::to_string(count[l] + 1) + " are needed");
      if (m.indices.count > static_cast<uint64_t>(count[l] * sz))
        return invalid(what + " has " + std::to_string(m.indices.count) +
                       " array_indices entries, more than the " + std::to_string(count[l] * sz) +
                       " coordinates under the level above");
      count[l + 1] = static_cast<int64_t>(m.indices.count);
    } else {
      return invalid(what + " has format " + std::to_string(m.format) +
                     " (0 DENSE or 1 SPARSE_CSR expected)");
    }
  }
  if (static_cast<uint64_t>(count[levels]) != stored_values)
    return invalid(where + ": its sparsity describes " + std::to_string(count[levels]) +
                   " stored values, its buffer holds " + std::to_string(stored_values));

  // Then the walk: the dense offset of every element of each level, from the level above.
  std::vector<uint32_t> offsets(1, 0), next;
  std::vector<uint32_t> seen;  // per coordinate: 1 + the last segment it appeared in
  for (size_t l = 0; l < levels; ++l) {
    const TfDimensionMetadata& m = s.dims[l];
    const int64_t sz = size[static_cast<size_t>(s.traversal_order[l])];
    const int64_t st = step[static_cast<size_t>(s.traversal_order[l])];
    const std::string what = where + ": " + level_name(l);
    next.assign(static_cast<size_t>(count[l + 1]), 0);
    if (m.format == kDimDense) {
      for (size_t p = 0; p < offsets.size(); ++p)
        for (int64_t i = 0; i < sz; ++i)
          next[p * static_cast<size_t>(sz) + static_cast<size_t>(i)] =
              static_cast<uint32_t>(offsets[p] + i * st);
    } else {
      const TfIndexArray& seg = m.segments;
      const TfIndexArray& idx = m.indices;
      // Starting at 0 and no entry decreasing or passing the index count keeps every segment
      // inside array_indices.
      if (seg.at(0) != 0)
        return invalid(what + ".array_segments starts at " + std::to_string(seg.at(0)) +
                       " (0 expected)");
      if (seg.at(seg.count - 1) != static_cast<int64_t>(idx.count))
        return invalid(what + ".array_segments ends at " + std::to_string(seg.at(seg.count - 1)) +
                       ", array_indices has " + std::to_string(idx.count) + " entries");
      seen.assign(static_cast<size_t>(sz), 0);
      for (size_t p = 0; p < offsets.size(); ++p) {
        const int64_t begin = seg.at(p), end = seg.at(p + 1);
        if (end < begin)
          return invalid(what + ".array_segments decreases: entry " + std::to_string(p + 1) +
                         " is " + std::to_string(end) + " after " + std::to_string(begin));
        // Checked here, not only at the last entry: a later decrease would come too late.
        if (end > static_cast<int64_t>(idx.count))
          return invalid(what + ".array_segments entry " + std::to_string(p + 1) + " is " +
                         std::to_string(end) + ", past the " + std::to_string(idx.count) +
                         " array_indices entries");
        for (int64_t q = begin; q < end; ++q) {
          const int64_t i = idx.at(static_cast<size_t>(q));
          if (i < 0 || i >= sz)
            return invalid(what + ".array_indices[" + std::to_string(q) + "] = " +
                           std::to_string(i) + " is outside [0, " + std::to_string(sz) + ")");
          uint32_t& mark = seen[static_cast<size_t>(i)];
          if (mark == p + 1)
            return invalid(what + ".array_indices repeats " + std::to_string(i) + " in segment " +
                           std::to_string(p) + " (entry " + std::to_string(q) + ")");
          mark = static_cast<uint32_t>(p + 1);
          next[static_cast<size_t>(q)] = static_cast<uint32_t>(offsets[p] + i * st);
        }
      }
    }
    offsets.swap(next);
  }
  return offsets;
}

Result<std::vector<uint8_t>> densify(const TfSparsity& s, const std::vector<int64_t>& dims,
                                     size_t element_size, const uint8_t* values, size_t bytes,
                                     const std::string& where) {
  if (element_size == 0 || bytes % element_size != 0)
    return invalid(where + " holds " + std::to_string(bytes) + " bytes, not a whole number of " +
                   std::to_string(element_size) + "-byte values");
  PH_ASSIGN_OR_RETURN(std::vector<uint32_t> offsets,
                      dense_offsets(s, dims, bytes / element_size, where));
  size_t total = 1;
  for (int64_t d : dims) total *= static_cast<size_t>(d);  // checked by dense_offsets
  std::vector<uint8_t> dense(total * element_size, 0);
  for (size_t i = 0; i < offsets.size(); ++i)
    std::memcpy(dense.data() + static_cast<size_t>(offsets[i]) * element_size,
                values + i * element_size, element_size);
  return dense;
}

}  // namespace polyhead::tflite
