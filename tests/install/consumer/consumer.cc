// A program written against the installed headers only: builds a two-task model with the
// ModelBuilder, writes it, then loads and runs it through the C++ API and through the C API and
// checks both give the expected values. Prints "consumer: ok" and exits 0 on success.
//   consumer MODEL.phm   (where to write the model)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/model_enums.h"
#include "polyhead/polyhead_c.h"

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

// image [1,4,4,3] -> "classify" (mean over H and W: [1,3]) and "segment" (sigmoid: [1,4,4,3]).
polyhead::Status write_model(const std::string& path) {
  polyhead::ModelBuilder b;
  polyhead::Preprocess pre;
  pre.width = pre.height = 4;
  pre.color = polyhead::ColorOrder::kBgr;
  pre.fit = polyhead::ImageFit::kLetterbox;
  const int image = b.add_input("image", polyhead::Shape{1, 4, 4, 3}, pre);
  PH_ASSIGN_OR_RETURN(const int pooled, b.mean("pool", image, false));
  PH_ASSIGN_OR_RETURN(const int mask, b.unary("mask", polyhead::UnaryOp::kSigmoid, image));
  polyhead::PostProcessParams softmax;
  softmax.activation = polyhead::OutputActivation::kSoftmax;
  PH_RETURN_IF_ERROR(
      b.add_task("classify", polyhead::TaskKind::kClassification, {{"logits", pooled}}, softmax));
  PH_RETURN_IF_ERROR(b.add_task("segment", polyhead::TaskKind::kSegmentation, {{"mask", mask}}));
  b.set_producer("install consumer");
  return b.write(path);
}

// Pixel value of channel c (the same at every pixel): 0.5, 1, 1.5.
std::vector<float> input_values() {
  std::vector<float> v(4 * 4 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * static_cast<float>(i % 3 + 1);
  return v;
}

float sigmoid(float x) {
  return 1.f / (1.f + std::exp(-x));
}

void run_cpp(const std::string& path) {
  auto model = polyhead::Model::load_file(path);
  expect(model.is_ok(), "C++ load: " + model.status().to_string());
  if (!model.is_ok()) return;
  expect(model->producer() == "install consumer", "producer");
  expect(model->inputs().size() == 1, "one input");
  const polyhead::Preprocess& pre = model->inputs()[0].preprocess;
  expect(pre.color == polyhead::ColorOrder::kBgr && pre.fit == polyhead::ImageFit::kLetterbox &&
             pre.layout == polyhead::Layout::kNhwc,
         "pre-processing read back");
  expect(model->tasks().size() == 2, "two tasks");
  expect(std::string(polyhead::to_string(model->tasks()[0].kind)) == "classification",
         "task kind name");
  expect(model->tasks()[0].postprocess.activation == polyhead::OutputActivation::kSoftmax,
         "activation read back");

  auto engine = polyhead::Engine::create(*model);
  expect(engine.is_ok(), "C++ engine: " + engine.status().to_string());
  if (!engine.is_ok()) return;
  auto plan = engine->prepare();
  expect(plan.is_ok(), "C++ prepare: " + plan.status().to_string());
  if (!plan.is_ok()) return;
  const std::vector<float> in = input_values();
  expect(plan->set_input("image", in.data(), in.size()).is_ok(), "C++ set_input");
  expect(plan->run().is_ok(), "C++ run");
  auto logits = plan->output("classify", "logits");
  expect(logits.is_ok() && logits->shape == polyhead::Shape{1, 3}, "C++ classify output");
  if (logits.is_ok())
    for (int c = 0; c < 3; ++c)
      expect(std::fabs(logits->f32()[c] - 0.5f * (c + 1)) < 1e-5f, "C++ mean of channel");
  auto mask = plan->output("segment", "mask");
  expect(mask.is_ok() && mask->shape == polyhead::Shape{1, 4, 4, 3}, "C++ segment output");
  if (mask.is_ok()) expect(std::fabs(mask->f32()[5] - sigmoid(1.5f)) < 1e-5f, "C++ sigmoid");
}

void run_c(const std::string& path) {
  ph_model* model = nullptr;
  ph_engine* engine = nullptr;
  ph_plan* plan = nullptr;
  expect(ph_model_load_file(path.c_str(), &model) == PH_OK,
         std::string("C load: ") + ph_last_error());
  expect(ph_api_version() == PH_API_VERSION, "C API version of the library and header");
  expect(std::strcmp(ph_version(), PH_VERSION_STRING) == 0, "version string of library and header");
  expect(PH_API_VERSION == PH_VERSION_MAJOR * 10000 + PH_VERSION_MINOR * 100 + PH_VERSION_PATCH,
         "PH_API_VERSION from the version numbers");
  expect(ph_model_task_count(model) == 2, "C task count");
  expect(std::strcmp(ph_model_task_kind(model, 0), "classification") == 0, "C task kind 0");
  expect(std::strcmp(ph_model_task_kind(model, 1), "segmentation") == 0, "C task kind 1");
  expect(ph_engine_create(model, nullptr, &engine) == PH_OK, "C engine");
  const char* tasks[] = {"classify"};
  expect(ph_plan_prepare(engine, tasks, 1, &plan) == PH_OK, "C prepare");
  const std::vector<float> in = input_values();
  expect(ph_plan_set_input(plan, "image", in.data(), in.size()) == PH_OK, "C set_input");
  expect(ph_plan_run(plan) == PH_OK, "C run");
  ph_tensor logits;
  expect(ph_plan_output(plan, "classify", "logits", &logits) == PH_OK, "C output");
  if (logits.data && logits.type == PH_F32 && logits.rank == 2 && logits.dims[1] == 3)
    expect(std::fabs(static_cast<const float*>(logits.data)[2] - 1.5f) < 1e-5f, "C mean value");
  else
    expect(false, "C output shape and type");
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL.phm\n");
    return 2;
  }
  const polyhead::Status written = write_model(argv[1]);
  expect(written.is_ok(), "write the model: " + written.to_string());
  if (written.is_ok()) {
    run_cpp(argv[1]);
    run_c(argv[1]);
  }
  if (failures) return 1;
  std::printf("consumer: ok\n");
  return 0;
}
