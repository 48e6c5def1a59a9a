#include "offline/prune/layer_fractions.h"

#include <algorithm>

namespace polyhead::prune {

std::vector<double> tolerance_by_rank(const std::vector<size_t>& least_sensitive_first,
                                      size_t layers) {
  std::vector<double> t(layers, 1.0);
  const size_t n = least_sensitive_first.size();
  for (size_t rank = 0; rank < n; ++rank) {
    const double position = n > 1 ? static_cast<double>(rank) / static_cast<double>(n - 1) : 0.5;
    t[least_sensitive_first[rank]] = 2.0 - 1.5 * position;
  }
  return t;
}

double fraction_cap(double target) {
  return 1.0 - (1.0 - target) / 4.0;
}

std::vector<double> allocate_fractions(const std::vector<size_t>& sizes,
                                       const std::vector<double>& tolerance, double target,
                                       double cap) {
  double total = 0;
  for (size_t s : sizes) total += static_cast<double>(s);
  auto fractions = [&](double lambda) {
    std::vector<double> f(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) f[i] = std::min(cap, lambda * tolerance[i]);
    return f;
  };
  auto removed = [&](const std::vector<double>& f) {
    double r = 0;
    for (size_t i = 0; i < sizes.size(); ++i) r += f[i] * static_cast<double>(sizes[i]);
    return r;
  };
  // removed(lambda) is continuous and non-decreasing, from 0 at lambda = 0 to cap * total once
  // every layer is capped (at lambda = cap / the smallest tolerance): bisect.
  double min_tolerance = 1.0;
  for (double t : tolerance) min_tolerance = std::min(min_tolerance, t);
  double lo = 0, hi = cap / std::max(min_tolerance, 1e-9);
  const double wanted = target * total;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (removed(fractions(mid)) < wanted ? lo : hi) = mid;
  }
  return fractions(hi);
}

}  // namespace polyhead::prune
