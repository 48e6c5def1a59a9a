// Three separate models per camera frame — MediaPipe face detection (short range), selfie
// segmentation and pose landmarks (lite), converted from .tflite — in three thread set-ups:
//   1 thread   every engine on its calling thread (the baseline)
//   own pools  2 threads per engine, each engine its own pool (three pools: the old way)
//   shared     2 threads per engine, all engines on ONE polyhead::ThreadPool of 2
// and two ways of running a frame:
//   sequential  one app thread runs the models one after another
//   concurrent  one app thread per model, all started together; the frame ends when all are done
// Every set-up has its own engines and plans (so each one's per-node thread choices are measured
// under its own conditions), warmed up before the rounds; rounds interleave the set-ups
// (interleaved_rounds.h). Reported: the median frame time and each model's median, and the
// per-round ratio against 1 thread in the same mode.
//
//   scripts/fetch_data.sh && build/release/bin/bench_shared_pool [--rounds 15] [--frames 20]
//       [--warmup 30] [--multitask] [--mode sequential|concurrent] [--no-own-pools]
// --multitask adds the bundled MobileNetV2 multi-task model (224x224, the `polyhead demo` model)
// as a fourth, larger model. The data directory is build/data unless POLYHEAD_DATA_DIR says
// otherwise. --mode and --no-own-pools leave set-ups out (for a profiler, or a quicker run: the own
// pools are slow on a busy machine).
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "converters/tflite/tflite_converter.h"
#include "offline/model_zoo/mobilenet_multitask.h"
#include "polyhead/engine.h"
#include "polyhead/thread_pool.h"

#include "interleaved_rounds.h"

namespace {

using polyhead::Engine;
using polyhead::EngineOptions;
using polyhead::Model;
using polyhead::Plan;
using polyhead::Result;
using polyhead::Status;
using polyhead::bench::Clock;
using polyhead::bench::ms_since;

struct NamedModel {
  std::string name;
  Model model;
};

std::string data_dir() {
  const char* env = std::getenv("POLYHEAD_DATA_DIR");
  return env ? env : POLYHEAD_DATA_DIR;
}

Result<Model> convert(const char* file, const char* preset) {
  polyhead::tflite::ConvertOptions options;
  options.preset = preset;
  auto bytes = polyhead::tflite::convert_file(data_dir() + "/" + file, options);
  if (!bytes.is_ok()) return bytes.status();
  return Model::from_bytes(*bytes);
}

Result<std::vector<NamedModel>> load_models(bool multitask) {
  struct Source {
    const char* name;
    const char* file;
    const char* preset;
  };
  const Source sources[] = {
      {"face", "face_detection_short_range.tflite", "mediapipe-face-detection-short"},
      {"selfie", "selfie_segmentation.tflite", "mediapipe-selfie-segmentation"},
      {"pose", "pose_landmark_lite.tflite", "mediapipe-pose-landmark-lite"},
  };
  std::vector<NamedModel> models;
  for (const Source& s : sources) {
    auto m = convert(s.file, s.preset);
    if (!m.is_ok())
      return Status(m.status().code(), std::string(s.file) + " (run scripts/fetch_data.sh?): " +
                                           m.status().to_string());
    models.push_back({s.name, *m});
  }
  if (multitask) {
    auto bytes = polyhead::zoo::build_mobilenet_multitask();
    if (!bytes.is_ok()) return bytes.status();
    auto m = Model::from_bytes(*bytes);
    if (!m.is_ok()) return m.status();
    models.push_back({"multitask", *m});
  }
  return models;
}

enum class Setup { kOneThread, kOwnPools, kSharedPool };
const char* const kSetupNames[] = {"1 thread", "2 threads, own pools",
                                   "2 threads, one shared pool"};
const Setup kSetups[] = {Setup::kOneThread, Setup::kOwnPools, Setup::kSharedPool};
constexpr size_t kSetupCount = 3;

enum Mode { kSequential, kConcurrent, kModeCount };
const char* const kModeNames[] = {"sequential", "concurrent"};

// Starts every model's run at once, one app thread per model, and waits for all of them: a frame
// of the concurrent mode. The threads sleep on a condition variable between frames.
class FrameGang {
 public:
  explicit FrameGang(std::vector<std::function<void()>> jobs) : jobs_(std::move(jobs)) {
    for (size_t i = 0; i < jobs_.size(); ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~FrameGang() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void run_frame() {
    std::unique_lock<std::mutex> lock(mutex_);
    pending_ = jobs_.size();
    ++frame_;
    start_.notify_all();
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void loop(size_t i) {
    size_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] { return stop_ || frame_ != seen; });
        if (stop_) return;
        seen = frame_;
      }
      jobs_[i]();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
  std::vector<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  size_t frame_ = 0, pending_ = 0;
  bool stop_ = false;
};

// One set-up in one mode: its engines, plans, and the times of its frames.
struct Runner {
  Setup setup;
  Mode mode;
  polyhead::ThreadPool pool;  // the shared one, for Setup::kSharedPool
  std::vector<Engine> engines;
  std::vector<Plan> plans;
  std::vector<double> last_model_ms;  // per model, written by the thread that ran it
  std::unique_ptr<FrameGang> gang;    // kConcurrent
  std::vector<Status> errors;         // per model, written by the thread that ran it
  // Samples: per frame, and per model per frame; per round, the frame median.
  std::vector<double> frame_ms;
  std::vector<std::vector<double>> model_ms;
  std::vector<double> round_median_ms;

  void run_model(size_t i) {
    const auto start = Clock::now();
    Status s = plans[i].run();
    last_model_ms[i] = ms_since(start);
    if (!s.is_ok()) errors[i] = s;  // reported after the rounds
  }

  // One frame; its total and per-model times are recorded when `record`.
  void frame(bool record) {
    const auto start = Clock::now();
    if (mode == kSequential)
      for (size_t i = 0; i < plans.size(); ++i) run_model(i);
    else
      gang->run_frame();
    const double ms = ms_since(start);
    if (!record) return;
    frame_ms.push_back(ms);
    for (size_t i = 0; i < plans.size(); ++i) model_ms[i].push_back(last_model_ms[i]);
  }
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

Result<std::unique_ptr<Runner>> make_runner(const std::vector<NamedModel>& models, Setup setup,
                                            Mode mode) {
  auto r = std::make_unique<Runner>();
  r->setup = setup;
  r->mode = mode;
  if (setup == Setup::kSharedPool) {
    auto pool = polyhead::ThreadPool::create(2);
    if (!pool.is_ok()) return pool.status();
    r->pool = *pool;
  }
  for (const NamedModel& m : models) {
    EngineOptions options;
    options.threads = setup == Setup::kOneThread ? 1 : 2;
    if (setup == Setup::kSharedPool) options.thread_pool = r->pool;
    auto engine = Engine::create(m.model, options);
    if (!engine.is_ok()) return engine.status();
    r->engines.push_back(*engine);
  }
  for (size_t i = 0; i < models.size(); ++i) {
    auto plan = r->engines[i].prepare({});
    if (!plan.is_ok()) return plan.status();
    PH_RETURN_IF_ERROR(fill_inputs(models[i].model, *plan));
    r->plans.push_back(*plan);
  }
  r->last_model_ms.assign(models.size(), 0);
  r->errors.assign(models.size(), Status::ok());
  r->model_ms.resize(models.size());
  if (mode == kConcurrent) {
    std::vector<std::function<void()>> jobs;
    Runner* self = r.get();
    for (size_t i = 0; i < models.size(); ++i) jobs.push_back([self, i] { self->run_model(i); });
    r->gang = std::make_unique<FrameGang>(std::move(jobs));
  }
  return r;
}

// Per-model ratio of pooled medians, "0.93".
std::string ratio_text(double value, double baseline) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", baseline > 0 ? value / baseline : 0.0);
  return buf;
}

void print_mode(Mode mode, const std::vector<NamedModel>& models,
                const std::vector<std::unique_ptr<Runner>>& runners) {
  const Runner& base = *runners[mode * kSetupCount + 0];
  std::printf("\n### %s (%s)\n\n", kModeNames[mode],
              mode == kSequential ? "one app thread runs the models one after another"
                                  : "one app thread per model, started together");
  std::printf(
      "| set-up | frame ms (median) | frame / 1 thread: median (p25–p75; min–max of rounds) |");
  for (const NamedModel& m : models) std::printf(" %s ms (× 1 thread) |", m.name.c_str());
  std::printf("\n|---|---|---|");
  for (size_t i = 0; i < models.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (size_t s = 0; s < kSetupCount; ++s) {
    if (!runners[mode * kSetupCount + s]) continue;
    const Runner& r = *runners[mode * kSetupCount + s];
    std::vector<double> ratios;
    for (size_t k = 0; k < r.round_median_ms.size(); ++k)
      ratios.push_back(r.round_median_ms[k] / base.round_median_ms[k]);
    const polyhead::bench::Spread sp = polyhead::bench::spread_of(ratios);
    std::printf("| %s | %.2f | ", kSetupNames[s], polyhead::bench::median(r.frame_ms));
    if (s == 0)
      std::printf("1 (baseline) |");
    else
      std::printf("**%.2f** (%.2f–%.2f; %.2f–%.2f)%s |", sp.median, sp.p25, sp.p75, sp.min, sp.max,
                  sp.within_noise() ? " within noise" : "");
    for (size_t i = 0; i < models.size(); ++i) {
      const double med = polyhead::bench::median(r.model_ms[i]);
      std::printf(" %.2f (%s) |", med,
                  ratio_text(med, polyhead::bench::median(base.model_ms[i])).c_str());
    }
    std::printf("\n");
  }
}

// Which nodes each plan's per-node measurement sent to the calling thread alone: with contention
// a pooled node loses more often, so this is the first thing to look at when a set-up is slow.
void print_thread_choices(const std::vector<NamedModel>& models,
                          const std::vector<std::unique_ptr<Runner>>& runners) {
  std::printf(
      "\nnodes on the calling thread alone / nodes measured, per model (2-thread set-ups)\n\n");
  std::printf("| mode | set-up |");
  for (const NamedModel& m : models) std::printf(" %s |", m.name.c_str());
  std::printf("\n|---|---|");
  for (size_t i = 0; i < models.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const auto& r : runners) {
    if (!r || r->setup == Setup::kOneThread) continue;
    std::printf("| %s | %s |", kModeNames[r->mode], kSetupNames[static_cast<size_t>(r->setup)]);
    for (const Plan& p : r->plans) {
      const polyhead::PlanInfo info = p.info();
      std::printf(" %zu / %zu |", info.nodes_on_calling_thread, info.nodes_with_thread_choice);
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long rounds = polyhead::bench::option_value(argc, argv, "--rounds", 15);
  const long frames = polyhead::bench::option_value(argc, argv, "--frames", 20);
  const long warmup = polyhead::bench::option_value(argc, argv, "--warmup", 30);
  const bool multitask = polyhead::bench::has_flag(argc, argv, "--multitask");
  const bool own_pools = !polyhead::bench::has_flag(argc, argv, "--no-own-pools");
  const std::string only_mode = polyhead::bench::option_text(argc, argv, "--mode", "");
  auto wanted_mode = [&](int mode) { return only_mode.empty() || only_mode == kModeNames[mode]; };
  if (rounds < 1 || frames < 1 || warmup < 0) {
    std::fprintf(stderr, "bench_shared_pool: --rounds and --frames must be at least 1\n");
    return 2;
  }
  auto models = load_models(multitask);
  if (!models.is_ok()) {
    std::fprintf(stderr, "bench_shared_pool: %s\n", models.status().to_string().c_str());
    return 1;
  }

  // Index mode * kSetupCount + setup.
  std::vector<std::unique_ptr<Runner>> runners;
  for (int mode = 0; mode < kModeCount; ++mode)
    for (Setup setup : kSetups) {
      if (!wanted_mode(mode) || (setup == Setup::kOwnPools && !own_pools)) {
        runners.push_back(nullptr);
        continue;
      }
      auto r = make_runner(*models, setup, static_cast<Mode>(mode));
      if (!r.is_ok()) {
        std::fprintf(stderr, "bench_shared_pool: %s\n", r.status().to_string().c_str());
        return 1;
      }
      runners.push_back(std::move(*r));
    }
  // Warm-up: caches, and each plan's per-node thread choice (about seven runs), made under the
  // conditions of its own set-up and mode.
  for (auto& r : runners)
    for (long f = 0; r && f < warmup; ++f) r->frame(false);

  for (long round = 0; round < rounds; ++round)
    for (int mode = 0; mode < kModeCount; ++mode)
      for (size_t s : polyhead::bench::round_order(kSetupCount, static_cast<size_t>(round))) {
        if (!runners[static_cast<size_t>(mode) * kSetupCount + s]) continue;
        Runner& r = *runners[static_cast<size_t>(mode) * kSetupCount + s];
        const size_t first = r.frame_ms.size();
        for (long f = 0; f < frames; ++f) r.frame(true);
        r.round_median_ms.push_back(polyhead::bench::median(
            std::vector<double>(r.frame_ms.begin() + static_cast<long>(first), r.frame_ms.end())));
      }
  for (const auto& r : runners)
    for (const Status& error : r ? r->errors : std::vector<Status>{})
      if (!error.is_ok()) {
        std::fprintf(stderr, "bench_shared_pool: %s\n", error.to_string().c_str());
        return 1;
      }

  std::printf("%zu models (", models->size());
  for (size_t i = 0; i < models->size(); ++i)
    std::printf("%s%s", i ? ", " : "", (*models)[i].name.c_str());
  std::printf("), %ld rounds x %ld frames per set-up, set-ups interleaved; %u logical processors\n",
              rounds, frames, std::thread::hardware_concurrency());
  for (int mode = 0; mode < kModeCount; ++mode)
    print_mode(static_cast<Mode>(mode), *models, runners);
  print_thread_choices(*models, runners);
  return 0;
}
