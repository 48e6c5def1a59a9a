// Camera frames and decoded photos as 8-bit pixels, and how they become a model's float input
// without OpenCV: resized to the input's declared size and fit, converted to its colour order,
// normalised and written in its layout (see Plan::set_input_pixels for the allocation-free path).
//
//   polyhead::PixelImage frame{rgba, width, height, /*stride=*/width * 4,
//   polyhead::PixelFormat::kRgba}; auto t = plan.set_input_pixels("image", frame);    // then
//   t->to_image(x, y) for results
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "polyhead/image_transform.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead {

// The memory layout of a frame's pixels, one byte per channel.
//   kRgb, kBgr: 3 bytes per pixel; kRgba, kBgra: 4 (alpha ignored); kGray: 1.
//   kNv21, kNv12: YUV 4:2:0 (Android camera, video decoders): a full-resolution Y plane of
//   `height` rows, followed directly by a half-resolution plane of interleaved chroma pairs (V,U
//   for NV21, U,V for NV12) of height / 2 rows, both rows `stride` bytes apart; width and height
//   must be even. Converted with the BT.601 limited-range matrix, as OpenCV's COLOR_YUV2RGB_NV21.
enum class PixelFormat { kRgb, kBgr, kRgba, kBgra, kGray, kNv21, kNv12 };

// "RGB", "BGR", "RGBA", "BGRA", "GRAY", "NV21", "NV12".
const char* to_string(PixelFormat format);
Result<PixelFormat> parse_pixel_format(std::string_view name);
// Bytes per pixel of the packed formats; 1 for NV21/NV12 (the Y plane).
size_t bytes_per_pixel(PixelFormat format);

// A caller's frame, read only. `stride` is the distance in bytes between rows (0 = packed:
// width * bytes_per_pixel). `bytes`, when not 0, is how many bytes are readable at `data`: a
// frame that would need more is refused instead of read past its end (recommended whenever the
// frame comes from elsewhere; 0 trusts width, height and stride).
struct PixelImage {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  size_t stride = 0;
  PixelFormat format = PixelFormat::kRgb;
  size_t bytes = 0;
};

// The bytes a frame of this size, stride and format reads (the last row need not be padded).
size_t frame_bytes(int width, int height, size_t stride, PixelFormat format);

// Writes `input`'s tensor (f32, the element count of its shape) into `dst` from `image`: resized
// per the declared fit (area averaging when both axes shrink, else bilinear with replicated edges,
// like OpenCV's INTER_AREA / INTER_LINEAR), letterbox padding black, the declared colour order
// (grey from colour as 0.299 R + 0.587 G + 0.114 B) and layout, value = (p / 255 * pixel_scale -
// mean[c]) / std[c]. Allocates a few rows of scratch per call; Plan::set_input_pixels does not.
Result<ImageTransform> write_pixels(const PixelImage& image, const InputInfo& input, float* dst);

}  // namespace polyhead
