// polyhead::write_pixels (the core's frame conversion, no OpenCV) against an independent pipeline
// written here with OpenCV, as a user would: cv::cvtColor to the model's colour order, cv::resize
// (INTER_AREA when both axes shrink, else INTER_LINEAR) to the transform's resized size, letterbox
// padding or crop on the model canvas, normalisation in float. On real photos (build/data) and on
// noise, every pixel format, three model sizes, all fits, odd sizes, up- and downscales.
//
// OpenCV rounds to 8 bits after the colour conversion and after the resize, with fixed-point
// weights, where the converter stays in float: values agree within 1 (packed formats; 1.5 for a
// grey model from a colour frame, one rounding more) and 2 (NV21/NV12: OpenCV's fixed-point YUV
// decode adds its own rounding) in 0..255 pixel units. The same pipeline run in float agrees
// within 0.01: the converter computes what INTER_AREA / INTER_LINEAR define, exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "polyhead/pixel_image.h"
#include "support/pixel_formats.h"
#include "support/test_files.h"

using namespace polyhead;

namespace {

constexpr const auto& kAllFormats = testing::kAllPixelFormats;
using testing::is_yuv;

// A frame in `format` made from a BGR picture, rows `pad` bytes longer than the pixels.
struct Frame {
  std::vector<uint8_t> bytes;
  PixelImage image;
  cv::Mat mat;  // the same memory as OpenCV sees it (NV21/NV12: one 8-bit plane of h * 3 / 2 rows)
};

Frame make_frame(const cv::Mat& bgr, PixelFormat format, size_t pad) {
  const int w = bgr.cols, h = bgr.rows;
  const size_t bpp = bytes_per_pixel(format);
  const size_t stride = static_cast<size_t>(w) * bpp + pad;
  const int rows = is_yuv(format) ? h + h / 2 : h;
  Frame f;
  f.bytes.assign(stride * static_cast<size_t>(rows), 0xA5);  // garbage in the padding
  if (is_yuv(format)) {
    // I420 (Y plane, then the U and V planes of w/2 x h/2), chroma interleaved by hand.
    cv::Mat i420;
    cv::cvtColor(bgr, i420, cv::COLOR_BGR2YUV_I420);
    const uint8_t* y = i420.data;
    const uint8_t* u = y + static_cast<size_t>(w) * h;
    const uint8_t* v = u + static_cast<size_t>(w / 2) * (h / 2);
    for (int r = 0; r < h; ++r)
      std::copy(y + static_cast<size_t>(r) * w, y + static_cast<size_t>(r + 1) * w,
                f.bytes.data() + r * stride);
    for (int r = 0; r < h / 2; ++r)
      for (int c = 0; c < w / 2; ++c) {
        uint8_t* p = f.bytes.data() + static_cast<size_t>(h + r) * stride + 2 * c;
        const size_t i = static_cast<size_t>(r) * (w / 2) + c;
        p[0] = format == PixelFormat::kNv21 ? v[i] : u[i];
        p[1] = format == PixelFormat::kNv21 ? u[i] : v[i];
      }
    f.mat = cv::Mat(rows, w, CV_8UC1, f.bytes.data(), stride);
  } else {
    cv::Mat packed;
    switch (format) {
      case PixelFormat::kRgb:
        cv::cvtColor(bgr, packed, cv::COLOR_BGR2RGB);
        break;
      case PixelFormat::kBgr:
        packed = bgr;
        break;
      case PixelFormat::kRgba:
        cv::cvtColor(bgr, packed, cv::COLOR_BGR2RGBA);
        break;
      case PixelFormat::kBgra:
        cv::cvtColor(bgr, packed, cv::COLOR_BGR2BGRA);
        break;
      default:
        cv::cvtColor(bgr, packed, cv::COLOR_BGR2GRAY);
        break;
    }
    f.mat = cv::Mat(h, w, packed.type(), f.bytes.data(), stride);
    packed.copyTo(f.mat);
  }
  f.image = {f.bytes.data(), w, h, stride, format};
  return f;
}

// The frame in the model's colour order: 8 bits per channel, or 32-bit float (`exact`: no rounding
// between the steps; NV21/NV12 decoded by the BT.601 formula here, OpenCV decodes them to 8 bits
// only).
cv::Mat to_model_colour(const Frame& f, ColorOrder model, bool exact) {
  const PixelFormat fmt = f.image.format;
  cv::Mat in = f.mat;
  PixelFormat as = fmt;
  if (exact && is_yuv(fmt)) {
    // BT.601 limited range as OpenCV's COLOR_YUV2RGB_NV21 (Y - 16 clamped at 0), in float.
    const int w = f.image.width, h = f.image.height;
    in.create(h, w, CV_32FC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const uint8_t* uv = f.mat.ptr<uint8_t>(h + y / 2) + (x & ~1);
        const float u = (fmt == PixelFormat::kNv21 ? uv[1] : uv[0]) - 128.f;
        const float v = (fmt == PixelFormat::kNv21 ? uv[0] : uv[1]) - 128.f;
        const float yy = 1.164f * std::max(0.f, f.mat.ptr<uint8_t>(y)[x] - 16.f);
        cv::Vec3f& px = in.at<cv::Vec3f>(y, x);
        px[0] = std::clamp(yy + 1.596f * v, 0.f, 255.f);
        px[1] = std::clamp(yy - 0.813f * v - 0.391f * u, 0.f, 255.f);
        px[2] = std::clamp(yy + 2.018f * u, 0.f, 255.f);
      }
    as = PixelFormat::kRgb;
  } else if (exact) {
    f.mat.convertTo(in, CV_32F);
  }
  cv::Mat out;
  if (model == ColorOrder::kGray) {
    if (as == PixelFormat::kGray) return in;
    if (is_yuv(as)) {
      // Grey of the decoded colours, not COLOR_YUV2GRAY_NV21 (the Y plane as it is: limited
      // range 16..235, a different grey than 0.299 R + 0.587 G + 0.114 B of the picture).
      cv::Mat rgb;
      cv::cvtColor(in, rgb,
                   as == PixelFormat::kNv21 ? cv::COLOR_YUV2RGB_NV21 : cv::COLOR_YUV2RGB_NV12);
      cv::cvtColor(rgb, out, cv::COLOR_RGB2GRAY);
      return out;
    }
    const int code = as == PixelFormat::kRgb    ? cv::COLOR_RGB2GRAY
                     : as == PixelFormat::kBgr  ? cv::COLOR_BGR2GRAY
                     : as == PixelFormat::kRgba ? cv::COLOR_RGBA2GRAY
                                                : cv::COLOR_BGRA2GRAY;
    cv::cvtColor(in, out, code);
    return out;
  }
  const bool rgb = model == ColorOrder::kRgb;
  int code = -1;
  switch (as) {
    case PixelFormat::kRgb:
      code = rgb ? -1 : cv::COLOR_RGB2BGR;
      break;
    case PixelFormat::kBgr:
      code = rgb ? cv::COLOR_BGR2RGB : -1;
      break;
    case PixelFormat::kRgba:
      code = rgb ? cv::COLOR_RGBA2RGB : cv::COLOR_RGBA2BGR;
      break;
    case PixelFormat::kBgra:
      code = rgb ? cv::COLOR_BGRA2RGB : cv::COLOR_BGRA2BGR;
      break;
    case PixelFormat::kGray:
      code = rgb ? cv::COLOR_GRAY2RGB : cv::COLOR_GRAY2BGR;
      break;
    case PixelFormat::kNv21:
      code = rgb ? cv::COLOR_YUV2RGB_NV21 : cv::COLOR_YUV2BGR_NV21;
      break;
    case PixelFormat::kNv12:
      code = rgb ? cv::COLOR_YUV2RGB_NV12 : cv::COLOR_YUV2BGR_NV12;
      break;
  }
  if (code < 0) return in;
  cv::cvtColor(in, out, code);
  return out;
}

// The model input as the OpenCV pipeline computes it, laid out and normalised as `in` declares:
// in 8 bits as users write it, or in float (`exact`).
std::vector<float> opencv_reference(const Frame& f, const InputInfo& in, const ImageTransform& t,
                                    bool exact) {
  const Preprocess& p = in.preprocess;
  const cv::Mat colour = to_model_colour(f, p.color, exact);
  const int rw = t.resized_width(), rh = t.resized_height();
  cv::Mat resized = colour;
  if (rw != colour.cols || rh != colour.rows) {
    const bool shrink = rw <= colour.cols && rh <= colour.rows;
    cv::resize(colour, resized, cv::Size(rw, rh), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  resized.convertTo(resized, CV_32F);
  // Letterbox: the resized picture at the offsets on a black canvas; crop: the part inside it.
  const int mw = t.model_width, mh = t.model_height, ch = resized.channels();
  cv::Mat canvas = cv::Mat::zeros(mh, mw, resized.type());
  const int ox = static_cast<int>(t.offset_x), oy = static_cast<int>(t.offset_y);
  const cv::Rect on_canvas = cv::Rect(ox, oy, rw, rh) & cv::Rect(0, 0, mw, mh);
  resized(on_canvas - cv::Point(ox, oy)).copyTo(canvas(on_canvas));

  std::vector<float> out(static_cast<size_t>(mw) * mh * ch);
  const bool nchw = p.layout == Layout::kNchw;
  for (int y = 0; y < mh; ++y)
    for (int x = 0; x < mw; ++x)
      for (int c = 0; c < ch; ++c) {
        const float pixel = canvas.ptr<float>(y)[x * ch + c];
        const float mean = p.mean.empty() ? 0.f : p.mean[p.mean.size() == 1 ? 0 : c];
        const float sd = p.std.empty() ? 1.f : p.std[p.std.size() == 1 ? 0 : c];
        const size_t i = nchw ? (static_cast<size_t>(c) * mh + y) * mw + x
                              : (static_cast<size_t>(y) * mw + x) * ch + c;
        out[i] = (pixel / 255.f * p.pixel_scale - mean) / sd;
      }
  return out;
}

InputInfo model_input(int w, int h, ColorOrder color, Layout layout, ImageFit fit) {
  InputInfo in;
  in.name = "image";
  const int64_t c = color == ColorOrder::kGray ? 1 : 3;
  in.shape = layout == Layout::kNhwc ? Shape{1, h, w, c} : Shape{1, c, h, w};
  Preprocess& p = in.preprocess;
  p.width = w;
  p.height = h;
  p.color = color;
  p.layout = layout;
  p.fit = fit;
  // Three normalisations: raw pixels, ImageNet's, [-1, 1].
  if (color == ColorOrder::kRgb) {
    p.pixel_scale = 1.f;
    p.mean = {0.485f, 0.456f, 0.406f};
    p.std = {0.229f, 0.224f, 0.225f};
  } else if (color == ColorOrder::kGray) {
    p.pixel_scale = 1.f;
    p.mean = {0.5f};
    p.std = {0.5f};
  }
  return in;
}

// Largest and mean absolute difference in 0..255 pixel units, per kind of conversion.
struct Difference {
  double max = 0, sum = 0;
  size_t count = 0;
  std::string worst;  // the case of the largest difference
};
using Stats = std::map<std::string, Difference>;

// The largest difference of `ours` to `ref` in pixel units, added to `d`.
double difference(const std::vector<float>& ours, const std::vector<float>& ref,
                  const Preprocess& p, const std::string& what, Difference* d) {
  const int channels = p.color == ColorOrder::kGray ? 1 : 3;
  const size_t plane = static_cast<size_t>(p.width) * p.height;
  double max = 0, sum = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const size_t c = p.layout == Layout::kNchw ? i / plane : i % channels;
    const float sd = p.std.empty() ? 1.f : p.std[p.std.size() == 1 ? 0 : c];
    const double pixels = std::fabs(ours[i] - ref[i]) * sd / p.pixel_scale * 255.0;
    max = std::max(max, pixels);
    sum += pixels;
  }
  if (max > d->max) {
    d->max = max;
    d->worst = what;
  }
  d->sum += sum;
  d->count += ours.size();
  return max;
}

void compare(const Frame& frame, const InputInfo& in, const std::string& what, Stats* rounded,
             Stats* exact) {
  std::vector<float> ours(static_cast<size_t>(in.shape.elements()));
  auto t = write_pixels(frame.image, in, ours.data());
  REQUIRE(t.is_ok());
  const PixelFormat format = frame.image.format;
  const bool grey_from_colour =
      in.preprocess.color == ColorOrder::kGray && format != PixelFormat::kGray;
  const std::string kind = std::string(to_string(format)) + (grey_from_colour ? " to GRAY" : "");
  INFO(what);

  // OpenCV in 8 bits, as users write it. It rounds to 8 bits after cvtColor and after each resize
  // pass (fixed-point weights): its INTER_LINEAR alone differs from exact bilinear by up to 0.8
  // here (GRAY frames into GRAY models), the YUV decode adds a fixed-point rounding, and a grey
  // model from a colour frame adds cvtColor's rounding to grey before that (measured up to 1.23):
  // so 1.5 there, 1 for other packed formats, 2 for NV21/NV12. The float pipeline below shows
  // that the converter itself computes the same values.
  const std::vector<float> ref = opencv_reference(frame, in, *t, false);
  REQUIRE(ref.size() == ours.size());
  const double max = difference(ours, ref, in.preprocess, what, &(*rounded)[kind]);
  const double bound = is_yuv(format) ? 2.0 : grey_from_colour ? 1.5 : 1.0;
  INFO("8-bit OpenCV pipeline: max difference " << max << " (0..255)");
  CHECK(max <= bound);

  // The same pipeline in float (cvtColor and cv::resize on CV_32F; NV21/NV12 decoded by the
  // formula): no rounding, so only float arithmetic and OpenCV's INTER_AREA, which skips box
  // coverage below 1e-3 of a pixel, remain.
  const std::vector<float> ref_float = opencv_reference(frame, in, *t, true);
  const double max_float = difference(ours, ref_float, in.preprocess, what, &(*exact)[kind]);
  INFO("float OpenCV pipeline: max difference " << max_float << " (0..255)");
  CHECK(max_float <= 0.01);
}

struct ModelSize {
  int w, h;
  ColorOrder color;
  Layout layout;
};
const std::vector<ModelSize> kModels = {{128, 128, ColorOrder::kRgb, Layout::kNhwc},
                                        {256, 256, ColorOrder::kBgr, Layout::kNchw},
                                        {224, 160, ColorOrder::kGray, Layout::kNhwc},
                                        {224, 160, ColorOrder::kRgb, Layout::kNchw}};

// Every pixel format of `bgr` into each of `models` with every fit.
void compare_all(const cv::Mat& bgr, const std::string& name, Stats* rounded, Stats* exact,
                 const std::vector<ModelSize>& models = kModels) {
  for (PixelFormat format : kAllFormats) {
    if (is_yuv(format) && (bgr.cols % 2 || bgr.rows % 2)) continue;
    // Every other format with padded rows, so strides are compared too.
    const size_t pad = static_cast<size_t>(format) % 2 ? 7 : 0;
    const Frame frame = make_frame(bgr, format, pad);
    for (const ModelSize& m : models)
      for (ImageFit fit : {ImageFit::kStretch, ImageFit::kLetterbox, ImageFit::kCrop}) {
        std::ostringstream what;
        what << name << " " << bgr.cols << "x" << bgr.rows << " " << to_string(format) << " -> "
             << m.w << "x" << m.h << " " << to_string(m.color) << " " << to_string(m.layout) << " "
             << to_string(fit);
        compare(frame, model_input(m.w, m.h, m.color, m.layout, fit), what.str(), rounded, exact);
      }
  }
}

// Frame sizes: odd, upscales (smaller than every model), downscales, one axis up and one down
// (300x100 into 224x160, 100x300 into 128x128), a model's own size.
const cv::Size kSizes[] = {{640, 480}, {641, 479}, {1280, 720}, {97, 61},   {64, 48},
                           {300, 100}, {100, 300}, {128, 128},  {224, 160}, {333, 251}};

void report(const Stats& rounded, const Stats& exact) {
  std::ostringstream s;
  s << "difference to OpenCV in 0..255 pixel units (max, mean), per frame format:";
  for (const auto& [kind, d] : rounded) {
    const Difference& f = exact.at(kind);
    s << "\n  " << kind << ": 8-bit pipeline " << d.max << ", " << d.sum / d.count
      << "; float pipeline " << f.max << ", " << f.sum / f.count << "; worst: " << d.worst;
  }
  WARN(s.str());
}

}  // namespace

TEST_CASE("write_pixels agrees with OpenCV on photos of every pixel format", "[needs-data]") {
  Stats rounded, exact;
  // Two photos as they are (1920 wide: large shrinks; two models only, the conversions of such
  // frames are the slowest part), the first also resized to each frame size.
  for (const char* name : {"sample1.jpg", "sample4.jpg"}) {
    const std::string path = (std::filesystem::path(testing::data_dir()) / name).string();
    if (!std::filesystem::exists(path)) FAIL("missing " << path << ": run scripts/fetch_data.sh");
    const cv::Mat photo = cv::imread(path, cv::IMREAD_COLOR);
    REQUIRE_FALSE(photo.empty());
    compare_all(photo, name, &rounded, &exact, {kModels[0], kModels[2]});
    if (name != std::string("sample1.jpg")) continue;
    for (const cv::Size& size : kSizes) {
      cv::Mat frame;
      cv::resize(photo, frame, size, 0, 0, cv::INTER_AREA);
      compare_all(frame, name, &rounded, &exact);
    }
  }
  report(rounded, exact);
}

TEST_CASE("write_pixels agrees with OpenCV on noise of every pixel format") {
  Stats rounded, exact;
  cv::RNG rng(19);
  for (const cv::Size& size : kSizes) {
    if (size.width > 1000) continue;  // the large frame on photos only (time)
    cv::Mat noise(size, CV_8UC3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
    compare_all(noise, "noise", &rounded, &exact);
  }
  report(rounded, exact);
}
