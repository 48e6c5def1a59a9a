// Summary statistics of latency samples for `polyhead bench`: percentiles, mean, standard
// deviation and histograms, kept apart from the measuring so they can be tested on known inputs.
#pragma once

#include <cstddef>
#include <vector>

namespace polyhead::cli {

struct Summary {
  size_t count = 0;
  double min = 0, median = 0, p90 = 0, p99 = 0, max = 0;
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1); 0 for fewer than two samples
};

// The value at fraction `q` (clamped to [0, 1]) of ascending `sorted`, interpolating linearly
// between the two closest ranks (numpy's default "linear" method); 0 when `sorted` is empty.
double percentile(const std::vector<double>& sorted, double q);

// All fields are 0 for no samples.
Summary summarize(std::vector<double> samples);

// Equal-width bins over [min, max] of the samples; the maximum falls in the last bin.
struct Histogram {
  double lo = 0;
  double bin_width = 0;  // 0 when every sample is equal (then one bin holds them all)
  std::vector<size_t> counts;
};
Histogram histogram(const std::vector<double>& samples, size_t bins);

}  // namespace polyhead::cli
