#include "offline/lowrank/svd.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <string>

namespace polyhead::lowrank {
namespace {

// Sweeps over all column pairs; Jacobi converges quadratically, so a few dozen are never needed
// for matrices of layer sizes (the cap only guards against a pathological input).
constexpr int kMaxSweeps = 60;

// Four running sums: independent chains the compiler can keep in vector registers (a single sum
// is a serial dependency, since floating-point addition may not be reordered).
double dot(const double* a, const double* b, int n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// (a, b) <- (c a - s b, s a + c b)
void rotate(double* a, double* b, int n, double c, double s) {
  for (int i = 0; i < n; ++i) {
    const double x = a[i], y = b[i];
    a[i] = c * x - s * y;
    b[i] = s * x + c * y;
  }
}

// Makes the n columns (each m long, stored one after another) of `cols` pairwise orthogonal by
// plane rotations, applying the same rotations to the n x n identity in `v` (also by columns).
void orthogonalize_columns(std::vector<double>& cols, int m, int n, std::vector<double>& v) {
  v.assign(static_cast<size_t>(n) * n, 0.0);
  for (int j = 0; j < n; ++j) v[static_cast<size_t>(j) * n + j] = 1.0;
  // Rounding leaves dot products of orthogonal columns near m * eps times their norms: a tighter
  // threshold would only spin.
  const double tol = std::max(1.0, static_cast<double>(m)) * DBL_EPSILON;
  std::vector<double> norm2(static_cast<size_t>(n));
  auto col = [&](std::vector<double>& x, int j, int len) {
    return x.data() + static_cast<size_t>(j) * len;
  };
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    // Recomputed each sweep so the running updates below cannot drift.
    for (int j = 0; j < n; ++j) norm2[j] = dot(col(cols, j, m), col(cols, j, m), m);
    bool rotated = false;
    for (int p = 0; p + 1 < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double a = norm2[p], b = norm2[q];
        if (a == 0 || b == 0) continue;
        const double g = dot(col(cols, p, m), col(cols, q, m), m);
        if (std::fabs(g) <= tol * std::sqrt(a * b)) continue;
        rotated = true;
        // The rotation that zeroes the pair's dot product; t is the smaller root of
        // t^2 + 2 zeta t - 1 = 0, so the angle stays below 45 degrees.
        const double zeta = (b - a) / (2 * g);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        const double c = 1 / std::sqrt(1 + t * t);
        const double s = c * t;
        rotate(col(cols, p, m), col(cols, q, m), m, c, s);
        rotate(col(v, p, n), col(v, q, n), n, c, s);
        norm2[p] = a - t * g;
        norm2[q] = b + t * g;
      }
    }
    if (!rotated) break;
  }
}

// Replaces the columns of `u` (m long, n of them, by columns) not marked `good` by unit vectors
// orthogonal to all the others: Gram-Schmidt, twice, on the standard basis vectors in turn.
void complete_basis(std::vector<double>& u, int m, int n, std::vector<bool> good) {
  std::vector<double> x(static_cast<size_t>(m));
  int next = 0;  // the next basis vector to try
  for (int j = 0; j < n; ++j) {
    if (good[j]) continue;
    for (; next < m; ++next) {
      std::fill(x.begin(), x.end(), 0.0);
      x[static_cast<size_t>(next)] = 1.0;
      for (int pass = 0; pass < 2; ++pass)
        for (int k = 0; k < n; ++k) {
          if (!good[k]) continue;
          const double* uk = u.data() + static_cast<size_t>(k) * m;
          const double d = dot(x.data(), uk, m);
          for (int i = 0; i < m; ++i) x[i] -= d * uk[i];
        }
      const double norm = std::sqrt(dot(x.data(), x.data(), m));
      // A basis vector mostly inside the span of the others would lose digits: try the next.
      if (norm > 0.5) {
        double* uj = u.data() + static_cast<size_t>(j) * m;
        for (int i = 0; i < m; ++i) uj[i] = x[i] / norm;
        good[j] = true;
        ++next;
        break;
      }
    }
  }
}

}  // namespace

Result<Svd> svd(const std::vector<double>& a, int rows, int cols) {
  if (rows <= 0 || cols <= 0)
    return Status(ErrorCode::kInvalidArgument,
                  "svd: empty matrix " + std::to_string(rows) + "x" + std::to_string(cols));
  if (a.size() != static_cast<size_t>(rows) * static_cast<size_t>(cols))
    return Status(ErrorCode::kInvalidArgument, "svd: " + std::to_string(a.size()) +
                                                   " values for a " + std::to_string(rows) + "x" +
                                                   std::to_string(cols) + " matrix");
  for (size_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(a[i]))
      return Status(
          ErrorCode::kInvalidArgument,
          "svd: value " + std::to_string(i) + " is not finite (" + std::to_string(a[i]) + ")");
  // Jacobi works on the columns of a tall matrix (m >= n): A itself, or A^T for a wide one.
  const bool tall = rows >= cols;
  const int m = tall ? rows : cols, n = tall ? cols : rows;
  std::vector<double> c(static_cast<size_t>(m) * n);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const double x = a[static_cast<size_t>(i) * cols + j];
      // Column j of A holds A[.][j]; column i of A^T holds row i of A.
      if (tall)
        c[static_cast<size_t>(j) * m + i] = x;
      else
        c[static_cast<size_t>(i) * m + j] = x;
    }
  std::vector<double> v;
  orthogonalize_columns(c, m, n, v);

  // The column norms are the singular values; normalised, the columns are the left vectors.
  std::vector<double> sigma(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    const double* cj = c.data() + static_cast<size_t>(j) * m;
    sigma[j] = std::sqrt(dot(cj, cj, m));
  }
  const double largest = *std::max_element(sigma.begin(), sigma.end());
  // Below this a column is rounding noise, not a direction: it is replaced by a completion.
  const double negligible = largest * static_cast<double>(m) * DBL_EPSILON;
  std::vector<bool> good(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    good[j] = sigma[j] > negligible && sigma[j] > 0;
    if (!good[j]) continue;
    double* cj = c.data() + static_cast<size_t>(j) * m;
    for (int i = 0; i < m; ++i) cj[i] /= sigma[j];
  }
  complete_basis(c, m, n, good);

  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return sigma[x] > sigma[y]; });

  Svd r;
  r.rows = rows;
  r.cols = cols;
  r.k = n;
  r.s.resize(static_cast<size_t>(n));
  r.u.resize(static_cast<size_t>(rows) * n);
  r.v.resize(static_cast<size_t>(cols) * n);
  // Tall: U = the normalised columns (m = rows), V = the rotations (n = cols). Wide: the roles
  // swap, since A^T = C S R^T means A = R S C^T.
  for (int j = 0; j < n; ++j) {
    const int from = order[j];
    r.s[j] = sigma[from];
    const double* cj = c.data() + static_cast<size_t>(from) * m;
    const double* vj = v.data() + static_cast<size_t>(from) * n;
    std::vector<double>& left = tall ? r.u : r.v;
    std::vector<double>& right = tall ? r.v : r.u;
    for (int i = 0; i < m; ++i) left[static_cast<size_t>(i) * n + j] = cj[i];
    for (int i = 0; i < n; ++i) right[static_cast<size_t>(i) * n + j] = vj[i];
  }
  return r;
}

}  // namespace polyhead::lowrank
