// Which kernel runs a layer whose weights a model stores block-sparse (docs/sparse.md).
#pragma once

#include <string_view>

namespace polyhead {

enum class SparseWeights {
  kAuto,    // the sparse kernel where it is faster than the dense one at the layer's density
  kSparse,  // the sparse kernel wherever it can run the layer
  kDense,   // always the dense kernel, on weights expanded once when the kernel is created
};

inline const char* sparse_weights_name(SparseWeights s) {
  return s == SparseWeights::kSparse ? "sparse" : s == SparseWeights::kDense ? "dense" : "auto";
}

// Parses "auto", "sparse" or "dense"; false for anything else.
inline bool parse_sparse_weights(std::string_view name, SparseWeights* out) {
  if (name == "auto")
    *out = SparseWeights::kAuto;
  else if (name == "sparse")
    *out = SparseWeights::kSparse;
  else if (name == "dense")
    *out = SparseWeights::kDense;
  else
    return false;
  return true;
}

}  // namespace polyhead
