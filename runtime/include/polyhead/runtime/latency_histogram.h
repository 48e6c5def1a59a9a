// LatencyHistogram: a fixed histogram of durations in logarithmic buckets, for latency
// percentiles over streams of any length in constant memory. Buckets grow by a factor of 1.04 from
// 100 ns (600 of them reach about 27 minutes) and a percentile is reported as its bucket's
// geometric middle, clamped to the smallest and largest value seen: so a percentile is within 2 %
// (sqrt(1.04) - 1 = 1.98 %) of the exact nearest-rank percentile of the same samples for any
// duration from 100 ns to the top bucket (values past either end are counted in the end buckets).
// Memory is allocated by the constructor; add() never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace polyhead::runtime {

class LatencyHistogram {
 public:
  static constexpr double kRatio = 1.04;      // upper / lower edge of a bucket
  static constexpr uint64_t kLowestNs = 100;  // lower edge of bucket 0
  static constexpr size_t kBuckets = 600;

  LatencyHistogram();

  void add(uint64_t ns);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  // The nearest-rank percentile `p` (0 < p <= 100): the value of rank ceil(p / 100 * count) among
  // the samples sorted, to 2 %; 0 when there are no samples.
  uint64_t percentile(double p) const;

 private:
  static size_t bucket_of(uint64_t ns);
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace polyhead::runtime
