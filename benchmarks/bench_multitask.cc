// One multi-task pass against each task on its own, on the default MobileNetV2 multi-task model
// (224x224, width 1.0), one thread. The claim under test: a pass over several tasks costs about
// one backbone plus the heads, far less than running the tasks one after another.
//
//   bench_multitask --benchmark_repetitions=5   (medians are reported by default)
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "offline/model_zoo/mobilenet_multitask.h"
#include "polyhead/engine.h"

namespace {

using polyhead::Engine;
using polyhead::Model;
using polyhead::Plan;

const std::vector<std::string> kTasks = {"classify", "segment", "detect"};

// The model is built once per process and loaded from memory.
struct Fixture {
  std::unique_ptr<Model> model;
  std::vector<float> image;
  std::string error;

  Fixture() {
    auto built = polyhead::zoo::build_mobilenet_multitask();
    if (!built.is_ok()) {
      error = built.status().to_string();
      return;
    }
    auto loaded = Model::from_bytes(*built);
    if (!loaded.is_ok()) {
      error = loaded.status().to_string();
      return;
    }
    model = std::make_unique<Model>(*loaded);
    image.resize(static_cast<size_t>(model->inputs()[0].shape.elements()));
    for (size_t i = 0; i < image.size(); ++i) image[i] = std::sin(0.001f * static_cast<float>(i));
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// Prepared plans for the given task sets on one single-threaded engine (weights packed once).
struct Plans {
  std::unique_ptr<Engine> engine;
  std::vector<Plan> plans;
};

bool prepare(benchmark::State& state, const std::vector<std::vector<std::string>>& task_sets,
             Plans& out) {
  const Fixture& f = fixture();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return false;
  }
  polyhead::EngineOptions options;
  options.threads = 1;
  auto engine = Engine::create(*f.model, options);
  if (!engine.is_ok()) {
    state.SkipWithError(engine.status().to_string().c_str());
    return false;
  }
  out.engine = std::make_unique<Engine>(*engine);
  for (const auto& tasks : task_sets) {
    auto plan = out.engine->prepare(tasks);
    if (!plan.is_ok()) {
      state.SkipWithError(plan.status().to_string().c_str());
      return false;
    }
    out.plans.push_back(*plan);
  }
  return true;
}

// One frame: every plan gets the image and runs once. Setting the input is part of the frame
// cost, so running three plans pays for three copies as it would in an application.
bool run_frame(benchmark::State& state, Plans& p) {
  const Fixture& f = fixture();
  for (Plan& plan : p.plans) {
    polyhead::Status s = plan.set_input("image", f.image.data(), f.image.size());
    if (s.is_ok()) s = plan.run();
    if (!s.is_ok()) {
      state.SkipWithError(s.to_string().c_str());
      return false;
    }
  }
  return true;
}

void BM_OnePass_AllTasks(benchmark::State& state) {
  Plans p;
  if (!prepare(state, {kTasks}, p)) return;
  for (auto _ : state)
    if (!run_frame(state, p)) break;
}

void BM_TaskAlone(benchmark::State& state) {
  const std::string& task = kTasks[static_cast<size_t>(state.range(0))];
  state.SetLabel(task);
  Plans p;
  if (!prepare(state, {{task}}, p)) return;
  for (auto _ : state)
    if (!run_frame(state, p)) break;
}

void BM_Sequential_ThreeSingleTaskPlans(benchmark::State& state) {
  Plans p;
  if (!prepare(state, {{kTasks[0]}, {kTasks[1]}, {kTasks[2]}}, p)) return;
  for (auto _ : state)
    if (!run_frame(state, p)) break;
}

BENCHMARK(BM_OnePass_AllTasks)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(BM_TaskAlone)
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(BM_Sequential_ThreeSingleTaskPlans)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
