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

Result<ImageTransform> write_pixels(const PixelImage& image, const InputInfo& input, float* dst) {
  PH_ASSIGN_OR_RETURN(detail::PixelConverter converter, detail::PixelConverter::create(input));
  return converter.convert(image, dst);
}

}  // namespace polyhead
