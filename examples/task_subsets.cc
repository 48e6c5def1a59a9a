// task_subsets: prepare once, then run a different subset of the tasks on each frame. A video
// pipeline rarely needs every head on every frame: here segmentation runs on every 3rd frame and
// the other tasks on every frame (a task whose model declares a rate above 1 runs every `rate`
// frames instead). Each frame runs the shared backbone once plus the heads that are due;
// last_run_nodes() shows how much of the plan that was.
//
//   polyhead demo --out demo        # writes demo/mobilenet_multitask.phm and demo/image.f32
//   task_subsets demo/mobilenet_multitask.phm demo/image.f32 [FRAMES]   (default 6 frames)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_enums.h"

namespace {

int fail(const char* what, const polyhead::Status& status) {
  std::fprintf(stderr, "task_subsets: %s: %s\n", what, status.to_string().c_str());
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

// Every how many frames a task runs.
int frames_per_run(const polyhead::TaskInfo& task) {
  if (task.rate > 1) return task.rate;  // the model's own schedule
  return task.kind == polyhead::TaskKind::kSegmentation ? 3 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: task_subsets MODEL.phm [INPUT.f32 [FRAMES]]\n");
    return 2;
  }
  const int frames = argc == 4 ? std::atoi(argv[3]) : 6;

  auto model = polyhead::Model::load_file(argv[1]);
  if (!model) return fail("load", model.status());
  auto engine = polyhead::Engine::create(*model);
  if (!engine) return fail("create the engine", engine.status());
  // One plan for every task the loop may run: its arena and kernels are made here, once. A plan
  // for a smaller set would need its own prepare(); running a subset of a plan needs none.
  auto plan = engine->prepare();
  if (!plan) return fail("prepare", plan.status());
  const polyhead::PlanInfo info = plan->info();
  std::printf("plan: %zu tasks, %zu nodes for a full pass, arena %zu KiB\n", info.tasks.size(),
              info.nodes, info.arena_bytes / 1024);

  // The schedule, and room for each frame's task names, set up before the loop: run() with plain
  // C strings allocates nothing.
  const std::vector<polyhead::TaskInfo>& tasks = model->tasks();
  for (const polyhead::TaskInfo& task : tasks)
    std::printf("  %-10s every %d frame(s)\n", task.name.c_str(), frames_per_run(task));
  std::vector<const char*> due;
  due.reserve(tasks.size());

  // A camera loop writes each new frame into the input buffers (zero copy) before run(); this
  // example runs the same picture on every frame: the file when given, else zeros.
  for (const polyhead::InputInfo& in : model->inputs()) {
    auto buffer = plan->input_buffer(in.name);
    if (!buffer) return fail("input buffer", buffer.status());
    const size_t count = static_cast<size_t>(in.shape.elements());
    if (argc >= 3 && model->inputs().size() == 1) {
      if (!read_floats(argv[2], *buffer, count)) {
        std::fprintf(stderr, "task_subsets: %s does not hold %zu float32 values\n", argv[2], count);
        return 1;
      }
    } else {
      std::fill(*buffer, *buffer + count, 0.f);
    }
  }

  for (int frame = 0; frame < frames; ++frame) {
    due.clear();  // keeps its capacity
    for (const polyhead::TaskInfo& task : tasks)
      if (frame % frames_per_run(task) == 0) due.push_back(task.name.c_str());

    // Only the due tasks: the backbone nodes they need once, then their heads.
    const auto start = std::chrono::steady_clock::now();
    const polyhead::Status ran = plan->run(due.data(), due.size());
    const auto end = std::chrono::steady_clock::now();
    if (!ran.is_ok()) return fail("run", ran);
    std::printf("frame %d: ran %zu of %zu nodes in %.2f ms:", frame, plan->last_run_nodes(),
                info.nodes, std::chrono::duration<double, std::milli>(end - start).count());

    // Read a task's results on the frames it ran: output() of a task that was not in the last
    // run is an error (its memory may hold other activations by now), so copy what you keep.
    for (const polyhead::TaskInfo& task : tasks) {
      if (frame % frames_per_run(task) != 0) continue;
      auto out = plan->output(task.name, task.outputs.front().name);
      if (!out) return fail("output", out.status());
      std::printf(" %s %s", task.name.c_str(), out->shape.to_string().c_str());
    }
    std::printf("\n");
  }
  return 0;
}
