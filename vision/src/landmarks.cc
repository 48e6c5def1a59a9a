#include "polyhead/vision/landmarks.h"

#include <cmath>

#include "metadata.h"

namespace polyhead::vision {

using detail::bad_metadata;
using detail::task_key;

Result<LandmarkOptions> landmark_options(const Model& model, const TaskInfo& task) {
  LandmarkOptions o;
  o.format = model.metadata(task_key(task, "format"));
  if (o.format.empty())
    return Status(ErrorCode::kUnsupported, "task '" + task.name +
                                               "': no landmark format (metadata '" +
                                               task_key(task, "format") + "')");
  if (o.format.find_first_not_of("xyzvp") != std::string::npos ||
      o.format.find('x') == std::string::npos || o.format.find('y') == std::string::npos)
    return bad_metadata(task, "format", o.format, "letters from xyzvp including x and y");
  PH_ASSIGN_OR_RETURN(const float count, detail::metadata_float(model, task, "count", 0, 0, 1e7f));
  if (count != std::floor(count))
    return bad_metadata(task, "count", model.metadata(task_key(task, "count")), "a whole number");
  o.count = static_cast<int>(count);
  const std::string scale = model.metadata(task_key(task, "scale"));
  if (!scale.empty()) {
    std::vector<float> v;
    if (!detail::parse_floats(scale, v) || v.size() != 2 || !(v[0] > 0) || !(v[1] > 0))
      return bad_metadata(task, "scale", scale, "2 positive numbers (x, y)");
    o.scale_x = v[0];
    o.scale_y = v[1];
  }
  const std::string vis = model.metadata(task_key(task, "visibility"));
  if (!vis.empty() && vis != "sigmoid" && vis != "none")
    return bad_metadata(task, "visibility", vis, "'sigmoid' or 'none'");
  o.sigmoid_visibility = vis != "none";
  return o;
}

Result<std::vector<Landmark>> decode_landmarks(const TensorView& v, const LandmarkOptions& o,
                                               const ImageTransform& t) {
  if (v.type != ElementType::kF32 || !v.f32())
    return Status(ErrorCode::kUnsupported, "landmark output must be f32");
  const size_t stride = o.format.size();
  const size_t n = static_cast<size_t>(v.shape.elements());
  if (stride == 0 || n % stride != 0)
    return Status(ErrorCode::kInvalidArgument, "landmarks " + v.shape.to_string() +
                                                   " do not hold a whole number of '" + o.format +
                                                   "' points");
  size_t count = n / stride;
  if (o.count > 0) {
    if (static_cast<size_t>(o.count) > count)
      return Status(ErrorCode::kInvalidArgument, "landmarks " + v.shape.to_string() + " hold " +
                                                     std::to_string(count) + " '" + o.format +
                                                     "' points, fewer than the " +
                                                     std::to_string(o.count) + " declared");
    count = static_cast<size_t>(o.count);
  }
  const float sx = o.scale_x > 0 ? o.scale_x : static_cast<float>(t.model_width);
  const float sy = o.scale_y > 0 ? o.scale_y : static_cast<float>(t.model_height);
  const float to_mx = static_cast<float>(t.model_width) / sx;
  const float to_my = static_cast<float>(t.model_height) / sy;
  auto prob = [&](float x) { return o.sigmoid_visibility ? detail::sigmoid(x) : x; };
  std::vector<Landmark> out(count);
  for (size_t i = 0; i < count; ++i) {
    const float* r = v.f32() + i * stride;
    float x = 0, y = 0;
    Landmark& l = out[i];
    for (size_t k = 0; k < stride; ++k) {
      switch (o.format[k]) {
        case 'x':
          x = r[k] * to_mx;
          break;
        case 'y':
          y = r[k] * to_my;
          break;
        case 'z':
          l.z = r[k] * to_mx / t.scale_x;
          break;
        case 'v':
          l.visibility = prob(r[k]);
          break;
        case 'p':
          l.presence = prob(r[k]);
          break;
        default:
          break;
      }
    }
    l.point = to_cv(t.to_image(x, y));
  }
  return out;
}

const std::vector<std::pair<int, int>>& pose_connections() {
  static const std::vector<std::pair<int, int>> k = {
      {0, 1},   {1, 2},   {2, 3},   {3, 7},   {0, 4},   {4, 5},   {5, 6},   {6, 8},   {9, 10},
      {11, 12}, {11, 13}, {13, 15}, {15, 17}, {15, 19}, {15, 21}, {17, 19}, {12, 14}, {14, 16},
      {16, 18}, {16, 20}, {16, 22}, {18, 20}, {11, 23}, {12, 24}, {23, 24}, {23, 25}, {24, 26},
      {25, 27}, {26, 28}, {27, 29}, {28, 30}, {29, 31}, {30, 32}, {27, 31}, {28, 32}};
  return k;
}

}  // namespace polyhead::vision
