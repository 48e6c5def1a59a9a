#include "eval/landmark_metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace polyhead::compare {

Result<LandmarkErrors> landmark_errors(const std::vector<vision::Landmark>& teacher,
                                       const std::vector<vision::Landmark>& student,
                                       const vision::ImageTransform& t) {
  if (teacher.size() != student.size())
    return Status(ErrorCode::kInvalidArgument,
                  "landmarks: the teacher has " + std::to_string(teacher.size()) +
                      " points, the student " + std::to_string(student.size()));
  if (t.model_width <= 0 || t.model_height <= 0)
    return Status(ErrorCode::kInvalidArgument, "landmarks: empty teacher transform");
  LandmarkErrors e;
  const double fx = t.scale_x / static_cast<double>(t.model_width);
  const double fy = t.scale_y / static_cast<double>(t.model_height);
  for (size_t i = 0; i < teacher.size(); ++i) {
    const double dx = (static_cast<double>(student[i].point.x) - teacher[i].point.x) * fx;
    const double dy = (static_cast<double>(student[i].point.y) - teacher[i].point.y) * fy;
    const double d = std::sqrt(dx * dx + dy * dy);
    e.error_sum += d;
    e.error_max = std::max(e.error_max, d);
    e.visibility_error_sum +=
        std::abs(static_cast<double>(teacher[i].visibility) - student[i].visibility);
  }
  e.points = teacher.size();
  return e;
}

}  // namespace polyhead::compare
