#include "cli/bench_stats.h"

#include <algorithm>
#include <cmath>

namespace polyhead::cli {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double t = rank - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * t;
}

Summary summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.count = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = percentile(samples, 0.5);
  s.p90 = percentile(samples, 0.9);
  s.p99 = percentile(samples, 0.99);
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  if (s.count > 1) {
    // Two passes: the deviations are small next to the mean, so summing squares of raw values
    // would lose them to cancellation.
    double sq = 0;
    for (double v : samples) sq += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(sq / static_cast<double>(s.count - 1));
  }
  return s;
}

Histogram histogram(const std::vector<double>& samples, size_t bins) {
  Histogram h;
  if (samples.empty() || bins == 0) return h;
  const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  h.lo = *lo;
  if (*hi == *lo) {
    h.counts.assign(1, samples.size());
    return h;
  }
  h.bin_width = (*hi - *lo) / static_cast<double>(bins);
  h.counts.assign(bins, 0);
  for (double v : samples) {
    auto bin = static_cast<size_t>((v - h.lo) / h.bin_width);
    ++h.counts[std::min(bin, bins - 1)];
  }
  return h;
}

}  // namespace polyhead::cli
