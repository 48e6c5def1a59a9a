#include "offline/prune/channel_means.h"

#include "eval/image_input.h"
#include "offline/quantize/calibration.h"
#include "polyhead/engine.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::prune {

namespace {

Status with_context(const Status& s, const std::string& context) {
  return s.is_ok() ? s : Status(s.code(), context + ": " + s.message());
}

}  // namespace

Result<ChannelMeans> measure_channel_means(const Model& model, const merge::SourceGraph& g,
                                           const std::vector<std::string>& images, size_t threads) {
  if (model.inputs().size() != 1)
    return Status(ErrorCode::kUnsupported,
                  "the model has " + std::to_string(model.inputs().size()) +
                      " inputs; calibration photos feed models with one image input");
  PH_ASSIGN_OR_RETURN(const InputInfo* input, compare::image_input(model, "model"));
  PH_ASSIGN_OR_RETURN(quantize::CalibrationModel cm, quantize::build_calibration_model(g));
  auto copy = Model::from_bytes(cm.bytes);
  if (!copy.is_ok())
    return with_context(copy.status(), "the calibration copy of the model does not load");
  EngineOptions eo;
  eo.threads = threads;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(*copy, eo));
  auto plan = engine.prepare({quantize::kCalibrationTask});
  if (!plan.is_ok()) return with_context(plan.status(), "channel means");
  ChannelMeans sums(g.root->tensors()->size());
  std::vector<size_t> rows(sums.size(), 0);
  for (const std::string& path : images) {
    const std::string where = "calibration image '" + path + "'";
    auto image = vision::load_image(path);
    if (!image.is_ok()) return with_context(image.status(), "calibration image");
    PH_ASSIGN_OR_RETURN(float* dst, plan->input_buffer(input->name));
    auto transform = vision::preprocess(*image, *input, dst);
    if (!transform.is_ok()) return with_context(transform.status(), where);
    PH_RETURN_IF_ERROR(with_context(plan->run(), where));
    for (const int t : cm.observed) {
      PH_ASSIGN_OR_RETURN(const TensorView v,
                          plan->output(quantize::kCalibrationTask, "t" + std::to_string(t)));
      const size_t count = static_cast<size_t>(v.shape.elements());
      const size_t channels = v.shape.rank() ? static_cast<size_t>(v.shape[v.shape.rank() - 1]) : 1;
      std::vector<double>& s = sums[static_cast<size_t>(t)];
      s.resize(channels, 0.0);
      const float* x = v.f32();
      for (size_t i = 0; i < count; ++i) s[i % channels] += x[i];
      rows[static_cast<size_t>(t)] += channels ? count / channels : 0;
    }
  }
  for (size_t t = 0; t < sums.size(); ++t)
    for (double& v : sums[t]) v /= static_cast<double>(rows[t] ? rows[t] : 1);
  return sums;
}

}  // namespace polyhead::prune
