// TFLite's sparse tensors (schema.fbs: Tensor.sparsity, a SparsityParameters table) and their
// decoding into the dense tensor.
//
// The format (a variant of TACO's) describes an n-dimensional dense tensor, possibly cut into
// k-dimensional blocks, as a tree of n + k levels walked in `traversal_order`: the first n levels
// are the tensor's dimensions in some order (a blocked dimension counts its blocks), the last k
// the block's dimensions, each mapped to the tensor dimension it cuts by `block_map`. Each level is
// DENSE (every coordinate of the level is stored: `dense_size` of them under each element of the
// level above) or SPARSE_CSR (only some: under element p of the level above, the coordinates
// `array_indices[array_segments[p] .. array_segments[p + 1])`). The leaves, in tree order, are
// the stored values: the constant's buffer holds exactly them. Everything not stored is zero.
//
// The file is untrusted: reading checks every vector against the buffer, decoding checks the
// structure (orders, block map, sizes, segments, indices, counts) before anything is allocated
// from it, and every failure names the tensor and the value found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "converters/tflite/flatbuffer_view.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

// DimensionType of the TFLite schema.
enum TfDimensionType : int { kDimDense = 0, kDimSparseCsr = 1 };

// A SparseIndexVector: Int32Vector, Uint16Vector or Uint8Vector, read in place (little-endian).
struct TfIndexArray {
  const uint8_t* data = nullptr;
  size_t count = 0;
  int width = 0;  // bytes per entry: 4, 2 or 1; 0 when absent

  // Entry i (< count); Int32Vector entries may be negative, which the decoder refuses.
  int64_t at(size_t i) const;
};

// A DimensionMetadata table.
struct TfDimensionMetadata {
  int format = kDimDense;  // TfDimensionType, or another value the decoder refuses
  int32_t dense_size = 0;  // DENSE: the level's size
  TfIndexArray segments;   // SPARSE_CSR: array_segments
  TfIndexArray indices;    // SPARSE_CSR: array_indices
};

// A SparsityParameters table.
struct TfSparsity {
  std::vector<int32_t> traversal_order;
  std::vector<int32_t> block_map;  // empty: not blocked
  std::vector<TfDimensionMetadata> dims;
};

// Reads a tensor's SparsityParameters table (`where` names the tensor in messages): every vector
// within the file, index vector types known. The meaning is checked by dense_offsets().
Result<TfSparsity> read_sparsity(const Table& sparsity, const std::string& where);

// The most elements the importer expands a sparse tensor into (a few stored values may describe
// an enormous tensor of zeros).
constexpr int64_t kMaxDensifiedElements = int64_t{1} << 26;

// For every stored value, in storage order, its element offset in the row-major dense tensor of
// shape `dims`. Checks that the traversal order is the n tensor dimensions followed by the k block
// dimensions, each once; that the block map names distinct tensor dimensions; that every block
// level is DENSE and its size divides the dimension it cuts; that every DENSE level's size is its
// dimension's (or its number of blocks); that every SPARSE_CSR level has one segment per element
// of the level above, starting at 0, never decreasing and ending at its index count, and indices
// inside its dimension, none twice in one segment; and that the leaves number `stored_values`.
// `where` names the tensor in messages.
Result<std::vector<uint32_t>> dense_offsets(const TfSparsity& sparsity,
                                            const std::vector<int64_t>& dims, size_t stored_values,
                                            const std::string& where);

// The dense bytes of a sparse tensor of shape `dims` whose stored values are `values` (`bytes`
// long, `element_size` bytes each): every stored value at its place, zero bytes elsewhere (0 for
// float32, float16 and int8, as TFLite's DENSIFY fills).
Result<std::vector<uint8_t>> densify(const TfSparsity& sparsity, const std::vector<int64_t>& dims,
                                     size_t element_size, const uint8_t* values, size_t bytes,
                                     const std::string& where);

}  // namespace polyhead::tflite
