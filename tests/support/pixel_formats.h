// Every PixelFormat, for tests that run each one (header-only).
#pragma once

#include "polyhead/pixel_image.h"

namespace polyhead::testing {

constexpr PixelFormat kAllPixelFormats[] = {PixelFormat::kRgb,  PixelFormat::kBgr,
                                            PixelFormat::kRgba, PixelFormat::kBgra,
                                            PixelFormat::kGray, PixelFormat::kNv21,
                                            PixelFormat::kNv12};

inline bool is_yuv(PixelFormat f) {
  return f == PixelFormat::kNv21 || f == PixelFormat::kNv12;
}

}  // namespace polyhead::testing
