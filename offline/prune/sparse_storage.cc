#include "offline/prune/sparse_storage.h"

namespace polyhead::prune {

void store_block_sparse(quantize::EditTensor& t, int block_rows, int block_cols) {
  t.sparse_block_rows = block_rows;
  t.sparse_block_cols = block_cols;
}

void store_dense(quantize::EditTensor& t) {
  t.sparse_block_rows = 0;
  t.sparse_block_cols = 0;
}

}  // namespace polyhead::prune
