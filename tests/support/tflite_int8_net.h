// A small full-integer int8 TFLite network for the importer's tests, written with TfliteWriter:
// float input -> QUANTIZE -> CONV_2D (per channel, ReLU) -> DEPTHWISE_CONV_2D (ReLU6) -> ADD ->
// MAX_POOL_2D -> AVERAGE_POOL_2D -> CONCATENATION -> MEAN -> FULLY_CONNECTED -> LOGISTIC, and
// SOFTMAX -> DEQUANTIZE -> float output. Every intermediate is a model output too, so each layer
// can be checked on its own. Weights, biases and parameters are public for the references.
#pragma once

#include <cstdint>
#include <vector>

namespace polyhead::testing {

struct Int8Net {
  // Quantization of each activation: scale, zero point.
  static constexpr float kInScale = 2.f / 255, kConvScale = 0.03f, kDwScale = 0.025f,
                         kSumScale = 0.04f, kGapScale = 0.03f, kFcScale = 0.05f,
                         kSigScale = 1.f / 256, kProbScale = 1.f / 256;
  static constexpr int kInZp = -1, kConvZp = -128, kDwZp = -128, kSumZp = -100, kGapZp = -20,
                       kFcZp = 3, kSigZp = -128, kProbZp = -128;
  // The average-pooling branch and the concatenation (see same_concat_params).
  float avg_scale = 0.035f, cat_scale = 0.045f;
  int avg_zp = -90, cat_zp = -100;
  static constexpr int H = 6, W = 6, C = 3, O = 4, K = 5;

  std::vector<float> conv_ws, dw_ws, fc_ws;
  std::vector<int8_t> conv_w, dw_w, fc_w;
  std::vector<int32_t> conv_b, dw_b, fc_b;
  std::vector<uint8_t> tflite;

  // dequantize_taps: every intermediate gets a TFLite DEQUANTIZE and the model outputs are all
  // float (LiteRT.js reads float outputs only); otherwise the int8 intermediates themselves are
  // model outputs. same_concat_params: the average-pooling branch and the concatenation take the
  // pooled tensor's parameters (LiteRT.js's fallback for a CONCATENATION that XNNPACK cannot
  // take, one that requantizes its inputs, returns zeros).
  explicit Int8Net(bool dequantize_taps = false, bool same_concat_params = false);
};

}  // namespace polyhead::testing
