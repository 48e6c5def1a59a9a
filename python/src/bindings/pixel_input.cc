#include "pixel_input.h"

#include <climits>

#include "errors.h"

namespace polyhead::python {

namespace {

bool is_yuv(PixelFormat f) {
  return f == PixelFormat::kNv21 || f == PixelFormat::kNv12;
}

// The array shape a format takes, for messages.
std::string expected_shape(PixelFormat f) {
  switch (f) {
    case PixelFormat::kRgb:
    case PixelFormat::kBgr:
      return "(height, width, 3)";
    case PixelFormat::kRgba:
    case PixelFormat::kBgra:
      return "(height, width, 4)";
    case PixelFormat::kGray:
      return "(height, width) or (height, width, 1)";
    case PixelFormat::kNv21:
    case PixelFormat::kNv12:
      return "(height * 3 / 2, width): the Y plane, then the interleaved chroma rows";
  }
  return "?";
}

bool has_format_shape(const InArray& a, PixelFormat f) {
  if (is_yuv(f)) return a.ndim() == 2 && a.shape(0) % 3 == 0;
  if (f == PixelFormat::kGray) return a.ndim() == 2 || (a.ndim() == 3 && a.shape(2) == 1);
  return a.ndim() == 3 && a.shape(2) == bytes_per_pixel(f);
}

// Whether each row's bytes are packed and rows follow each other downwards (strides in bytes).
bool rows_packed(const InArray& a) {
  const size_t channels = a.ndim() == 3 ? a.shape(2) : 1;
  if (a.ndim() == 3 && channels > 1 && a.stride(2) != 1) return false;
  if (a.shape(1) > 1 && a.stride(1) != static_cast<int64_t>(channels)) return false;
  return a.shape(0) <= 1 || a.stride(0) >= static_cast<int64_t>(a.shape(1) * channels);
}

}  // namespace

PixelImage frame_pixels(nb::handle frame, const std::string& format, const std::string& input,
                        nb::object& keep) {
  const std::string where = "set_input_pixels('" + input + "'): ";
  InArray a;
  if (!nb::try_cast(frame, a, /*convert=*/false))
    throw nb::type_error((where + "the frame must be a NumPy uint8 array, got a " +
                          std::string(nb::type_name(frame.type()).c_str()))
                             .c_str());
  if (a.dtype() != nb::dtype<uint8_t>())
    raise_invalid_argument(where + "the frame must be a uint8 array, got " + dtype_name(a.dtype()));
  const Result<PixelFormat> parsed = parse_pixel_format(format);
  if (!parsed.is_ok()) raise(Status(parsed.status().code(), where + parsed.status().message()));
  const PixelFormat f = *parsed;
  if (!has_format_shape(a, f))
    raise_invalid_argument(where + "format " + format + " takes a uint8 array of shape " +
                           expected_shape(f) + ", got " + shape_text(a));
  if (a.shape(0) == 0 || a.shape(1) == 0)
    raise_invalid_argument(where + "the frame is empty: shape " + shape_text(a));
  if (!rows_packed(a)) {
    keep = nb::module_::import_("numpy").attr("ascontiguousarray")(frame);
    a = nb::cast<InArray>(keep, /*convert=*/false);
  }
  const size_t rows = is_yuv(f) ? a.shape(0) / 3 * 2 : a.shape(0);
  if (a.shape(1) > static_cast<size_t>(INT_MAX) || rows > static_cast<size_t>(INT_MAX))
    raise_invalid_argument(where + "the frame is too large: shape " + shape_text(a));
  PixelImage image;
  image.data = static_cast<const uint8_t*>(a.data());
  image.width = static_cast<int>(a.shape(1));
  image.height = static_cast<int>(rows);
  image.format = f;
  const size_t packed = a.shape(1) * bytes_per_pixel(f);
  image.stride = a.shape(0) > 1 ? static_cast<size_t>(a.stride(0)) : packed;
  image.bytes = frame_bytes(image.width, image.height, image.stride, f);
  return image;
}

}  // namespace polyhead::python
