// classify: the C++ API on one page. Loads a model, prints its inputs and tasks, prepares every
// task once, fills the input, runs all tasks in one pass (the shared backbone once) and prints
// each output's shape and first values, and the top-5 classes of each classification task.
//
//   polyhead demo --out demo        # writes demo/mobilenet_multitask.phm and demo/image.f32
//   classify demo/mobilenet_multitask.phm demo/image.f32
//
// The input file holds raw little-endian float32 values, already normalised, in the input's
// declared shape and layout. Without it the input is filled with zeros (the mean pixel).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_enums.h"

namespace {

// Every call that can fail returns a Status or a Result<T> whose message names what went wrong.
int fail(const char* what, const polyhead::Status& status) {
  std::fprintf(stderr, "classify: %s: %s\n", what, status.to_string().c_str());
  return 1;
}

// Reads exactly `count` floats from `path` into `out`.
bool read_floats(const std::string& path, float* out, size_t count) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return false;
  if (static_cast<size_t>(file.tellg()) != count * sizeof(float)) return false;
  file.seekg(0);
  return static_cast<bool>(file.read(reinterpret_cast<char*>(out), count * sizeof(float)));
}

void print_top5(const polyhead::TaskInfo& task, const float* scores, size_t count) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(5, count);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::printf("    top-5:");
  for (size_t i = 0; i < k; ++i) {
    const size_t c = order[i];
    // Labels are optional metadata of the task; print the class index when there are none.
    if (c < task.postprocess.labels.size())
      std::printf("  %s (%.4g)", task.postprocess.labels[c].c_str(), scores[c]);
    else
      std::printf("  %zu (%.4g)", c, scores[c]);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: classify MODEL.phm [INPUT.f32]\n");
    return 2;
  }

  // 1. Load: the file is memory-mapped, verified and validated; weights are read in place.
  polyhead::Result<polyhead::Model> model = polyhead::Model::load_file(argv[1]);
  if (!model) return fail("load", model.status());

  std::printf("inputs\n");
  for (const polyhead::InputInfo& in : model->inputs())
    std::printf("  %-12s %-18s %s\n", in.name.c_str(), in.shape.to_string().c_str(),
                polyhead::element_type_name(in.type));
  std::printf("tasks\n");
  for (const polyhead::TaskInfo& task : model->tasks()) {
    std::printf("  %-12s %s\n", task.name.c_str(), polyhead::to_string(task.kind));
    for (const polyhead::TaskOutputInfo& out : task.outputs)
      std::printf("    -> %-10s %s\n", out.name.c_str(), out.shape.to_string().c_str());
  }

  // 2. Prepare once: the engine packs the weights, the plan lays out one activation arena for the
  //    chosen tasks (none named = every task). Do this at start-up, not per frame.
  polyhead::EngineOptions options;
  options.threads = 1;
  polyhead::Result<polyhead::Engine> engine = polyhead::Engine::create(*model, options);
  if (!engine) return fail("create the engine", engine.status());
  polyhead::Result<polyhead::Plan> plan = engine->prepare();
  if (!plan) return fail("prepare", plan.status());

  // 3. Fill the inputs in place: input_buffer() points into the plan's arena (no copy).
  for (const polyhead::InputInfo& in : model->inputs()) {
    polyhead::Result<float*> buffer = plan->input_buffer(in.name);
    if (!buffer) return fail("input buffer", buffer.status());
    const size_t count = static_cast<size_t>(in.shape.elements());
    if (argc == 3 && model->inputs().size() == 1) {
      if (!read_floats(argv[2], *buffer, count)) {
        std::fprintf(stderr, "classify: %s does not hold %zu float32 values for input '%s'\n",
                     argv[2], count, in.name.c_str());
        return 1;
      }
    } else {
      std::fill(*buffer, *buffer + count, 0.f);
    }
  }

  // 4. Run: the shared backbone once, then every task's head. No heap allocation, no lock.
  const polyhead::Status ran = plan->run();
  if (!ran.is_ok()) return fail("run", ran);
  std::printf("ran %zu nodes\n", plan->last_run_nodes());

  // 5. Read the outputs: views into the arena, valid until the next run of this plan.
  for (const polyhead::TaskInfo& task : model->tasks()) {
    std::printf("%s (%s)\n", task.name.c_str(), polyhead::to_string(task.kind));
    for (const polyhead::TaskOutputInfo& info : task.outputs) {
      polyhead::Result<polyhead::TensorView> out = plan->output(task.name, info.name);
      if (!out) return fail("output", out.status());
      const float* values = out->f32();  // task outputs are float32
      const size_t count = static_cast<size_t>(out->shape.elements());
      std::printf("  %-10s %-16s", info.name.c_str(), out->shape.to_string().c_str());
      for (size_t i = 0; values && i < std::min<size_t>(4, count); ++i)
        std::printf(" %.4g", values[i]);
      std::printf("%s\n", count > 4 ? " ..." : "");
      if (task.kind == polyhead::TaskKind::kClassification && values)
        print_top5(task, values, count);
    }
  }
  return 0;
}
