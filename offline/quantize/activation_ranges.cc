#include "offline/quantize/activation_ranges.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace polyhead::quantize {

namespace {

constexpr size_t kLevels = 128;      // entropy: levels of one sign of int8
constexpr float kTinyScale = 1e-8f;  // scale of a tensor that was always 0

}  // namespace

const char* range_method_name(RangeMethod method) {
  switch (method) {
    case RangeMethod::kMinMax:
      return "minmax";
    case RangeMethod::kPercentile:
      return "percentile";
    case RangeMethod::kEntropy:
      return "entropy";
  }
  return "?";
}

Result<RangeMethod> parse_range_method(const std::string& text) {
  if (text == "minmax") return RangeMethod::kMinMax;
  if (text == "percentile") return RangeMethod::kPercentile;
  if (text == "entropy") return RangeMethod::kEntropy;
  return Status(ErrorCode::kInvalidArgument,
                "unknown range method '" + text + "' (expected minmax, percentile or entropy)");
}

void RangeObserver::grow(double magnitude) {
  if (limit_ == 0) {  // only zeros so far: they stay in bin 0 whatever the width
    limit_ = magnitude;
    return;
  }
  const double factor = std::ceil(magnitude / limit_);
  const size_t k = factor > static_cast<double>(kBins) ? kBins : static_cast<size_t>(factor);
  if (k < 2) return;
  std::vector<double> merged(kBins, 0.0);
  for (size_t i = 0; i < kBins; ++i) merged[i / k] += histogram_[i];
  histogram_.swap(merged);
  limit_ *= static_cast<double>(k);
  if (limit_ < magnitude) limit_ = magnitude;  // k was capped: the last bin takes the rest
}

void RangeObserver::observe(const float* values, size_t count) {
  constexpr float kBig = std::numeric_limits<float>::max();
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  size_t seen = 0;
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (std::isnan(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    ++seen;
  }
  if (seen == 0) return;
  lo = std::max(lo, -kBig);
  hi = std::min(hi, kBig);
  min_ = count_ == 0 ? lo : std::min(min_, lo);
  max_ = count_ == 0 ? hi : std::max(max_, hi);
  count_ += seen;
  const double magnitude =
      std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi)));
  if (magnitude > limit_) grow(magnitude);
  if (limit_ == 0) {
    histogram_[0] += static_cast<double>(seen);
    return;
  }
  const double per_bin = static_cast<double>(kBins) / limit_;
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (std::isnan(v)) continue;
    const double bin = std::fabs(static_cast<double>(v)) * per_bin;
    histogram_[bin >= static_cast<double>(kBins - 1) ? kBins - 1 : static_cast<size_t>(bin)] += 1;
  }
}

double percentile_threshold(const std::vector<double>& histogram, double bin_width,
                            double percentile) {
  double total = 0;
  for (double h : histogram) total += h;
  if (total <= 0) return 0;
  const double want = total * std::min(100.0, std::max(0.0, percentile)) / 100.0;
  double cumulative = 0;
  for (size_t i = 0; i < histogram.size(); ++i) {
    cumulative += histogram[i];
    if (cumulative >= want) return static_cast<double>(i + 1) * bin_width;
  }
  return static_cast<double>(histogram.size()) * bin_width;
}

double entropy_threshold(const std::vector<double>& raw, double bin_width) {
  const size_t n = raw.size();
  if (n <= kLevels) return static_cast<double>(n) * bin_width;
  // The first bin holds the exact zeros of ReLU outputs and padding, often most of a tensor: that
  // spike would dominate the divergence (any merge of bin 0 looks costly) and push the threshold
  // to the smallest candidate. It counts as much as its neighbour instead.
  std::vector<double> histogram = raw;
  histogram[0] = histogram[1];
  // suffix[i]: the values at or above bin i, which clipping at bin i folds into bin i - 1.
  std::vector<double> suffix(n + 1, 0.0);
  for (size_t i = n; i-- > 0;) suffix[i] = suffix[i + 1] + histogram[i];
  const double total = suffix[0];
  if (total <= 0) return 0;

  double best_kl = std::numeric_limits<double>::infinity();
  size_t best = n;
  std::vector<double> q(n, 0.0);
  for (size_t i = kLevels; i <= n; ++i) {
    // Q: bins 0..i-1 merged into kLevels groups, each group's count spread evenly over its
    // non-empty bins (an empty bin stays empty: quantization does not create values there).
    for (size_t level = 0; level < kLevels; ++level) {
      const size_t start = level * i / kLevels, end = (level + 1) * i / kLevels;
      double sum = 0;
      size_t nonzero = 0;
      for (size_t k = start; k < end; ++k)
        if (histogram[k] > 0) {
          sum += histogram[k];
          ++nonzero;
        }
      for (size_t k = start; k < end; ++k)
        q[k] = histogram[k] > 0 ? sum / static_cast<double>(nonzero) : 0.0;
    }
    // P: bins 0..i-1 with the clipped values in the last one; both normalised by their sums.
    const double p_sum = total;  // every value is in P
    double q_sum = 0;
    for (size_t k = 0; k < i; ++k) q_sum += q[k];
    if (q_sum <= 0) continue;
    double kl = 0;
    for (size_t k = 0; k < i; ++k) {
      const double p = (k + 1 == i ? histogram[k] + suffix[i] : histogram[k]) / p_sum;
      if (p <= 0) continue;
      const double qk = std::max(q[k] / q_sum, 1e-12);  // smoothing: P has mass where Q has none
      kl += p * std::log(p / qk);
    }
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return static_cast<double>(best) * bin_width;
}

Range choose_range(const RangeObserver& o, RangeMethod method, double percentile) {
  Range r{std::min(o.min(), 0.f), std::max(o.max(), 0.f)};
  if (o.count() == 0 || method == RangeMethod::kMinMax) return r;
  const double threshold = method == RangeMethod::kPercentile
                               ? percentile_threshold(o.histogram(), o.bin_width(), percentile)
                               : entropy_threshold(o.histogram(), o.bin_width());
  const auto t = static_cast<float>(threshold);
  r.min = std::max(r.min, -t);
  r.max = std::min(r.max, t);
  return r;
}

AffineParams affine_params(Range range) {
  const double lo = std::min(0.0, static_cast<double>(range.min));
  const double hi = std::max(0.0, static_cast<double>(range.max));
  AffineParams p;
  const double scale = (hi - lo) / 255.0;
  if (!(scale > kTinyScale) || !std::isfinite(scale)) {
    p.scale = std::isfinite(scale) ? kTinyScale : std::numeric_limits<float>::max() / 256;
    p.zero_point = lo < 0 && hi == 0 ? 127 : -128;
    return p;
  }
  p.scale = static_cast<float>(scale);
  const double zp = std::round(-128.0 - lo / static_cast<double>(p.scale));
  p.zero_point = static_cast<int32_t>(std::min(127.0, std::max(-128.0, zp)));
  return p;
}

}  // namespace polyhead::quantize
