// How much of each layer to prune so the model as a whole loses a given fraction: the layers the
// sensitivity measurement found least sensitive give up more. Only the order of the measured
// sensitivities is used, not their values: with a handful of calibration photos most single-layer
// drops are 0 or a few flipped results, too coarse to weigh, while their order (ties broken by
// the finer score, quantize::sort_by_sensitivity) is stable.
#pragma once

#include <cstddef>
#include <vector>

namespace polyhead::prune {

// Per layer, given the layers from least to most sensitive: a tolerance that falls linearly from
// 2 (least sensitive) to 0.5 (most), so the least sensitive layer is pruned four times as hard as
// the most sensitive one. `layers` is the layer count; an empty order gives every layer 1.
std::vector<double> tolerance_by_rank(const std::vector<size_t>& least_sensitive_first,
                                      size_t layers);

// The largest per-layer cap the allocation uses for a global `target`: 1 - (1 - target) / 4, so a
// layer keeps at least a quarter of what the model keeps on average.
double fraction_cap(double target);

// Per-layer fractions f_i = min(cap, lambda * tolerance_i), lambda chosen so that
// sum(f_i * sizes_i) = target * sum(sizes_i) (`sizes`: the prunable weights or channels of each
// layer). Needs 0 <= target <= cap <= 1.
std::vector<double> allocate_fractions(const std::vector<size_t>& sizes,
                                       const std::vector<double>& tolerance, double target,
                                       double cap);

}  // namespace polyhead::prune
