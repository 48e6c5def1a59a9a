#include "eval/task_pairing.h"

#include <algorithm>

namespace polyhead::compare {
namespace {

const TaskInfo* find_task(const Model& m, const std::string& name) {
  for (const TaskInfo& t : m.tasks())
    if (t.name == name) return &t;
  return nullptr;
}

const TaskOutputInfo* find_output(const TaskInfo& t, const std::string& name) {
  for (const TaskOutputInfo& o : t.outputs)
    if (o.name == name) return &o;
  return nullptr;
}

// The output a decoder reads: `preferred`, else the task's only output (as `run --image` does).
const TaskOutputInfo* decoded_output(const TaskInfo& t, const char* preferred) {
  if (const TaskOutputInfo* o = find_output(t, preferred)) return o;
  return t.outputs.size() == 1 ? &t.outputs[0] : nullptr;
}

std::string names_of(const std::vector<TaskInfo>& tasks) {
  std::string s;
  for (const TaskInfo& t : tasks) s += (s.empty() ? "" : ", ") + t.name;
  return s.empty() ? "none" : s;
}

std::string output_names(const TaskInfo& t) {
  std::string s;
  for (const TaskOutputInfo& o : t.outputs) s += (s.empty() ? "" : ", ") + o.name;
  return s;
}

Status mismatch(const TaskInfo& task, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "task '" + task.name + "': " + what);
}

Status shape_mismatch(const TaskInfo& task, const TaskOutputInfo& t, const TaskOutputInfo& s,
                      const std::string& rule) {
  return mismatch(task, "output '" + t.name + "' has shape " + t.shape.to_string() +
                            " in the teacher and " + s.shape.to_string() + " in the student (" +
                            rule + ")");
}

Status check_f32(const TaskInfo& task, const TaskOutputInfo& o, const char* role) {
  if (o.type == ElementType::kF32) return Status::ok();
  return Status(ErrorCode::kUnsupported, "task '" + task.name + "': the " + role + "'s output '" +
                                             o.name + "' is " + element_type_name(o.type) +
                                             "; compare reads f32 outputs");
}

// Every output of the task: same shape in both models.
Status check_equal_shapes(const TaskPair& p, const std::string& rule) {
  for (const TaskOutputInfo& t : p.teacher->outputs) {
    const TaskOutputInfo& s = *find_output(*p.student, t.name);
    if (t.shape != s.shape) return shape_mismatch(*p.teacher, t, s, rule);
  }
  return Status::ok();
}

int64_t mask_channels(const Shape& s) {
  return s.rank() == 4 ? s[3] : 1;
}

// Masks: same rank and channels; height and width follow each model's input size.
Status check_mask_shapes(const TaskPair& p) {
  const TaskOutputInfo& t = *find_output(*p.teacher, p.output);
  const TaskOutputInfo& s = *find_output(*p.student, p.output);
  if (t.shape.rank() != s.shape.rank() || mask_channels(t.shape) != mask_channels(s.shape))
    return shape_mismatch(*p.teacher, t, s, "masks need the same rank and channels");
  return Status::ok();
}

// Decoded detections: [1, anchors, values]; the anchor count follows each model's input size.
Status check_detection_shapes(const TaskPair& p) {
  for (const char* name : {"boxes", "scores"}) {
    const TaskOutputInfo& t = *find_output(*p.teacher, name);
    const TaskOutputInfo& s = *find_output(*p.student, name);
    if (t.shape.rank() != 3 || s.shape.rank() != 3 || t.shape[0] != s.shape[0] ||
        t.shape[2] != s.shape[2])
      return shape_mismatch(*p.teacher, t, s,
                            "detections need the same values per anchor; only the anchor count "
                            "may differ");
  }
  return Status::ok();
}

// Falls back to raw values, saying why, when the teacher's metadata has no decoder for the task.
template <typename Options>
Result<bool> decodable(const Result<Options>& teacher, const Result<Options>& student,
                       TaskPair& p) {
  if (!teacher.is_ok()) {
    if (teacher.status().code() != ErrorCode::kUnsupported)
      return Status(teacher.status().code(), "teacher: " + teacher.status().message());
    // The vision library's messages start with "task 'NAME': "; the report names the task.
    const std::string prefix = "task '" + p.teacher->name + "': ";
    p.note = teacher.status().message();
    if (p.note.rfind(prefix, 0) == 0) p.note.erase(0, prefix.size());
    return false;
  }
  if (!student.is_ok())
    return Status(student.status().code(),
                  "the student cannot decode task '" + p.teacher->name +
                      "' as the teacher does: " + student.status().message());
  return true;
}

Status choose_method(const Model& teacher, const Model& student, TaskPair& p) {
  const TaskInfo& task = *p.teacher;
  const std::string equal_rule =
      std::string("a ") + to_string(task.kind) + " task needs the same output shapes";
  if (task.kind == TaskKind::kClassification) {
    if (task.outputs.size() == 1) {
      p.method = Method::kClassification;
      return check_equal_shapes(p, equal_rule);
    }
    p.note = "a classification task with " + std::to_string(task.outputs.size()) +
             " outputs is compared raw";
  } else if (task.kind == TaskKind::kSegmentation) {
    const TaskOutputInfo* o = decoded_output(task, "mask");
    if (o) {
      p.output = o->name;
      PH_RETURN_IF_ERROR(check_mask_shapes(p));
      const bool declared = !teacher.metadata(task.name + ".threshold").empty();
      if (declared || mask_channels(o->shape) <= 2) {
        PH_ASSIGN_OR_RETURN(p.teacher_mask, vision::mask_options(teacher, task));
        PH_ASSIGN_OR_RETURN(p.student_mask, vision::mask_options(student, *p.student));
        p.method = Method::kMask;
        return Status::ok();
      }
      if (o->shape.rank() == 4) {
        p.method = Method::kClassMap;
        return Status::ok();
      }
    }
    p.note = "no output 'mask' (nor a single output) to decode as a mask";
  } else if (task.kind == TaskKind::kDetection) {
    PH_ASSIGN_OR_RETURN(const bool decode,
                        decodable(vision::detection_options(teacher, task),
                                  vision::detection_options(student, *p.student), p));
    if (decode) {
      if (!find_output(task, "boxes") || !find_output(task, "scores"))
        return mismatch(task, "decoding detections needs outputs 'boxes' and 'scores', found " +
                                  output_names(task));
      p.teacher_detection = *vision::detection_options(teacher, task);
      p.student_detection = *vision::detection_options(student, *p.student);
      p.method = Method::kDetection;
      return check_detection_shapes(p);
    }
  } else if (task.kind == TaskKind::kLandmarks) {
    PH_ASSIGN_OR_RETURN(const bool decode,
                        decodable(vision::landmark_options(teacher, task),
                                  vision::landmark_options(student, *p.student), p));
    const TaskOutputInfo* o = decoded_output(task, "landmarks");
    if (decode && !o)
      return mismatch(
          task, "decoding landmarks needs an output 'landmarks', found " + output_names(task));
    if (decode) {
      p.output = o->name;
      p.teacher_landmarks = *vision::landmark_options(teacher, task);
      p.student_landmarks = *vision::landmark_options(student, *p.student);
      p.method = Method::kLandmarks;
      return check_equal_shapes(p, equal_rule);
    }
  }
  p.method = Method::kRaw;
  return check_equal_shapes(p, p.note.empty() ? "raw outputs are compared value by value"
                                              : "compared raw, value by value: " + p.note +
                                                    "; leave the task out with --tasks");
}

}  // namespace

Result<std::vector<TaskPair>> pair_tasks(const Model& teacher, const Model& student,
                                         const std::vector<std::string>& tasks) {
  std::vector<std::string> names = tasks;
  if (names.empty()) {
    for (const TaskInfo& t : teacher.tasks()) names.push_back(t.name);
    for (const TaskInfo& s : student.tasks())
      if (!find_task(teacher, s.name))
        return Status(ErrorCode::kInvalidArgument,
                      "task '" + s.name + "' of the student is not in the teacher (tasks: " +
                          names_of(teacher.tasks()) +
                          "); both need the same tasks, or choose some with --tasks");
  }
  std::vector<TaskPair> pairs;
  for (const std::string& name : names) {
    TaskPair p;
    p.teacher = find_task(teacher, name);
    p.student = find_task(student, name);
    if (!p.teacher)
      return Status(ErrorCode::kNotFound, "task '" + name + "' is not in the teacher (tasks: " +
                                              names_of(teacher.tasks()) + ")");
    if (!p.student)
      return Status(ErrorCode::kNotFound, "task '" + name + "' is not in the student (tasks: " +
                                              names_of(student.tasks()) + ")");
    if (p.teacher->kind != p.student->kind)
      return mismatch(*p.teacher, std::string("kind ") + to_string(p.teacher->kind) +
                                      " in the teacher but " + to_string(p.student->kind) +
                                      " in the student");
    bool same_outputs = p.teacher->outputs.size() == p.student->outputs.size();
    for (const TaskOutputInfo& o : p.teacher->outputs)
      same_outputs = same_outputs && find_output(*p.student, o.name);
    if (!same_outputs)
      return mismatch(*p.teacher, "outputs (" + output_names(*p.teacher) +
                                      ") in the teacher but (" + output_names(*p.student) +
                                      ") in the student");
    for (const TaskOutputInfo& o : p.teacher->outputs) {
      PH_RETURN_IF_ERROR(check_f32(*p.teacher, o, "teacher"));
      PH_RETURN_IF_ERROR(check_f32(*p.student, *find_output(*p.student, o.name), "student"));
    }
    PH_RETURN_IF_ERROR(choose_method(teacher, student, p));
    pairs.push_back(std::move(p));
  }
  return pairs;
}

}  // namespace polyhead::compare
