#include "polyhead/image_transform.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "image_geometry.h"

namespace polyhead {
namespace {

Status bad_input(const InputInfo& in, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "input '" + in.name + "': " + what);
}

// An enum value outside its enumerators (a hand-made InputInfo with a cast value).
template <typename Enum>
bool out_of_range(Enum value, Enum last) {
  return static_cast<int>(value) < 0 || static_cast<int>(value) > static_cast<int>(last);
}

}  // namespace

int ImageTransform::resized_width() const {
  return static_cast<int>(std::lround(scale_x * static_cast<float>(image_width)));
}

int ImageTransform::resized_height() const {
  return static_cast<int>(std::lround(scale_y * static_cast<float>(image_height)));
}

namespace detail {

Result<ImageGeometry> image_geometry(const InputInfo& in) {
  const Preprocess& p = in.preprocess;
  if (p.color == ColorOrder::kNone)
    return bad_input(in, "is not an image (colour order NONE); feed it raw values instead");
  if (out_of_range(p.color, ColorOrder::kNone))
    return bad_input(in, "unknown colour order " + std::to_string(static_cast<int>(p.color)));
  if (out_of_range(p.layout, Layout::kNchw))
    return bad_input(in, "unknown layout " + std::to_string(static_cast<int>(p.layout)));
  if (out_of_range(p.fit, ImageFit::kCrop))
    return bad_input(in, "unknown fit " + std::to_string(static_cast<int>(p.fit)));
  if (in.type != ElementType::kF32)
    return bad_input(in, std::string("element type ") + element_type_name(in.type) +
                             " is not supported by image pre-processing (f32 only)");
  if (in.shape.rank() != 4 || in.shape[0] != 1)
    return bad_input(
        in, "shape " + in.shape.to_string() + " is not a single image [1,H,W,C] / [1,C,H,W]");
  ImageGeometry g;
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
  if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide)
    return bad_input(in, "image size " + std::to_string(w) + "x" + std::to_string(h) +
                             " is outside 1.." + std::to_string(kMaxImageSide));
  for (const auto* v : {&p.mean, &p.std})
    if (!v->empty() && v->size() != 1 && static_cast<int64_t>(v->size()) != c)
      return bad_input(in, "mean/std need 1 or " + std::to_string(c) + " values, found " +
                               std::to_string(v->size()));
  for (float s : p.std)
    if (s == 0.f || !std::isfinite(s)) return bad_input(in, "std of " + std::to_string(s));
  for (float m : p.mean)
    if (!std::isfinite(m)) return bad_input(in, "mean of " + std::to_string(m));
  if (!std::isfinite(p.pixel_scale))
    return bad_input(in, "pixel_scale of " + std::to_string(p.pixel_scale));
  g.width = static_cast<int>(w);
  g.height = static_cast<int>(h);
  g.channels = static_cast<int>(c);
  for (int ch = 0; ch < g.channels; ++ch) {
    const float mean = p.mean.empty() ? 0.f : p.mean[p.mean.size() == 1 ? 0 : ch];
    const float sd = p.std.empty() ? 1.f : p.std[p.std.size() == 1 ? 0 : ch];
    g.mul[ch] = p.pixel_scale / 255.f / sd;
    g.add[ch] = -mean / sd;
  }
  return g;
}

Result<ImageTransform> image_transform(int iw, int ih, const InputInfo& in,
                                       const ImageGeometry& g) {
  if (iw <= 0 || ih <= 0 || iw > kMaxImageSide || ih > kMaxImageSide)
    return bad_input(in, "image of " + std::to_string(iw) + "x" + std::to_string(ih) +
                             " pixels (each side must be 1.." + std::to_string(kMaxImageSide) +
                             ")");
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
  const double sx = static_cast<double>(g.width) / iw, sy = static_cast<double>(g.height) / ih;
  const double s = fit == ImageFit::kLetterbox ? std::min(sx, sy) : std::max(sx, sy);
  // The resized image; the axis that decided the scale keeps the model size exactly.
  const int rw = std::max(1, static_cast<int>(std::lround(iw * s)));
  const int rh = std::max(1, static_cast<int>(std::lround(ih * s)));
  t.scale_x = static_cast<float>(rw) / static_cast<float>(iw);
  t.scale_y = static_cast<float>(rh) / static_cast<float>(ih);
  // Padding (letterbox, >= 0) or the cut (crop, <= 0), split equally; the odd pixel goes last.
  if (fit == ImageFit::kLetterbox) {
    t.offset_x = static_cast<float>((g.width - rw) / 2);
    t.offset_y = static_cast<float>((g.height - rh) / 2);
  } else {
    t.offset_x = -static_cast<float>((rw - g.width) / 2);
    t.offset_y = -static_cast<float>((rh - g.height) / 2);
  }
  return t;
}

}  // namespace detail

Result<ImageTransform> image_transform_for(int width, int height, const InputInfo& input) {
  PH_ASSIGN_OR_RETURN(const detail::ImageGeometry g, detail::image_geometry(input));
  return detail::image_transform(width, height, input, g);
}

}  // namespace polyhead
