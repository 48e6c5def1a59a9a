#include "offline/prune/sparse_storage.h"

namespace polyhead::prune {

void store_block_sparse(quantize::EditTensor& t, int block_rows, int block_cols) {
  // TODO(merge main): t.sparse_block_rows = block_rows; t.sparse_block_cols = block_cols;
  (void)t;
  (void)block_rows;
  (void)block_cols;
}

void store_dense(quantize::EditTensor& t) {
  // TODO(merge main): t.sparse_block_rows = t.sparse_block_cols = 0;
  (void)t;
}

}  // namespace polyhead::prune
