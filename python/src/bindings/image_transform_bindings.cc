// polyhead.ImageTransform: where a frame landed in an image input (Plan.set_input_pixels), and the
// maps between model pixels and frame pixels for post-processing.
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>

#include <string>
#include <utility>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "polyhead/image_transform.h"

namespace polyhead::python {

namespace {

using Points = nb::ndarray<const float, nb::device::cpu>;

// Maps an (..., 2) array of x, y pairs through `map` into a new float32 array of the same shape.
template <typename Map>
nb::object map_points(const Points& points, Map map) {
  if (points.ndim() == 0 || points.shape(points.ndim() - 1) != 2)
    raise_invalid_argument("points must be an array of shape (..., 2) holding x, y pairs, got " +
                           shape_text(InArray(points)));
  Shape shape;
  for (size_t i = 0; i < points.ndim(); ++i) {
    if (!shape.push_back(static_cast<int64_t>(points.shape(i))))
      raise_invalid_argument("points must have at most " + std::to_string(Shape::kMaxDims) +
                             " dimensions, got " + std::to_string(points.ndim()));
  }
  const size_t pairs = points.size() / 2;
  std::vector<float> xy(pairs * 2);
  copy_c_order(InArray(points), xy.data());
  for (size_t i = 0; i < pairs; ++i) {
    const PointF p = map(xy[2 * i], xy[2 * i + 1]);
    xy[2 * i] = p.x;
    xy[2 * i + 1] = p.y;
  }
  TensorView view;
  view.data = xy.data();
  view.shape = shape;
  view.type = ElementType::kF32;
  return copy_to_numpy(view);
}

}  // namespace

void bind_image_transform(nb::module_& m) {
  nb::class_<ImageTransform>(
      m, "ImageTransform",
      "Where a frame lands in a model's image input: model = frame * scale + offset per axis, in "
      "pixels (pixel centres at +0.5 on both sides). STRETCH: offsets 0. LETTERBOX: offsets >= 0 "
      "(the padding). CROP: offsets <= 0 (the part cut away).")
      .def_ro("image_width", &ImageTransform::image_width, "Width of the frame, in pixels.")
      .def_ro("image_height", &ImageTransform::image_height, "Height of the frame, in pixels.")
      .def_ro("model_width", &ImageTransform::model_width, "Width of the model input.")
      .def_ro("model_height", &ImageTransform::model_height, "Height of the model input.")
      .def_ro("scale_x", &ImageTransform::scale_x)
      .def_ro("scale_y", &ImageTransform::scale_y)
      .def_ro("offset_x", &ImageTransform::offset_x)
      .def_ro("offset_y", &ImageTransform::offset_y)
      .def_prop_ro("resized_width", &ImageTransform::resized_width,
                   "Width of the frame once resized, before padding or cutting.")
      .def_prop_ro("resized_height", &ImageTransform::resized_height,
                   "Height of the frame once resized, before padding or cutting.")
      .def(
          "to_image",
          [](const ImageTransform& t, float x, float y) {
            const PointF p = t.to_image(x, y);
            return std::make_pair(p.x, p.y);
          },
          nb::arg("x"), nb::arg("y"), "Model pixel (x, y) -> frame pixel (x, y).")
      .def(
          "to_image",
          [](const ImageTransform& t, const Points& points) {
            return map_points(points, [&](float x, float y) { return t.to_image(x, y); });
          },
          nb::arg("points"),
          "Model pixels -> frame pixels for an array of shape (..., 2) of x, y pairs; returns a "
          "new float32 array of the same shape.")
      .def(
          "to_model",
          [](const ImageTransform& t, float x, float y) {
            const PointF p = t.to_model(x, y);
            return std::make_pair(p.x, p.y);
          },
          nb::arg("x"), nb::arg("y"), "Frame pixel (x, y) -> model pixel (x, y).")
      .def(
          "to_model",
          [](const ImageTransform& t, const Points& points) {
            return map_points(points, [&](float x, float y) { return t.to_model(x, y); });
          },
          nb::arg("points"),
          "Frame pixels -> model pixels for an array of shape (..., 2) of x, y pairs; returns a "
          "new float32 array of the same shape.")
      .def("__repr__", [](const ImageTransform& t) {
        return nb::str(
                   "ImageTransform(image={}x{}, model={}x{}, scale=({:.6g}, {:.6g}), "
                   "offset=({:g}, {:g}))")
            .format(t.image_width, t.image_height, t.model_width, t.model_height, t.scale_x,
                    t.scale_y, t.offset_x, t.offset_y);
      });
}

}  // namespace polyhead::python
