#include "polyhead/pixel_image.h"

#include <iterator>

#include "enum_names.h"
#include "pixel_converter.h"

namespace polyhead {
namespace {

// In enumerator order, so that a value indexes its name.
constexpr const char* kPixelFormatNames[] = {"RGB", "BGR", "RGBA", "BGRA", "GRAY", "NV21", "NV12"};
static_assert(std::size(kPixelFormatNames) == static_cast<size_t>(PixelFormat::kNv12) + 1);

}  // namespace

const char* to_string(PixelFormat format) {
  return detail::name_of(format, kPixelFormatNames);
}

Result<PixelFormat> parse_pixel_format(std::string_view name) {
  return detail::parse<PixelFormat>(name, kPixelFormatNames, "pixel format");
}

size_t bytes_per_pixel(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb:
    case PixelFormat::kBgr:
      return 3;
    case PixelFormat::kRgba:
    case PixelFormat::kBgra:
      return 4;
    case PixelFormat::kGray:
    case PixelFormat::kNv21:
    case PixelFormat::kNv12:
      return 1;
  }
  return 0;
}

size_t frame_bytes(int width, int height, size_t stride, PixelFormat format) {
  if (width <= 0 || height <= 0) return 0;
  const size_t packed = static_cast<size_t>(width) * bytes_per_pixel(format);
  if (stride == 0) stride = packed;
  const bool yuv = format == PixelFormat::kNv21 || format == PixelFormat::kNv12;
  const size_t rows = static_cast<size_t>(height) + (yuv ? static_cast<size_t>(height + 1) / 2 : 0);
  return stride * (rows - 1) + packed;
}

Result<ImageTransform> write_pixels(const PixelImage& image, const InputInfo& input, float* dst) {
  PH_ASSIGN_OR_RETURN(detail::PixelConverter converter, detail::PixelConverter::create(input));
  return converter.convert(image, dst);
}

}  // namespace polyhead
