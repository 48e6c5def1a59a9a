// The mean of every channel of every float activation over calibration photos (each fed through
// the model's declared pre-processing, as quantize::calibrate feeds them): what a removed input
// channel or weight would on average have added, for the bias correction (bias_correction.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::prune {

// Per tensor, per channel (last dimension) means; empty for constants and model inputs.
using ChannelMeans = std::vector<std::vector<double>>;

// Runs `g`'s model (which must be `model`) on `images`. Errors name the image.
Result<ChannelMeans> measure_channel_means(const Model& model, const merge::SourceGraph& g,
                                           const std::vector<std::string>& images, size_t threads);

}  // namespace polyhead::prune
