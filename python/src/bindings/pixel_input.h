// A camera frame or decoded photo given as a NumPy uint8 array, read as a PixelImage in place.
#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "arrays.h"
#include "polyhead/pixel_image.h"

namespace polyhead::python {

namespace nb = nanobind;

// The frame `frame` (uint8; (height, width, 3|4) for RGB/BGR/RGBA/BGRA, (height, width) or
// (height, width, 1) for GRAY, (height * 3 / 2, width) for NV21/NV12) in pixel format `format`,
// for input `input` (named in messages). Rows may be any distance apart (a crop of a larger frame
// is read in place) but each row's pixels must be packed; other arrays are copied first, into
// `keep`, which must outlive the returned image.
PixelImage frame_pixels(nb::handle frame, const std::string& format, const std::string& input,
                        nb::object& keep);

}  // namespace polyhead::python
