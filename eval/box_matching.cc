#include "eval/box_matching.h"

#include <algorithm>

namespace polyhead::compare {

std::vector<BoxMatch> match_boxes(const std::vector<vision::Detection>& teacher,
                                  const std::vector<vision::Detection>& student, double min_iou) {
  std::vector<BoxMatch> candidates;
  for (size_t t = 0; t < teacher.size(); ++t)
    for (size_t s = 0; s < student.size(); ++s) {
      if (teacher[t].label != student[s].label) continue;
      const double overlap = vision::iou(teacher[t].box, student[s].box);
      if (overlap >= min_iou && overlap > 0) candidates.push_back({t, s, overlap});
    }
  // Ties keep the teacher's order (its boxes come best score first), so the result is stable.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const BoxMatch& a, const BoxMatch& b) { return a.iou > b.iou; });
  std::vector<bool> teacher_used(teacher.size()), student_used(student.size());
  std::vector<BoxMatch> matches;
  for (const BoxMatch& m : candidates) {
    if (teacher_used[m.teacher] || student_used[m.student]) continue;
    teacher_used[m.teacher] = student_used[m.student] = true;
    matches.push_back(m);
  }
  std::sort(matches.begin(), matches.end(),
            [](const BoxMatch& a, const BoxMatch& b) { return a.teacher < b.teacher; });
  return matches;
}

}  // namespace polyhead::compare
