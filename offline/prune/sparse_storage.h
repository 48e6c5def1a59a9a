// How an edited constant is stored: block-sparse (quantize::EditTensor's block shape; the writer
// encodes the stored blocks from the dense bytes) or dense.
#pragma once

#include "offline/quantize/model_writer.h"

namespace polyhead::prune {

void store_block_sparse(quantize::EditTensor& t, int block_rows, int block_cols);

// Dense again: a constant whose shape changed no longer fits its old blocks.
void store_dense(quantize::EditTensor& t);

}  // namespace polyhead::prune
