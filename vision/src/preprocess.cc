#include "polyhead/vision/preprocess.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace polyhead::vision {
namespace {

Status bad_input(const InputInfo& in, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "input '" + in.name + "': " + what);
}

// An enum value outside its enumerators (a hand-made InputInfo with a cast value).
template <typename Enum>
bool out_of_range(Enum value, Enum last) {
  return static_cast<int>(value) < 0 || static_cast<int>(value) > static_cast<int>(last);
}

struct Geometry {
  int width = 0, height = 0, channels = 0;
  bool nchw = false;
};

Result<Geometry> geometry(const InputInfo& in) {
  const Preprocess& p = in.preprocess;
  if (p.color == ColorOrder::kNone)
    return bad_input(in, "is not an image (colour order NONE); feed it raw values instead");
  if (out_of_range(p.color, ColorOrder::kNone))
    return bad_input(in, "unknown colour order " + std::to_string(static_cast<int>(p.color)));
  if (out_of_range(p.layout, Layout::kNchw))
    return bad_input(in, "unknown layout " + std::to_string(static_cast<int>(p.layout)));
  if (in.type != ElementType::kF32)
    return bad_input(in, std::string("element type ") + element_type_name(in.type) +
                             " is not supported by image pre-processing (f32 only)");
  if (in.shape.rank() != 4 || in.shape[0] != 1)
    return bad_input(
        in, "shape " + in.shape.to_string() + " is not a single image [1,H,W,C] / " + "[1,C,H,W]");
  Geometry g;
  g.nchw = p.layout == Layout::kNchw;
  const int64_t h = g.nchw ? in.shape[2] : in.shape[1];
  const int64_t w = g.nchw ? in.shape[3] : in.shape[2];
  const int64_t c = g.nchw ? in.shape[1] : in.shape[3];
  if ((p.width != 0 && p.width != w) || (p.height != 0 && p.height != h))
    return bad_input(in, "pre-processing size " + std::to_string(p.width) + "x" +
                             std::to_string(p.height) + " does not match shape " +
                             in.shape.to_string() + " (" + to_string(p.layout) + ")");
  const int64_t want = p.color == ColorOrder::kGray ? 1 : 3;
  if (c != want)
    return bad_input(in, std::string("colour order ") + to_string(p.color) + " needs " +
                             std::to_string(want) + " channel(s), shape " + in.shape.to_string() +
                             " has " + std::to_string(c));
  for (const auto* v : {&p.mean, &p.std})
    if (!v->empty() && v->size() != 1 && static_cast<int64_t>(v->size()) != c)
      return bad_input(in, "mean/std need 1 or " + std::to_string(c) + " values");
  for (float s : p.std)
    if (s == 0.f) return bad_input(in, "std of 0");
  g.width = static_cast<int>(w);
  g.height = static_cast<int>(h);
  g.channels = static_cast<int>(c);
  return g;
}

Result<ImageTransform> transform_for(int iw, int ih, const InputInfo& in, const Geometry& g) {
  if (iw <= 0 || ih <= 0)
    return Status(ErrorCode::kInvalidArgument,
                  "empty image (" + std::to_string(iw) + "x" + std::to_string(ih) + ")");
  ImageTransform t;
  t.image_width = iw;
  t.image_height = ih;
  t.model_width = g.width;
  t.model_height = g.height;
  const ImageFit fit = in.preprocess.fit;
  if (fit == ImageFit::kStretch) {
    t.scale_x = static_cast<float>(g.width) / static_cast<float>(iw);
    t.scale_y = static_cast<float>(g.height) / static_cast<float>(ih);
    return t;
  }
  if (out_of_range(fit, ImageFit::kCrop))
    return bad_input(in, "unknown fit " + std::to_string(static_cast<int>(fit)));
  const double sx = static_cast<double>(g.width) / iw, sy = static_cast<double>(g.height) / ih;
  const double s = fit == ImageFit::kLetterbox ? std::min(sx, sy) : std::max(sx, sy);
  // The resized image; the axis that decided the scale keeps the model size exactly.
  const int rw = std::max(1, static_cast<int>(std::lround(iw * s)));
  const int rh = std::max(1, static_cast<int>(std::lround(ih * s)));
  t.scale_x = static_cast<float>(rw) / static_cast<float>(iw);
  t.scale_y = static_cast<float>(rh) / static_cast<float>(ih);
  // Padding (letterbox, >= 0) or the cut (crop, <= 0), split equally; the odd pixel goes last.
  // Whole pixels on purpose: the image is placed on the pixel grid.
  const int pad_x = (g.width - rw) / 2, pad_y = (g.height - rh) / 2;
  const int cut_x = (rw - g.width) / 2, cut_y = (rh - g.height) / 2;
  t.offset_x = static_cast<float>(pad_x);
  t.offset_y = static_cast<float>(pad_y);
  if (fit == ImageFit::kCrop) {
    t.offset_x = -static_cast<float>(cut_x);
    t.offset_y = -static_cast<float>(cut_y);
  }
  return t;
}

}  // namespace

Result<cv::Mat> load_image(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return Status(ErrorCode::kNotFound, "image '" + path + "' does not exist");
  if (!fs::is_regular_file(st))
    return Status(ErrorCode::kInvalidArgument, "image '" + path + "' is not a regular file");
  cv::Mat image;
  try {
    image = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kInvalidArgument,
                  "image '" + path + "' could not be decoded: " + e.what());
  }
  if (image.empty())
    return Status(ErrorCode::kInvalidArgument,
                  "'" + path + "' is not an image OpenCV can decode (PNG, JPEG, BMP, ...)");
  return image;
}

Result<ImageTransform> plan_transform(int width, int height, const InputInfo& input) {
  PH_ASSIGN_OR_RETURN(const Geometry g, geometry(input));
  return transform_for(width, height, input, g);
}

Result<ImageTransform> preprocess(const cv::Mat& image, const InputInfo& in, float* dst) {
  if (dst == nullptr) return bad_input(in, "null destination");
  if (image.empty()) return bad_input(in, "empty image");
  PH_ASSIGN_OR_RETURN(const Geometry g, geometry(in));
  PH_ASSIGN_OR_RETURN(const ImageTransform t, transform_for(image.cols, image.rows, in, g));
  const Preprocess& p = in.preprocess;

  // 8-bit, then the declared colour order.
  cv::Mat img = image;
  if (img.depth() != CV_8U) {
    if (img.depth() == CV_16U)
      img.convertTo(img, CV_8U, 1.0 / 257.0);
    else
      return bad_input(in, "image depth must be 8 or 16 bits");
  }
  cv::Mat colour;
  const int ch = img.channels();
  if (ch != 1 && ch != 3 && ch != 4)
    return bad_input(in, "image has " + std::to_string(ch) + " channels (1, 3 or 4 expected)");
  if (p.color == ColorOrder::kGray) {
    if (ch == 1)
      colour = img;
    else
      cv::cvtColor(img, colour, ch == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  } else if (p.color == ColorOrder::kRgb) {
    cv::cvtColor(img, colour,
                 ch == 1   ? cv::COLOR_GRAY2RGB
                 : ch == 3 ? cv::COLOR_BGR2RGB
                           : cv::COLOR_BGRA2RGB);
  } else {
    if (ch == 3)
      colour = img;
    else
      cv::cvtColor(img, colour, ch == 1 ? cv::COLOR_GRAY2BGR : cv::COLOR_BGRA2BGR);
  }

  // Resize, then pad (letterbox) or cut (crop) to the model size.
  const int rw = static_cast<int>(std::lround(t.scale_x * image.cols));
  const int rh = static_cast<int>(std::lround(t.scale_y * image.rows));
  cv::Mat resized;
  if (rw == colour.cols && rh == colour.rows) {
    resized = colour;
  } else {
    const bool shrink = rw <= colour.cols && rh <= colour.rows;
    cv::resize(colour, resized, cv::Size(rw, rh), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  cv::Mat fitted(g.height, g.width, resized.type(), cv::Scalar::all(0));
  const int ox = static_cast<int>(t.offset_x), oy = static_cast<int>(t.offset_y);
  // Overlap of the resized image (placed at ox, oy) with the model canvas.
  const cv::Rect placed(ox, oy, rw, rh), canvas(0, 0, g.width, g.height);
  const cv::Rect dst_rect = placed & canvas;
  resized(cv::Rect(dst_rect.x - ox, dst_rect.y - oy, dst_rect.width, dst_rect.height))
      .copyTo(fitted(dst_rect));

  // Normalise and write in the declared layout.
  float mul[4], add[4];
  for (int c = 0; c < g.channels; ++c) {
    const float mean = p.mean.empty() ? 0.f : p.mean[p.mean.size() == 1 ? 0 : c];
    const float sd = p.std.empty() ? 1.f : p.std[p.std.size() == 1 ? 0 : c];
    mul[c] = p.pixel_scale / 255.f / sd;
    add[c] = -mean / sd;
  }
  const size_t plane = static_cast<size_t>(g.width) * g.height;
  for (int y = 0; y < g.height; ++y) {
    const uint8_t* row = fitted.ptr<uint8_t>(y);
    for (int x = 0; x < g.width; ++x)
      for (int c = 0; c < g.channels; ++c) {
        const float v = row[x * g.channels + c] * mul[c] + add[c];
        const size_t pix = static_cast<size_t>(y) * g.width + x;
        if (g.nchw)
          dst[c * plane + pix] = v;
        else
          dst[pix * g.channels + c] = v;
      }
  }
  return t;
}

}  // namespace polyhead::vision
