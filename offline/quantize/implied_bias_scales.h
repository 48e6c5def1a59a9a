// `--bias-scales implied` of `polyhead quantize`: the int32 bias of an int8 convolution or fully
// connected layer stores no quantization when its scales are exactly what the kernels require
// anyway, input scale x weight scale per output channel (docs/int8.md). Those scales are one
// float per output channel, as many as the weight scales: 2-6 % of an int8 MediaPipe model.
//
// A file with such a bias is format 1.7 (docs/format.md): a 1.6 reader loads it and refuses it at
// prepare ("i32 bias without quantization parameters", naming the node), never misreads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "offline/quantize/model_writer.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

// What --bias-scales takes: stored (the default) or implied.
enum class BiasScales { kStored, kImplied };

// "stored" or "implied"; anything else fails (kInvalidArgument) naming `option` and the value.
Result<BiasScales> parse_bias_scales(const std::string& option, const std::string& text);

// Drops the quantization of every I32 constant that only int8 CONV_2D / FULLY_CONNECTED nodes read
// as their bias, with zero points 0 and scales matching input scale x weight scale (to the 1e-4
// the kernels allow) for every such reader. Returns how many biases lost their scales.
size_t drop_implied_bias_scales(EditModel& m);

// The same on a whole .phm file (as `polyhead quantize` writes it: defaults kept).
Result<std::vector<uint8_t>> drop_implied_bias_scales_in_file(const std::vector<uint8_t>& phm,
                                                              size_t* dropped = nullptr);

}  // namespace polyhead::quantize
