// Bias correction: what pruning takes out of a layer on average goes into its bias. A weight
// w[o][k] that is removed (zeroed, or its input channel removed) took w[o][k] * x_k away from
// output o; replacing x_k by its mean over the calibration photos (channel_means.h) and adding
// that to bias[o] keeps each output's mean where it was. For 1x1 convolutions and fully connected
// layers the mean is exact; for wider kernels the zero padding at the borders makes it a close
// approximation. It is analytic, not fine-tuning: no weight is trained.
#pragma once

#include <cstddef>
#include <vector>

#include "offline/quantize/model_writer.h"

namespace polyhead::prune {

// Per output row o of the [rows] x [cols] weights: sum over k of removed[o][k] * means[k % C],
// C = means.size() (the input channels, innermost in OHWI weights). `removed` holds the removed
// weights' values and 0 elsewhere.
std::vector<double> removed_contribution(const float* removed, size_t rows, size_t cols,
                                         const std::vector<double>& means);

// Gives edited node `node` (a CONV_2D or FULLY_CONNECTED in `m`) a bias of its own equal to its
// current one (0 if it has none) plus `delta`, one value per output channel.
void add_to_bias(quantize::EditModel& m, quantize::EditNode& node,
                 const std::vector<double>& delta);

}  // namespace polyhead::prune
