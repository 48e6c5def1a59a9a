// Heads in parallel (EngineOptions::parallel_heads): a model's heads run at the same time, one per
// pool thread, after the shared nodes, against one after another with each node parallelised
// inside. Every task of the model in one pass, at 2 threads with ParallelHeads::kNever (the
// baseline), kAlways and kAuto, and at 1 thread for reference; set-ups interleaved in one run
// (interleaved_rounds.h), medians, and each plan's arena (heads in parallel keep their tensors
// apart, so the arena may grow).
//
// Models: the bundled MobileNetV2 multi-task model (224x224, the `polyhead demo` model: classify,
// segment, detect), and MediaPipe's pose landmark lite (five tasks) when build/data has it.
//
//   build/release/bin/bench_parallel_heads [--rounds 15] [--runs 20] [--warmup 30]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "offline/model_zoo/mobilenet_multitask.h"
#include "polyhead/engine.h"

#include "interleaved_rounds.h"

namespace {

using polyhead::Engine;
using polyhead::EngineOptions;
using polyhead::Model;
using polyhead::ParallelHeads;
using polyhead::Plan;
using polyhead::Result;
using polyhead::Status;
using polyhead::bench::Clock;
using polyhead::bench::ms_since;

struct SetupCase {
  const char* name;
  size_t threads;
  ParallelHeads heads;
};
// The first 2-thread set-up, kNever, is the baseline of the ratios.
const SetupCase kSetups[] = {
    {"2 threads, never (heads one after another)", 2, ParallelHeads::kNever},
    {"2 threads, always (heads in parallel)", 2, ParallelHeads::kAlways},
    {"2 threads, auto (measured choice)", 2, ParallelHeads::kAuto},
    {"1 thread (reference)", 1, ParallelHeads::kAuto},
};
constexpr size_t kSetupCount = sizeof(kSetups) / sizeof(kSetups[0]);

struct Runner {
  Engine engine;
  Plan plan;
  std::vector<double> run_ms;
  std::vector<double> round_median_ms;
};

Status fill_inputs(const Model& model, Plan& plan) {
  for (const polyhead::InputInfo& in : model.inputs()) {
    std::vector<float> values(static_cast<size_t>(in.shape.elements()));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = 0.5f + 0.4f * std::sin(0.01f * static_cast<float>(i));
    PH_RETURN_IF_ERROR(plan.set_input(in.name, values.data(), values.size()));
  }
  return Status::ok();
}

Result<std::unique_ptr<Runner>> make_runner(const Model& model, const SetupCase& setup) {
  EngineOptions options;
  options.threads = setup.threads;
  options.parallel_heads = setup.heads;
  auto engine = Engine::create(model, options);
  if (!engine.is_ok()) return engine.status();
  auto plan = engine->prepare({});
  if (!plan.is_ok()) return plan.status();
  PH_RETURN_IF_ERROR(fill_inputs(model, *plan));
  return std::unique_ptr<Runner>(new Runner{*engine, *plan, {}, {}});
}

Status bench_model(const std::string& name, const Model& model, long rounds, long runs,
                   long warmup) {
  std::vector<std::unique_ptr<Runner>> runners;
  for (const SetupCase& s : kSetups) {
    auto r = make_runner(model, s);
    if (!r.is_ok()) return r.status();
    runners.push_back(std::move(*r));
  }
  // Warm-up: per-node thread choices (about seven runs), then kAuto's head measurement.
  for (auto& r : runners)
    for (long i = 0; i < warmup; ++i) PH_RETURN_IF_ERROR(r->plan.run());
  for (long round = 0; round < rounds; ++round)
    for (size_t s : polyhead::bench::round_order(kSetupCount, static_cast<size_t>(round))) {
      Runner& r = *runners[s];
      std::vector<double> ms;
      for (long i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        PH_RETURN_IF_ERROR(r.plan.run());
        ms.push_back(ms_since(start));
      }
      r.run_ms.insert(r.run_ms.end(), ms.begin(), ms.end());
      r.round_median_ms.push_back(polyhead::bench::median(ms));
    }

  const polyhead::PlanInfo base_info = runners[0]->plan.info();
  std::printf(
      "\n### %s: %s, %zu nodes\n\n", name.c_str(),
      [&] {
        std::string t;
        for (const std::string& task : base_info.tasks) t += (t.empty() ? "" : ", ") + task;
        return t;
      }()
          .c_str(),
      base_info.nodes);
  std::printf(
      "| set-up | pass ms (median) | / never: median (p25–p75; min–max of rounds) | head groups "
      "| heads in parallel | nodes on calling thread | arena |\n|---|---|---|---|---|---|---|\n");
  for (size_t s = 0; s < kSetupCount; ++s) {
    const Runner& r = *runners[s];
    std::vector<double> ratios;
    for (size_t k = 0; k < r.round_median_ms.size(); ++k)
      ratios.push_back(r.round_median_ms[k] / runners[0]->round_median_ms[k]);
    const polyhead::bench::Spread sp = polyhead::bench::spread_of(ratios);
    const polyhead::PlanInfo info = r.plan.info();
    std::printf("| %s | %.2f | ", kSetups[s].name, polyhead::bench::median(r.run_ms));
    if (s == 0)
      std::printf("1 (baseline) |");
    else
      std::printf("**%.2f** (%.2f–%.2f; %.2f–%.2f)%s |", sp.median, sp.p25, sp.p75, sp.min, sp.max,
                  sp.within_noise() ? " within noise" : "");
    std::printf(" %zu | %s | %zu / %zu | %.2f MiB (bound %.2f MiB) |\n", info.parallel_head_groups,
                info.heads_in_parallel ? "yes" : "no", info.nodes_on_calling_thread,
                info.nodes_with_thread_choice, static_cast<double>(info.arena_bytes) / 1048576.0,
                static_cast<double>(info.arena_lower_bound_bytes) / 1048576.0);
  }
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  const long rounds = polyhead::bench::option_value(argc, argv, "--rounds", 15);
  const long runs = polyhead::bench::option_value(argc, argv, "--runs", 20);
  const long warmup = polyhead::bench::option_value(argc, argv, "--warmup", 30);
  if (rounds < 1 || runs < 1 || warmup < 0) {
    std::fprintf(stderr, "bench_parallel_heads: --rounds and --runs must be at least 1\n");
    return 2;
  }
  std::printf("%ld rounds x %ld runs per set-up, set-ups interleaved; %u logical processors\n",
              rounds, runs, std::thread::hardware_concurrency());

  auto bytes = polyhead::zoo::build_mobilenet_multitask();
  auto multitask = bytes.is_ok() ? Model::from_bytes(*bytes) : Result<Model>(bytes.status());
  Status s = multitask.is_ok()
                 ? bench_model("multitask (bundled, 224x224)", *multitask, rounds, runs, warmup)
                 : multitask.status();
  if (!s.is_ok()) {
    std::fprintf(stderr, "bench_parallel_heads: %s\n", s.to_string().c_str());
    return 1;
  }

  const char* env = std::getenv("POLYHEAD_DATA_DIR");
  polyhead::tflite::ConvertOptions options;
  options.preset = "mediapipe-pose-landmark-lite";
  auto pose_bytes = polyhead::tflite::convert_file(
      std::string(env ? env : POLYHEAD_DATA_DIR) + "/pose_landmark_lite.tflite", options);
  if (!pose_bytes.is_ok()) {
    std::printf("\n(pose_landmark_lite skipped: %s; run scripts/fetch_data.sh)\n",
                pose_bytes.status().to_string().c_str());
    return 0;
  }
  auto pose = Model::from_bytes(*pose_bytes);
  s = pose.is_ok() ? bench_model("pose_landmark_lite (MediaPipe)", *pose, rounds, runs, warmup)
                   : pose.status();
  if (!s.is_ok()) {
    std::fprintf(stderr, "bench_parallel_heads: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
