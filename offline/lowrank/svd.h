// The thin singular value decomposition of a dense matrix in double precision, A = U S V^T, by
// one-sided (Hestenes) Jacobi: plane rotations make the columns of A pairwise orthogonal, their
// norms are then the singular values. Slower than bidiagonalisation for large matrices but short,
// accurate to the last bits for small singular values too, and enough for the weights of one
// layer (a few hundred to a thousand rows and columns).
#pragma once

#include <vector>

#include "polyhead/result.h"

namespace polyhead::lowrank {

struct Svd {
  int rows = 0, cols = 0;
  int k = 0;              // min(rows, cols): the number of singular values
  std::vector<double> u;  // rows x k, row-major; orthonormal columns
  std::vector<double> s;  // k singular values, largest first, all >= 0
  std::vector<double> v;  // cols x k, row-major; orthonormal columns

  double u_at(int row, int j) const { return u[static_cast<size_t>(row) * k + j]; }
  double v_at(int col, int j) const { return v[static_cast<size_t>(col) * k + j]; }
};

// The SVD of the rows x cols row-major matrix `a`. Columns of U for zero singular values (a
// rank-deficient matrix) are completed to an orthonormal set. Fails (kInvalidArgument) on an
// empty shape, a size that does not match, or a value that is not finite.
Result<Svd> svd(const std::vector<double>& a, int rows, int cols);

}  // namespace polyhead::lowrank
