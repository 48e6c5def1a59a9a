#include "offline/quantize/calibration.h"

#include "eval/image_input.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/engine.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::quantize {

namespace {

Status with_context(const Status& s, const std::string& context) {
  return s.is_ok() ? s : Status(s.code(), context + ": " + s.message());
}

}  // namespace

Result<CalibrationModel> build_calibration_model(const merge::SourceGraph& g) {
  for (const schema::Task* t : *g.root->tasks())
    if (t->name()->str() == kCalibrationTask)
      return Status(ErrorCode::kInvalidArgument,
                    std::string("the model already has a task named '") + kCalibrationTask + "'");
  EditModel m = edit_copy(g);
  CalibrationModel c;
  EditTask task;
  task.name = kCalibrationTask;
  task.kind = schema::TaskKind::OTHER;
  for (int n : g.order) {
    const int t = g.node(n).outputs()->Get(0);
    if (g.tensor(t).type() != schema::ElementType::F32) continue;
    task.outputs.emplace_back("t" + std::to_string(t), t);
    c.observed.push_back(t);
  }
  m.tasks.push_back(std::move(task));
  PH_ASSIGN_OR_RETURN(c.bytes, write_model(m));
  return c;
}

Result<std::vector<RangeObserver>> calibrate(const Model& model, const merge::SourceGraph& g,
                                             const std::vector<std::string>& images,
                                             const CalibrationOptions& options) {
  if (images.empty()) return Status(ErrorCode::kInvalidArgument, "no calibration images");
  if (model.inputs().size() != 1) {
    std::string names;
    for (const InputInfo& in : model.inputs())
      names += (names.empty() ? "'" : ", '") + in.name + "'";
    return Status(ErrorCode::kUnsupported,
                  "the model has " + std::to_string(model.inputs().size()) + " inputs (" + names +
                      "); calibration feeds photos to models with one image input");
  }
  PH_ASSIGN_OR_RETURN(const InputInfo* input, compare::image_input(model, "model"));
  PH_ASSIGN_OR_RETURN(CalibrationModel cm, build_calibration_model(g));
  auto copy = Model::from_bytes(cm.bytes);
  if (!copy.is_ok())
    return with_context(copy.status(), "the calibration copy of the model does not load");
  EngineOptions eo;
  eo.threads = options.threads;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(*copy, eo));
  auto plan = engine.prepare({kCalibrationTask});
  if (!plan.is_ok()) return with_context(plan.status(), "calibration");
  std::vector<RangeObserver> observers(g.root->tensors()->size());
  const int input_tensor = g.root->inputs()->Get(0)->tensor();
  const auto input_count = static_cast<size_t>(input->shape.elements());
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string& path = images[i];
    const std::string where = "calibration image '" + path + "'";
    auto image = vision::load_image(path);
    if (!image.is_ok()) return with_context(image.status(), "calibration image");
    PH_ASSIGN_OR_RETURN(float* dst, plan->input_buffer(input->name));
    auto transform = vision::preprocess(*image, *input, dst);
    if (!transform.is_ok()) return with_context(transform.status(), where);
    observers[static_cast<size_t>(input_tensor)].observe(dst, input_count);
    PH_RETURN_IF_ERROR(with_context(plan->run(), where));
    for (const int t : cm.observed) {
      PH_ASSIGN_OR_RETURN(const TensorView v,
                          plan->output(kCalibrationTask, "t" + std::to_string(t)));
      observers[static_cast<size_t>(t)].observe(v.f32(), static_cast<size_t>(v.shape.elements()));
    }
    if (options.progress) options.progress(i + 1, images.size());
  }
  return observers;
}

}  // namespace polyhead::quantize
