#include "pixel_converter.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace polyhead::detail {
namespace {

// One source row: its pixels and, for NV21/NV12, the chroma row it shares with its pair.
struct SourceRow {
  const uint8_t* pixels;
  const uint8_t* chroma;
};

// BT.601 limited range (the matrix of OpenCV's COLOR_YUV2RGB_NV21), clamped to 0..255 per pixel
// before any averaging, as a decoder would. Like OpenCV, luma below the range's black (16) counts
// as black: without that, a frame whose Y dips under 16 would decode darker than OpenCV decodes it.
// Each term of the matrix comes from a table of its 256 values, so a pixel costs three adds and
// three clamps.
struct YuvTables {
  float y[256], rv[256], gv[256], gu[256], bu[256];
};

constexpr YuvTables make_yuv_tables() {
  YuvTables t{};
  for (int i = 0; i < 256; ++i) {
    t.y[i] = 1.164f * static_cast<float>(i > 16 ? i - 16 : 0);
    const float c = static_cast<float>(i - 128);
    t.rv[i] = 1.596f * c;
    t.gv[i] = -0.813f * c;
    t.gu[i] = -0.391f * c;
    t.bu[i] = 2.018f * c;
  }
  return t;
}

constexpr YuvTables kYuv = make_yuv_tables();

inline void yuv_to_rgb(uint8_t y, uint8_t u, uint8_t v, float* rgb) {
  const float yy = kYuv.y[y];
  rgb[0] = std::clamp(yy + kYuv.rv[v], 0.f, 255.f);
  rgb[1] = std::clamp(yy + (kYuv.gv[v] + kYuv.gu[u]), 0.f, 255.f);
  rgb[2] = std::clamp(yy + kYuv.bu[u], 0.f, 255.f);
}

// Reads pixel x of a row as floats in RGB order (kChannels 3) or as grey (kChannels 1).
template <PixelFormat F>
struct Reader {
  static constexpr int kChannels = F == PixelFormat::kGray ? 1 : 3;
  static void read(const SourceRow& r, int x, float* out) {
    if constexpr (F == PixelFormat::kGray) {
      out[0] = r.pixels[x];
    } else if constexpr (F == PixelFormat::kRgb || F == PixelFormat::kRgba) {
      const uint8_t* p = r.pixels + x * (F == PixelFormat::kRgb ? 3 : 4);
      out[0] = p[0];
      out[1] = p[1];
      out[2] = p[2];
    } else if constexpr (F == PixelFormat::kBgr || F == PixelFormat::kBgra) {
      const uint8_t* p = r.pixels + x * (F == PixelFormat::kBgr ? 3 : 4);
      out[0] = p[2];
      out[1] = p[1];
      out[2] = p[0];
    } else {
      const uint8_t* c = r.chroma + (x & ~1);
      const bool vu = F == PixelFormat::kNv21;
      yuv_to_rgb(r.pixels[x], vu ? c[1] : c[0], vu ? c[0] : c[1], out);
    }
  }
  // Adds pixel x's channels, RGB order, to `sum` (the 8-bit formats only).
  static void add_bytes(const SourceRow& r, int x, uint32_t* sum) {
    if constexpr (F == PixelFormat::kGray) {
      sum[0] += r.pixels[x];
    } else if constexpr (F == PixelFormat::kRgb || F == PixelFormat::kRgba) {
      const uint8_t* p = r.pixels + x * (F == PixelFormat::kRgb ? 3 : 4);
      sum[0] += p[0];
      sum[1] += p[1];
      sum[2] += p[2];
    } else if constexpr (F == PixelFormat::kBgr || F == PixelFormat::kBgra) {
      const uint8_t* p = r.pixels + x * (F == PixelFormat::kBgr ? 3 : 4);
      sum[0] += p[2];
      sum[1] += p[1];
      sum[2] += p[0];
    }
  }
};

// How the resized image samples the source along one axis: area averaging (shrinking) or
// bilinear with replicated edges (enlarging), as OpenCV's INTER_AREA / INTER_LINEAR define them.
struct Axis {
  int source = 0;     // source pixels along the axis
  double step = 1.0;  // source pixels per resized pixel
  bool area = false;

  Span span(int r) const {
    Span s;
    if (area) {
      const double f1 = r * step;
      const double f2 = std::min(f1 + step, static_cast<double>(source));
      s.first = static_cast<int>(f1);
      s.last = std::max(s.first, std::min(source, static_cast<int>(std::ceil(f2))) - 1);
      s.w_first = static_cast<float>(std::min<double>(s.first + 1, f2) - f1);
      s.w_last = static_cast<float>(f2 - s.last);
      s.scale = static_cast<float>(1.0 / (f2 - f1));
      return s;
    }
    const float f = static_cast<float>((r + 0.5) * step - 0.5);
    const float fl = std::floor(f);
    const float a = f - fl;
    const int k = static_cast<int>(fl);
    s.first = std::clamp(k, 0, source - 1);
    s.last = std::clamp(k + 1, 0, source - 1);
    if (s.first == s.last) return s;
    s.w_first = 1.f - a;
    s.w_last = a;
    return s;
  }
};

// Everything one conversion needs, fixed per frame.
struct Job {
  const PixelImage* image;
  size_t stride;
  const Span* columns;  // one per resized column on the canvas, from rx0
  int count;            // columns
};

// One source row resampled along x into `out` (count pixels of C floats). The inner run of an
// area span is a plain sum, in integers for the 8-bit formats, whose channels are linear in the
// bytes.
template <PixelFormat F>
void resample_row(const Job& job, int source_y, float* out) {
  constexpr int C = Reader<F>::kChannels;
  constexpr bool kYuv = F == PixelFormat::kNv21 || F == PixelFormat::kNv12;
  const uint8_t* base = job.image->data;
  SourceRow row{base + static_cast<size_t>(source_y) * job.stride, nullptr};
  if constexpr (kYuv)
    row.chroma = base + job.stride * static_cast<size_t>(job.image->height) +
                 static_cast<size_t>(source_y / 2) * job.stride;
  for (int i = 0; i < job.count; ++i) {
    const Span& s = job.columns[i];
    float acc[C];
    float px[C];
    Reader<F>::read(row, s.first, px);
    for (int c = 0; c < C; ++c) acc[c] = s.w_first * px[c];
    if (s.last > s.first) {
      if constexpr (kYuv) {
        for (int k = s.first + 1; k < s.last; ++k) {
          Reader<F>::read(row, k, px);
          for (int c = 0; c < C; ++c) acc[c] += px[c];
        }
      } else {
        uint32_t sum[C] = {};
        for (int k = s.first + 1; k < s.last; ++k) Reader<F>::add_bytes(row, k, sum);
        for (int c = 0; c < C; ++c) acc[c] += static_cast<float>(sum[c]);
      }
      Reader<F>::read(row, s.last, px);
      for (int c = 0; c < C; ++c) acc[c] += s.w_last * px[c];
    }
    for (int c = 0; c < C; ++c) out[i * C + c] = acc[c] * s.scale;
  }
}

using RowFunction = void (*)(const Job&, int, float*);

RowFunction row_function(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb:
      return resample_row<PixelFormat::kRgb>;
    case PixelFormat::kBgr:
      return resample_row<PixelFormat::kBgr>;
    case PixelFormat::kRgba:
      return resample_row<PixelFormat::kRgba>;
    case PixelFormat::kBgra:
      return resample_row<PixelFormat::kBgra>;
    case PixelFormat::kGray:
      return resample_row<PixelFormat::kGray>;
    case PixelFormat::kNv21:
      return resample_row<PixelFormat::kNv21>;
    case PixelFormat::kNv12:
      return resample_row<PixelFormat::kNv12>;
  }
  return nullptr;
}

Status bad_frame(const InputInfo& in, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "input '" + in.name + "': frame " + what);
}

// The frame's row stride, or why the frame cannot be read.
Result<size_t> checked_stride(const PixelImage& im, const InputInfo& in) {
  if (static_cast<int>(im.format) < 0 ||
      static_cast<int>(im.format) > static_cast<int>(PixelFormat::kNv12))
    return bad_frame(in, "has unknown pixel format " + std::to_string(static_cast<int>(im.format)));
  if (!im.data) return bad_frame(in, "data is null");
  if (im.width <= 0 || im.height <= 0 || im.width > kMaxImageSide || im.height > kMaxImageSide)
    return bad_frame(in, "size " + std::to_string(im.width) + "x" + std::to_string(im.height) +
                             " is outside 1.." + std::to_string(kMaxImageSide));
  const bool yuv = im.format == PixelFormat::kNv21 || im.format == PixelFormat::kNv12;
  if (yuv && (im.width % 2 != 0 || im.height % 2 != 0))
    return bad_frame(in, std::string(to_string(im.format)) +
                             " needs an even width and height, found " + std::to_string(im.width) +
                             "x" + std::to_string(im.height));
  const size_t packed = static_cast<size_t>(im.width) * bytes_per_pixel(im.format);
  const size_t stride = im.stride == 0 ? packed : im.stride;
  if (stride < packed)
    return bad_frame(in, "stride " + std::to_string(stride) +
                             " is below width * bytes per pixel = " + std::to_string(packed) +
                             " (" + to_string(im.format) + ")");
  // Sides are at most 2^15; a stride that large would overflow the frame's size.
  const size_t rows =
      static_cast<size_t>(im.height) + (yuv ? static_cast<size_t>(im.height / 2) : 0);
  if (stride > SIZE_MAX / rows)
    return bad_frame(in, "stride " + std::to_string(stride) + " is too large");
  const size_t needed = frame_bytes(im.width, im.height, stride, im.format);
  if (im.bytes != 0 && im.bytes < needed)
    return bad_frame(in, "of " + std::to_string(im.width) + "x" + std::to_string(im.height) + " " +
                             to_string(im.format) + " at stride " + std::to_string(stride) +
                             " needs " + std::to_string(needed) + " bytes, the buffer has " +
                             std::to_string(im.bytes));
  return stride;
}

}  // namespace

PixelConverter::PixelConverter(const InputInfo& input, const ImageGeometry& geometry)
    : input_(&input),
      geometry_(geometry),
      rows_(static_cast<size_t>(geometry.width) * 3 * 3),
      columns_(static_cast<size_t>(geometry.width)) {}

Result<PixelConverter> PixelConverter::create(const InputInfo& input) {
  PH_ASSIGN_OR_RETURN(const ImageGeometry g, image_geometry(input));
  return PixelConverter(input, g);
}

Result<ImageTransform> PixelConverter::convert(const PixelImage& image, float* dst) {
  const InputInfo& in = *input_;
  if (!dst) return Status(ErrorCode::kInvalidArgument, "input '" + in.name + "': null destination");
  PH_ASSIGN_OR_RETURN(const size_t stride, checked_stride(image, in));
  PH_ASSIGN_OR_RETURN(const ImageTransform t,
                      image_transform(image.width, image.height, in, geometry_));
  const ImageGeometry& g = geometry_;
  const int rw = t.resized_width(), rh = t.resized_height();
  const int ox = static_cast<int>(t.offset_x), oy = static_cast<int>(t.offset_y);

  const bool area = rw <= image.width && rh <= image.height;
  const Axis ax{image.width, static_cast<double>(image.width) / rw, area};
  const Axis ay{image.height, static_cast<double>(image.height) / rh, area};
  // The part of the resized image on the canvas: canvas x = resized x + ox.
  const int rx0 = std::max(0, -ox), rx1 = std::min(rw, g.width - ox);
  const int ry0 = std::max(0, -oy), ry1 = std::min(rh, g.height - oy);
  for (int rx = rx0; rx < rx1; ++rx) columns_[static_cast<size_t>(rx - rx0)] = ax.span(rx);
  Job job{&image, stride, columns_.data(), rx1 - rx0};

  const RowFunction resample = row_function(image.format);
  const int sc = image.format == PixelFormat::kGray ? 1 : 3;  // channels of a resampled row
  const size_t row_floats = static_cast<size_t>(g.width) * 3;
  float* cached[2] = {rows_.data(), rows_.data() + row_floats};
  int cached_row[2] = {-1, -1};
  int newest = 0;
  float* acc = rows_.data() + 2 * row_floats;
  const int n = job.count;

  const size_t plane = static_cast<size_t>(g.width) * g.height;
  const bool colour = g.channels == 3;
  const bool bgr = in.preprocess.color == ColorOrder::kBgr;
  auto store = [&](int x, int y, const float* v) {
    const size_t pix = static_cast<size_t>(y) * g.width + x;
    for (int c = 0; c < g.channels; ++c) {
      const float value = v[c] * g.mul[c] + g.add[c];
      if (g.nchw)
        dst[c * plane + pix] = value;
      else
        dst[pix * g.channels + c] = value;
    }
  };
  const float black[3] = {0.f, 0.f, 0.f};

  for (int y = 0; y < g.height; ++y) {
    const int ry = y - oy;
    if (ry < ry0 || ry >= ry1 || n <= 0) {
      for (int x = 0; x < g.width; ++x) store(x, y, black);
      continue;
    }
    std::fill(acc, acc + static_cast<size_t>(n) * sc, 0.f);
    const Span rows = ay.span(ry);
    for (int k = rows.first; k <= rows.last; ++k) {
      const float w = rows.scale * (k == rows.first  ? rows.w_first
                                    : k == rows.last ? rows.w_last
                                                     : 1.f);
      if (w == 0.f) continue;
      int slot = cached_row[0] == k ? 0 : cached_row[1] == k ? 1 : -1;
      if (slot < 0) {
        slot = 1 - newest;
        resample(job, k, cached[slot]);
        cached_row[slot] = k;
      }
      newest = slot;
      const float* src = cached[slot];
      for (int i = 0; i < n * sc; ++i) acc[i] += w * src[i];
    }
    for (int x = 0; x < g.width; ++x) {
      const int rx = x - ox;
      if (rx < rx0 || rx >= rx1) {
        store(x, y, black);
        continue;
      }
      const float* p = acc + static_cast<size_t>(rx - rx0) * sc;
      float v[3];
      if (colour) {
        const float r = p[0], gr = sc == 3 ? p[1] : p[0], b = sc == 3 ? p[2] : p[0];
        v[0] = bgr ? b : r;
        v[1] = gr;
        v[2] = bgr ? r : b;
      } else {
        v[0] = sc == 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : p[0];
      }
      store(x, y, v);
    }
  }
  return t;
}

}  // namespace polyhead::detail
