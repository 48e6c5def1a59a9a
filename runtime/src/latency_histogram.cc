#include "polyhead/runtime/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace polyhead::runtime {

namespace {
const double kLogRatio = std::log(LatencyHistogram::kRatio);
}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

size_t LatencyHistogram::bucket_of(uint64_t ns) {
  if (ns <= kLowestNs) return 0;
  const double index =
      std::floor(std::log(static_cast<double>(ns) / static_cast<double>(kLowestNs)) / kLogRatio);
  return index >= static_cast<double>(kBuckets - 1) ? kBuckets - 1 : static_cast<size_t>(index);
}

void LatencyHistogram::add(uint64_t ns) {
  ++counts_[bucket_of(ns)];
  ++count_;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const double wanted =
      std::ceil(std::min(std::max(p, 0.0), 100.0) / 100.0 * static_cast<double>(count_));
  const uint64_t rank = wanted < 1 ? 1 : static_cast<uint64_t>(wanted);
  uint64_t seen = 0;
  size_t bucket = 0;
  for (; bucket < kBuckets; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) break;
  }
  // The geometric middle of the bucket, which the true value lies within (sqrt(kRatio) of it);
  // clamping to the extremes keeps that bound and makes the end buckets exact at their ends.
  const double middle =
      static_cast<double>(kLowestNs) * std::exp((static_cast<double>(bucket) + 0.5) * kLogRatio);
  const double clamped =
      std::min(std::max(middle, static_cast<double>(min_)), static_cast<double>(max_));
  return static_cast<uint64_t>(std::llround(clamped));
}

}  // namespace polyhead::runtime
