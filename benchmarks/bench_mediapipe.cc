// The MediaPipe models converted from .tflite: each model's latency at 1 and 2 threads, and the
// pose model with all five tasks against landmarks only (the saving from skipping heads).
//
//   scripts/fetch_data.sh && build/release/bin/bench_mediapipe
// The data directory is build/data unless POLYHEAD_DATA_DIR says otherwise.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "polyhead/engine.h"

namespace {

struct ModelCase {
  const char* file;
  const char* preset;
};

const ModelCase kModels[] = {
    {"face_detection_short_range.tflite", "mediapipe-face-detection-short"},
    {"selfie_segmentation.tflite", "mediapipe-selfie-segmentation"},
    {"pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite"},
};

std::string data_dir() {
  const char* env = std::getenv("POLYHEAD_DATA_DIR");
  return env ? env : POLYHEAD_DATA_DIR;
}

// Converted once per process.
const polyhead::Result<polyhead::Model>& model(size_t index) {
  static std::map<size_t, polyhead::Result<polyhead::Model>> cache;
  auto it = cache.find(index);
  if (it == cache.end()) {
    polyhead::tflite::ConvertOptions options;
    options.preset = kModels[index].preset;
    auto bytes = polyhead::tflite::convert_file(data_dir() + "/" + kModels[index].file, options);
    it = cache
             .emplace(index, bytes.is_ok() ? polyhead::Model::from_bytes(*bytes)
                                           : polyhead::Result<polyhead::Model>(bytes.status()))
             .first;
  }
  return it->second;
}

void run_model(benchmark::State& state, size_t index, size_t threads,
               const std::vector<std::string>& tasks) {
  const auto& m = model(index);
  if (!m.is_ok()) {
    state.SkipWithError(("run scripts/fetch_data.sh? " + m.status().to_string()).c_str());
    return;
  }
  polyhead::EngineOptions options;
  options.threads = threads;
  auto engine = polyhead::Engine::create(*m, options);
  auto plan =
      engine.is_ok() ? engine->prepare(tasks) : polyhead::Result<polyhead::Plan>(engine.status());
  if (!plan.is_ok()) {
    state.SkipWithError(plan.status().to_string().c_str());
    return;
  }
  for (const polyhead::InputInfo& in : m->inputs()) {
    std::vector<float> values(static_cast<size_t>(in.shape.elements()));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = 0.5f + 0.4f * std::sin(0.01f * static_cast<float>(i));
    if (!plan->set_input(in.name, values.data(), values.size()).is_ok()) {
      state.SkipWithError("set_input failed");
      return;
    }
  }
  for (auto _ : state) {
    if (!plan->run().is_ok()) {
      state.SkipWithError("run failed");
      return;
    }
  }
  state.counters["nodes"] = static_cast<double>(plan->last_run_nodes());
}

void BM_Model(benchmark::State& state) {
  const auto index = static_cast<size_t>(state.range(0));
  state.SetLabel(kModels[index].file);
  run_model(state, index, static_cast<size_t>(state.range(1)), {});
}

void BM_PoseLandmarksOnly(benchmark::State& state) {
  state.SetLabel("pose_landmark_lite.tflite, task landmarks");
  run_model(state, 2, static_cast<size_t>(state.range(0)), {"landmarks"});
}

}  // namespace

BENCHMARK(BM_Model)
    ->ArgsProduct({{0, 1, 2}, {1, 2}})
    ->ArgNames({"model", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);
BENCHMARK(BM_PoseLandmarksOnly)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

BENCHMARK_MAIN();
