// What may run concurrently, stressed from several threads: engines on one shared model (each with
// its own pool, and all on one shared ThreadPool), plan switching and plan-cache eviction, heads
// in parallel next to other engines on the pool, a frame scheduler per thread, the C API (its
// per-thread error messages included) and model loading. Every thread's outputs must be
// bit-identical to a single-threaded run: that is what covers the work ThreadSanitizer cannot see
// inside XNNPACK and pthreadpool (docs/reliability.md, "ThreadSanitizer"). The iteration counts
// keep a run to seconds in release and well under a minute under ThreadSanitizer on two cores;
// nothing here measures time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/frame_scheduler.h"
#include "polyhead/polyhead_c.h"
#include "support/test_files.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

constexpr size_t kThreads = 4;

using Bytes = std::vector<uint8_t>;

// The outputs of `tasks` (empty = every task) from the plan's last run, as bytes, task after task
// in model order: equal bytes are bit-identical values.
Bytes outputs_of(const Model& model, const Plan& plan, const std::vector<std::string>& tasks) {
  Bytes all;
  for (const TaskInfo& t : model.tasks()) {
    if (!tasks.empty() && std::find(tasks.begin(), tasks.end(), t.name) == tasks.end()) continue;
    for (const auto& o : t.outputs) {
      auto v = plan.output(t.name, o.name);
      if (!v.is_ok()) return {};
      const auto* p = reinterpret_cast<const uint8_t*>(v->f32());
      all.insert(all.end(), p, p + v->shape.elements() * sizeof(float));
    }
  }
  return all;
}

// Sets the inputs the plan's tasks read, from `seed`.
Status set_inputs(const Model& model, Plan& plan, uint32_t seed) {
  const std::vector<std::string> names = plan.input_names();
  for (const InputInfo& in : model.inputs()) {
    if (std::find(names.begin(), names.end(), in.name) == names.end()) continue;
    const auto values = testing::random_values(static_cast<size_t>(in.shape.elements()), seed, 1.f);
    PH_RETURN_IF_ERROR(plan.set_input(in.name, values.data(), values.size()));
  }
  return Status::ok();
}

// The task subsets the tests switch between: every task, each alone, and each pair.
std::vector<std::vector<std::string>> task_subsets(const Model& model) {
  std::vector<std::vector<std::string>> subsets = {{}};
  const auto& tasks = model.tasks();
  for (const TaskInfo& t : tasks) subsets.push_back({t.name});
  for (size_t a = 0; a < tasks.size(); ++a)
    for (size_t b = a + 1; b < tasks.size(); ++b) subsets.push_back({tasks[a].name, tasks[b].name});
  return subsets;
}

// Expected outputs per (seed, subset) from one single-threaded engine, one node after another.
struct Reference {
  std::vector<std::vector<std::string>> subsets;
  std::vector<std::vector<Bytes>> outputs;  // [seed][subset]

  const Bytes& of(uint32_t seed, size_t subset) const { return outputs.at(seed).at(subset); }
};

Reference make_reference(const Model& model, uint32_t seeds) {
  Reference ref;
  ref.subsets = task_subsets(model);
  EngineOptions o;
  o.parallel_heads = ParallelHeads::kNever;
  auto engine = Engine::create(model, o);
  REQUIRE(engine.is_ok());
  for (uint32_t seed = 0; seed < seeds; ++seed) {
    ref.outputs.emplace_back();
    for (const auto& subset : ref.subsets) {
      auto plan = engine->prepare(subset);
      REQUIRE(plan.is_ok());
      REQUIRE(set_inputs(model, *plan, seed).is_ok());
      REQUIRE(plan->run().is_ok());
      ref.outputs.back().push_back(outputs_of(model, *plan, subset));
      REQUIRE_FALSE(ref.outputs.back().back().empty());
    }
  }
  return ref;
}

// Runs body(i) on `count` threads at once (released together) and returns what each reported:
// "" for success, else what went wrong. Catch2 assertions stay on the calling thread.
std::vector<std::string> on_threads(size_t count, const std::function<std::string(size_t)>& body) {
  std::vector<std::string> reports(count);
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < count; ++i)
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < count) std::this_thread::yield();
      reports[i] = body(i);
    });
  for (auto& t : threads) t.join();
  return reports;
}

std::string mismatch(size_t thread, int iteration, const std::string& what) {
  return "thread " + std::to_string(thread) + ", iteration " + std::to_string(iteration) + ": " +
         what;
}

// `iterations` runs of every subset in turn on one plan per subset of `engine`, seeds alternating
// per thread; "" when every output matched the reference.
std::string run_subsets(const Model& model, Engine& engine, const Reference& ref, size_t thread,
                        int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const uint32_t seed = static_cast<uint32_t>((thread + static_cast<size_t>(it)) % 2);
    for (size_t s = 0; s < ref.subsets.size(); ++s) {
      auto plan = engine.prepare(ref.subsets[s]);
      if (!plan.is_ok()) return mismatch(thread, it, plan.status().message());
      Status st = set_inputs(model, *plan, seed);
      if (st.is_ok()) st = plan->run();
      if (!st.is_ok()) return mismatch(thread, it, st.message());
      if (outputs_of(model, *plan, ref.subsets[s]) != ref.of(seed, s))
        return mismatch(thread, it, "outputs differ for subset " + std::to_string(s));
    }
  }
  return "";
}

const std::vector<std::string> kAllClear(kThreads, "");

}  // namespace

TEST_CASE("engines on one model in several threads, each with its own pool: bit-identical") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  const Reference ref = make_reference(*model, 2);
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    EngineOptions o;
    o.threads = 2;                       // a pool of the engine's own
    o.choose_threads_per_node = i != 2;  // one engine keeps every node on its pool
    o.parallel_heads = i % 2 ? ParallelHeads::kAlways : ParallelHeads::kAuto;
    auto engine = Engine::create(*model, o);
    if (!engine.is_ok()) return engine.status().message();
    // Fewer rounds than on the shared pool: with four pools on a small machine the spinning
    // workers of one pool keep the others waiting for a core (slow, not wrong).
    return run_subsets(*model, *engine, ref, i, 3);
  });
  CHECK(reports == kAllClear);
}

TEST_CASE("engines on one model share one pool from several threads: bit-identical") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  const Reference ref = make_reference(*model, 2);
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    EngineOptions o;
    o.thread_pool = *pool;
    o.choose_threads_per_node = i != 2;  // one engine keeps every node on the pool
    o.parallel_heads = i % 2 ? ParallelHeads::kAlways : ParallelHeads::kAuto;
    auto engine = Engine::create(*model, o);
    if (!engine.is_ok()) return engine.status().message();
    return run_subsets(*model, *engine, ref, i, 6);
  });
  CHECK(reports == kAllClear);
}

TEST_CASE("heads in parallel on a shared pool while other engines run on it: bit-identical") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  const Reference ref = make_reference(*model, 2);
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    // Two engines on the shared pool run their heads in parallel whenever they are alone on it;
    // two with pools of their own always do, on workers of their own, while the others run.
    EngineOptions o;
    if (i % 2)
      o.thread_pool = *pool;
    else
      o.threads = 2;
    o.parallel_heads = ParallelHeads::kAlways;
    auto engine = Engine::create(*model, o);
    if (!engine.is_ok()) return engine.status().message();
    auto plan = engine->prepare();
    if (!plan.is_ok()) return plan.status().message();
    if (!plan->heads_in_parallel()) return "thread " + std::to_string(i) + ": heads in turn";
    for (int it = 0; it < 12; ++it) {
      const uint32_t seed = static_cast<uint32_t>((i + static_cast<size_t>(it)) % 2);
      Status st = set_inputs(*model, *plan, seed);
      if (st.is_ok()) st = plan->run();
      if (!st.is_ok()) return mismatch(i, it, st.message());
      if (outputs_of(*model, *plan, {}) != ref.of(seed, 0)) return mismatch(i, it, "outputs");
    }
    return "";
  });
  CHECK(reports == kAllClear);
}

TEST_CASE("plan switching and plan-cache eviction while other threads run: bit-identical") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  const Reference ref = make_reference(*model, 2);
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    EngineOptions o;
    if (i < 2) o.thread_pool = *pool;  // two engines on the shared pool, one with its own, one none
    if (i == 2) o.threads = 2;
    o.plan_cache_capacity = 1 + i % 2;  // fewer slots than subsets: every prepare evicts
    o.parallel_heads = i % 2 ? ParallelHeads::kAlways : ParallelHeads::kAuto;
    auto engine = Engine::create(*model, o);
    if (!engine.is_ok()) return engine.status().message();
    // One plan of every task, run for one subset after another (its kernels re-pointed each time
    // the evicted plans used them), between plans of other subsets prepared afresh.
    auto whole = engine->prepare();
    if (!whole.is_ok()) return whole.status().message();
    for (int it = 0; it < 4; ++it) {
      const uint32_t seed = static_cast<uint32_t>((i + static_cast<size_t>(it)) % 2);
      if (Status st = set_inputs(*model, *whole, seed); !st.is_ok()) return st.message();
      for (size_t s = 0; s < ref.subsets.size(); ++s) {
        if (Status st = whole->run(ref.subsets[s]); !st.is_ok())
          return mismatch(i, it, st.message());
        if (outputs_of(*model, *whole, ref.subsets[s]) != ref.of(seed, s))
          return mismatch(i, it, "whole plan, subset " + std::to_string(s));
        const size_t other = (s + 1 + i) % ref.subsets.size();
        auto plan = engine->prepare(ref.subsets[other]);
        if (!plan.is_ok()) return plan.status().message();
        Status st = set_inputs(*model, *plan, seed);
        if (st.is_ok()) st = plan->run();
        if (!st.is_ok()) return mismatch(i, it, st.message());
        if (outputs_of(*model, *plan, ref.subsets[other]) != ref.of(seed, other))
          return mismatch(i, it, "subset plan " + std::to_string(other));
      }
    }
    return "";
  });
  CHECK(reports == kAllClear);
}

TEST_CASE("a frame scheduler per thread, engines on one shared pool: bit-identical") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  const Reference ref = make_reference(*model, 2);
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    EngineOptions o;
    o.thread_pool = *pool;
    o.parallel_heads = i % 2 ? ParallelHeads::kAlways : ParallelHeads::kAuto;
    auto engine = Engine::create(*model, o);
    if (!engine.is_ok()) return engine.status().message();
    auto plan = engine->prepare();
    if (!plan.is_ok()) return plan.status().message();
    const uint32_t seed = static_cast<uint32_t>(i % 2);
    if (Status st = set_inputs(*model, *plan, seed); !st.is_ok()) return st.message();
    // Task k runs every (k + 1)th frame; a clock of this thread's own, 1 ms per reading.
    std::vector<TaskSchedule> schedule;
    for (size_t k = 0; k < model->tasks().size(); ++k)
      schedule.emplace_back(model->tasks()[k].name, static_cast<uint32_t>(k + 1));
    SchedulerOptions so;
    auto now = std::make_shared<uint64_t>(0);
    so.clock = [now] { return *now += 1000000; };
    auto scheduler = FrameScheduler::create({{"thread" + std::to_string(i), *plan, schedule}}, so);
    if (!scheduler.is_ok()) return scheduler.status().message();
    for (int frame = 0; frame < 12; ++frame) {
      auto outcome = scheduler->run_frame();
      if (!outcome.is_ok()) return mismatch(i, frame, outcome.status().message());
      for (size_t k = 0; k < model->tasks().size(); ++k) {
        const bool due = frame % static_cast<int>(k + 1) == 0;
        if ((*outcome)->ran(0, k) != due) return mismatch(i, frame, "task " + std::to_string(k));
        if (!due) continue;
        const std::vector<std::string> task = {model->tasks()[k].name};
        if (outputs_of(*model, scheduler->plan(0), task) != ref.of(seed, 1 + k))
          return mismatch(i, frame, "outputs of task " + std::to_string(k));
      }
    }
    return "";
  });
  CHECK(reports == kAllClear);
}

namespace {

// The C API's outputs of every task of `plan`, as bytes in model order (empty on an error).
Bytes c_outputs(const ph_model* model, const ph_plan* plan) {
  Bytes all;
  for (size_t t = 0; t < ph_model_task_count(model); ++t) {
    const char* task = ph_model_task_name(model, t);
    for (size_t o = 0; o < ph_model_task_output_count(model, t); ++o) {
      ph_tensor out;
      if (ph_plan_output(plan, task, ph_model_task_output_name(model, t, o), &out) != PH_OK)
        return {};
      size_t elements = 1;
      for (size_t d = 0; d < out.rank; ++d) elements *= static_cast<size_t>(out.dims[d]);
      const auto* p = static_cast<const uint8_t*>(out.data);
      all.insert(all.end(), p, p + elements * ph_element_size(out.type));
    }
  }
  return all;
}

std::string c_error(size_t thread, const char* what) {
  return "thread " + std::to_string(thread) + ", " + what + ": " + ph_last_error();
}

}  // namespace

TEST_CASE("the C API from several threads: one shared model, outputs and error messages") {
  const Bytes file = testing::every_operator_model();
  ph_model* model = nullptr;
  REQUIRE(ph_model_from_bytes(file.data(), file.size(), &model) == PH_OK);
  auto cpp_model = Model::from_bytes(file);
  REQUIRE(cpp_model.is_ok());
  const Reference ref = make_reference(*cpp_model, 2);
  ph_thread_pool* pool = nullptr;
  REQUIRE(ph_thread_pool_create(2, &pool) == PH_OK);
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    ph_engine_options o = ph_engine_options_default();
    if (i % 2) o.thread_pool = pool;
    if (i == 2) o.threads = 2;
    o.parallel_heads = i == 3 ? PH_PARALLEL_HEADS_ALWAYS : PH_PARALLEL_HEADS_AUTO;
    ph_engine* engine = nullptr;
    if (ph_engine_create(model, &o, &engine) != PH_OK) return c_error(i, "engine");
    ph_plan* plan = nullptr;
    std::string report;
    if (ph_plan_prepare(engine, nullptr, 0, &plan) != PH_OK) report = c_error(i, "prepare");
    for (int it = 0; report.empty() && it < 20; ++it) {
      const uint32_t seed = static_cast<uint32_t>((i + static_cast<size_t>(it)) % 2);
      for (size_t n = 0; report.empty() && n < ph_model_input_count(model); ++n) {
        const InputInfo& in = cpp_model->inputs()[n];
        const auto v = testing::random_values(static_cast<size_t>(in.shape.elements()), seed, 1.f);
        if (ph_plan_set_input(plan, ph_model_input_name(model, n), v.data(), v.size()) != PH_OK)
          report = c_error(i, "set input");
      }
      if (!report.empty()) break;
      // A failing call names this thread's own input; the other threads' failures, interleaved,
      // must not replace the message, nor may this thread's successful calls after it.
      const std::string name = "missing_" + std::to_string(i) + "_" + std::to_string(it);
      const float one = 1.f;
      if (ph_plan_set_input(plan, name.c_str(), &one, 1) != PH_NOT_FOUND) {
        report = mismatch(i, it, "an unknown input was accepted");
        break;
      }
      const std::string message = ph_last_error();
      if (message.find(name) == std::string::npos) {
        report = mismatch(i, it, "error message of another call: " + message);
        break;
      }
      if (ph_plan_run(plan) != PH_OK) {
        report = c_error(i, "run");
        break;
      }
      if (ph_last_error() != message)
        report = mismatch(i, it, "a successful run changed the error");
      if (c_outputs(model, plan) != ref.of(seed, 0)) report = mismatch(i, it, "outputs differ");
    }
    ph_plan_free(plan);
    ph_engine_free(engine);
    return report;
  });
  ph_thread_pool_free(pool);
  ph_model_free(model);
  CHECK(reports == kAllClear);
}

TEST_CASE("models loaded in parallel, dropped by the loader while engines run: bit-identical") {
  const Bytes file = testing::every_operator_model();
  const std::string path = testing::write_temp_file(file, "concurrency_model.phm");
  auto first = Model::from_bytes(file);
  REQUIRE(first.is_ok());
  const Reference ref = make_reference(*first, 2);
  const auto reports = on_threads(kThreads, [&](size_t i) -> std::string {
    for (int it = 0; it < 4; ++it) {
      // From memory, from the file (mapped), and through the C API, on every thread at once.
      std::optional<Model> model;
      if ((i + static_cast<size_t>(it)) % 2) {
        auto m = Model::load_file(path);
        if (!m.is_ok()) return mismatch(i, it, m.status().message());
        model = *m;
      } else {
        auto m = Model::from_bytes(file);
        if (!m.is_ok()) return mismatch(i, it, m.status().message());
        model = *m;
      }
      ph_model* c_model = nullptr;
      if (ph_model_load_file(path.c_str(), &c_model) != PH_OK) return c_error(i, "load");
      ph_model_free(c_model);
      auto engine = Engine::create(*model);
      if (!engine.is_ok()) return engine.status().message();
      auto plan = engine->prepare();
      if (!plan.is_ok()) return plan.status().message();
      model.reset();  // the engine and plan keep the model's data alive
      const uint32_t seed = static_cast<uint32_t>(it % 2);
      Status st = set_inputs(plan->model(), *plan, seed);
      if (st.is_ok()) st = plan->run();
      if (!st.is_ok()) return mismatch(i, it, st.message());
      if (outputs_of(plan->model(), *plan, {}) != ref.of(seed, 0))
        return mismatch(i, it, "outputs");
    }
    return "";
  });
  CHECK(reports == kAllClear);
}
