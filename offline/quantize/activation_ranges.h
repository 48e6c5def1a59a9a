// Activation ranges from calibration: an observer per tensor collects the minimum, the maximum and
// a histogram of |x|, and one of three methods turns that into the range an int8 tensor covers.
//
//   minmax      the observed [min, max];
//   percentile  |x| clipped at the P-th percentile of all observed |x| (both tails at the same
//               magnitude), intersected with [min, max];
//   entropy     |x| clipped at the threshold whose 128-level quantization of the histogram loses
//               the least information (smallest KL divergence, the TensorRT calibration method),
//               intersected with [min, max].
//
// Every range includes 0, so that zero (padding, ReLU) is exact in int8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::quantize {

enum class RangeMethod { kMinMax, kPercentile, kEntropy };
const char* range_method_name(RangeMethod method);
// "minmax", "percentile" or "entropy".
Result<RangeMethod> parse_range_method(const std::string& text);

struct Range {
  float min = 0.f, max = 0.f;
};

// Collects what the range methods need from every value a tensor took during calibration. The
// histogram of |x| has kBins bins over [0, limit]; the limit is the largest |x| of the first values
// seen and grows by whole multiples (merging neighbouring bins exactly) when a larger one arrives.
class RangeObserver {
 public:
  static constexpr size_t kBins = 2048;

  RangeObserver() : histogram_(kBins, 0.0) {}
  // NaN values are ignored; infinities are clamped to the largest float.
  void observe(const float* values, size_t count);

  uint64_t count() const { return count_; }
  float min() const { return min_; }
  float max() const { return max_; }
  const std::vector<double>& histogram() const { return histogram_; }
  double bin_width() const { return limit_ / static_cast<double>(kBins); }

 private:
  void grow(double magnitude);

  uint64_t count_ = 0;
  float min_ = 0.f, max_ = 0.f;
  double limit_ = 0;
  std::vector<double> histogram_;
};

// The |x| below which `percentile` percent (in (0, 100]) of the histogram's values lie: the upper
// edge of the first bin whose cumulative count reaches that share.
double percentile_threshold(const std::vector<double>& histogram, double bin_width,
                            double percentile);

// The clipping threshold that minimises KL(P || Q), P the histogram clipped at the threshold (the
// values above it added to its last bin), Q that histogram quantized to 128 levels; candidates are
// the upper edges of bins 128..N. The first bin (the exact zeros of ReLU outputs and padding)
// counts as much as the second, so that spike does not decide. Histograms of up to 128 bins give
// their whole range.
double entropy_threshold(const std::vector<double>& histogram, double bin_width);

// The range the method picks, always containing 0. `percentile` is used by kPercentile only.
Range choose_range(const RangeObserver& observer, RangeMethod method, double percentile);

// Asymmetric per-tensor int8 parameters covering `range` (widened to include 0):
// scale = (max - min) / 255, zero point = round(-128 - min / scale) in [-128, 127], so that
// min maps to -128, max to 127 and 0 exactly to the zero point. A range of width 0 gets a tiny
// positive scale.
struct AffineParams {
  float scale = 1.f;
  int32_t zero_point = 0;
};
AffineParams affine_params(Range range);

}  // namespace polyhead::quantize
