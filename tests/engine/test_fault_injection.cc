// Running out of memory anywhere in loading and preparing a model. For each model and set-up, a
// clean pass numbers every allocation of the whole sequence (load, create the engine, prepare two
// task sets, set the inputs, run, read the outputs); then, for every k, the sequence runs again
// with the k-th allocation failing. Each step must succeed or answer kOutOfMemory (PH_OUT_OF_MEMORY
// in C) with a message, never throw or crash; finishing the sequence once memory is back must give
// the reference outputs from the objects that survived (a failed prepare leaves its engine usable);
// and once everything is destroyed no heap block may be left over (live_blocks() where C
// allocations are counted; LeakSanitizer at exit in the asan build).
//
// Process-wide one-time initialisation (XNNPACK's, cpuinfo's) happens in the reference pass before
// numbering starts: a failure there cannot be retried in the same process and is not injected.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/polyhead_c.h"
#include "support/allocation_counter.h"
#include "support/test_models.h"

using namespace polyhead;
using testing::arm_allocation_failure;
using testing::disarm_allocation_failure;

namespace {

int must(Result<int> r) {
  if (!r.is_ok()) throw std::runtime_error(r.status().to_string());
  return *r;
}

// A small int8 model: image -> quantize -> int8 3x3 conv (per-channel weights) -> two heads, an
// int8 mean + fully connected ("classes") and an int8 1x1 conv ("mask"), each dequantized.
std::vector<uint8_t> int8_two_task_model() {
  ModelBuilder b;
  const int image = b.add_input("image", Shape{1, 8, 8, 4});
  const int q = must(b.quantize("image.q", image, Quantization::per_tensor(0.02f, 0)));
  auto i8 = [](size_t n, uint32_t seed) {
    std::vector<int8_t> v(n);
    uint32_t x = seed;
    for (auto& e : v) {
      x = x * 1664525u + 1013904223u;
      e = static_cast<int8_t>(static_cast<int>(x >> 24) - 128);
    }
    return v;
  };
  const std::vector<float> scales = {0.01f, 0.02f, 0.015f, 0.01f, 0.03f, 0.02f, 0.01f, 0.025f};
  const Quantization per_channel{scales, std::vector<int32_t>(8, 0), 0};
  std::vector<float> bias_scales;
  bias_scales.reserve(scales.size());
  for (float s : scales) bias_scales.push_back(0.02f * s);
  const int w = b.add_constant_i8("stem.w", Shape{8, 3, 3, 4}, i8(8 * 3 * 3 * 4, 1), per_channel);
  const int bias = b.add_constant_i32("stem.b", Shape{8}, std::vector<int32_t>(8, 100),
                                      Quantization{bias_scales, std::vector<int32_t>(8, 0), 0});
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu6();
  const int stem = must(b.conv2d("stem", q, w, bias, c));
  if (!b.set_quantization(stem, Quantization::per_tensor(0.05f, -128)).is_ok())
    throw std::runtime_error("set_quantization failed");

  const int pooled = must(b.mean("classes.pool", stem, false));
  if (!b.set_quantization(pooled, Quantization::per_tensor(0.05f, -128)).is_ok())
    throw std::runtime_error("set_quantization failed");
  const int fw =
      b.add_constant_i8("classes.w", Shape{5, 8}, i8(5 * 8, 2), Quantization::per_tensor(0.02f, 0));
  const int logits = must(b.fully_connected("classes.fc", pooled, fw, -1));
  if (!b.set_quantization(logits, Quantization::per_tensor(0.1f, 0)).is_ok())
    throw std::runtime_error("set_quantization failed");
  const int classes = must(b.dequantize("classes.dq", logits));

  const int mw = b.add_constant_i8("mask.w", Shape{2, 1, 1, 8}, i8(2 * 8, 3),
                                   Quantization::per_tensor(0.02f, 0));
  const int m = must(b.conv2d("mask.conv", stem, mw, -1, Conv2DParams{}));
  if (!b.set_quantization(m, Quantization::per_tensor(0.1f, 0)).is_ok())
    throw std::runtime_error("set_quantization failed");
  const int mask = must(b.dequantize("mask.dq", m));
  if (!b.add_task("classes", TaskKind::kClassification, {{"logits", classes}}).is_ok() ||
      !b.add_task("mask", TaskKind::kSegmentation, {{"mask", mask}}).is_ok())
    throw std::runtime_error("add_task failed");
  auto bytes = b.finish();
  if (!bytes.is_ok()) throw std::runtime_error(bytes.status().to_string());
  return *bytes;
}

struct Setup {
  Setup(std::string n, std::vector<uint8_t> b, std::string p, size_t t, ParallelHeads h)
      : name(std::move(n)), bytes(std::move(b)), path(std::move(p)), threads(t), heads(h) {
    // Inputs made before numbering starts: the test's own allocations must not be the ones failed.
    auto model = Model::from_bytes(bytes);
    if (!model.is_ok()) throw std::runtime_error(model.status().to_string());
    first_task = {model->tasks().front().name};
    uint32_t seed = 7;
    for (const InputInfo& in : model->inputs()) {
      input_names.push_back(in.name);
      inputs.push_back(testing::random_values(static_cast<size_t>(in.shape.elements()), seed++));
    }
  }
  std::string name;
  std::vector<uint8_t> bytes;
  std::string path;  // non-empty: Model::load_file of this file instead of from_bytes
  size_t threads = 1;
  ParallelHeads heads = ParallelHeads::kNever;
  std::vector<std::string> first_task;  // the task set of the second prepare
  std::vector<std::string> input_names;
  std::vector<std::vector<float>> inputs;
};

using Outputs = std::vector<std::vector<uint8_t>>;

// The objects of one pass through the sequence; each step fills the next.
struct Objects {
  std::optional<Model> model;
  std::optional<Engine> engine;
  std::optional<Plan> all;
  std::optional<Plan> first;
  // Null: the outputs are collected into `outputs` (the reference pass, not numbered). Else they
  // are compared with `*want` without allocating.
  const Outputs* want = nullptr;
  Outputs outputs;
  bool outputs_match = false;
};

constexpr const char* kStepNames[] = {"load",      "create", "prepare all", "prepare first task",
                                      "set input", "run",    "outputs"};
constexpr int kSteps = 7;

// Runs steps `from`.. of the sequence; returns the failing step (or kSteps) and its status. Uses no
// Catch2 assertion: those allocate, and this runs while allocations are numbered.
std::pair<int, Status> run_steps(const Setup& s, Objects& o, int from) {
  for (int step = from; step < kSteps; ++step) {
    Status st;
    switch (step) {
      case 0: {
        auto m = s.path.empty() ? Model::from_bytes(s.bytes) : Model::load_file(s.path);
        if (m.is_ok()) o.model.emplace(std::move(*m));
        st = m.status();
        break;
      }
      case 1: {
        EngineOptions options;
        options.threads = s.threads;
        options.parallel_heads = s.heads;
        auto e = Engine::create(*o.model, options);
        if (e.is_ok()) o.engine.emplace(std::move(*e));
        st = e.status();
        break;
      }
      case 2: {
        auto p = o.engine->prepare();
        if (p.is_ok()) o.all.emplace(std::move(*p));
        st = p.status();
        break;
      }
      case 3: {
        auto p = o.engine->prepare(s.first_task);
        if (p.is_ok()) o.first.emplace(std::move(*p));
        st = p.status();
        break;
      }
      case 4:
        for (size_t i = 0; i < s.inputs.size() && st.is_ok(); ++i)
          st = o.all->set_input(s.input_names[i], s.inputs[i].data(), s.inputs[i].size());
        break;
      case 5:
        st = o.all->run();
        break;
      case 6: {
        size_t n = 0;
        o.outputs_match = true;
        for (const TaskInfo& task : o.model->tasks())
          for (const TaskOutputInfo& out : task.outputs) {
            auto view = o.all->output(task.name, out.name);
            if (!view.is_ok()) {
              st = view.status();
              break;
            }
            const auto* p = static_cast<const uint8_t*>(view->data);
            if (!o.want) {
              o.outputs.emplace_back(p, p + view->bytes());
            } else {
              const bool same = n < o.want->size() && (*o.want)[n].size() == view->bytes() &&
                                std::memcmp((*o.want)[n].data(), p, view->bytes()) == 0;
              o.outputs_match = o.outputs_match && same;
            }
            ++n;
          }
        break;
      }
    }
    if (!st.is_ok()) return {step, st};
  }
  return {kSteps, Status::ok()};
}

// Catch2 keeps the storage of INFO messages once it has grown: grow it before blocks are counted.
void grow_catch_message_storage() {
  INFO("1");
  INFO("2");
  INFO("3");
  INFO("4");
}

struct Tally {
  long numbered = 0;  // allocations of one clean pass
  long injected = 0;  // passes in which the chosen allocation happened and failed
  long answered = 0;  // of those, passes where a step answered kOutOfMemory (others fell back)
  std::vector<long> per_step = std::vector<long>(kSteps, 0);
};

Tally inject_every_allocation(const Setup& s) {
  Tally tally;
  Outputs want;
  {
    Objects o;
    const auto [step, st] = run_steps(s, o, 0);
    INFO(s.name << ": " << st.to_string());
    REQUIRE(step == kSteps);
    want = o.outputs;
  }
  // The first exception of the process makes the unwinder cache what it found (blocks kept for
  // good): one failing pass before counting.
  {
    Objects o;
    arm_allocation_failure(1);
    run_steps(s, o, 0);
    disarm_allocation_failure();
  }
  grow_catch_message_storage();
  const long before = testing::live_blocks();
  {
    Objects o;
    o.want = &want;
    arm_allocation_failure(0);
    const auto [step, st] = run_steps(s, o, 0);
    tally.numbered = disarm_allocation_failure();
    REQUIRE(step == kSteps);
    REQUIRE(o.outputs_match);
  }
  REQUIRE(tally.numbered > 0);
  for (long k = 1; k <= tally.numbered; ++k) {
    int failed = kSteps;
    {
      bool threw = false;
      Status st;
      Objects o;
      o.want = &want;
      arm_allocation_failure(k);
      try {
        std::tie(failed, st) = run_steps(s, o, 0);
      } catch (...) {
        threw = true;
      }
      disarm_allocation_failure();
      const bool injected = testing::allocation_failure_injected();
      INFO(s.name << ": allocation " << k << " of " << tally.numbered << " failed");
      REQUIRE_FALSE(threw);
      if (!injected) continue;  // the pass took a path with fewer allocations
      ++tally.injected;
      if (failed < kSteps) {
        INFO("step '" << kStepNames[failed] << "' answered " << st.to_string());
        REQUIRE(st.code() == ErrorCode::kOutOfMemory);
        REQUIRE_FALSE(st.message().empty());
        ++tally.answered;
        ++tally.per_step[static_cast<size_t>(failed)];
        // With memory back, the same objects finish the sequence.
        const auto [again, again_status] = run_steps(s, o, failed);
        INFO("finishing from step '" << kStepNames[failed] << "': " << again_status.to_string());
        REQUIRE(again == kSteps);
      }
      // A failure that nothing reports must still leave the outputs right: std::stable_sort
      // (arena planning) asks for its buffer with nothrow new and sorts in place without it.
      REQUIRE(o.outputs_match);
    }
    const long after = testing::live_blocks();  // before INFO, which allocates
    INFO(s.name << ": allocation " << k << " of " << tally.numbered << " failed");
    REQUIRE(after == before);
  }
  return tally;
}

void report(const Setup& s, const Tally& t) {
  std::string steps;
  for (int i = 0; i < kSteps; ++i)
    if (t.per_step[static_cast<size_t>(i)])
      steps += std::string(steps.empty() ? "" : ", ") + kStepNames[i] + " " +
               std::to_string(t.per_step[static_cast<size_t>(i)]);
  std::printf(
      "fault injection %-34s %5ld allocations numbered, %5ld failed, %5ld answered "
      "kOutOfMemory (%s)\n",
      s.name.c_str(), t.numbered, t.injected, t.answered, steps.c_str());
}

}  // namespace

TEST_CASE("fault injection: every allocation of load and prepare can fail, answered and no leak",
          "[fault-injection]") {
  std::vector<Setup> setups;
  setups.push_back(
      {"two tasks, from bytes", testing::tiny_two_task_model(), "", 1, ParallelHeads::kNever});
  setups.push_back({"two tasks, mapped file, 2 threads", testing::tiny_two_task_model(),
                    testing::write_temp_file(testing::tiny_two_task_model(),
                                             "polyhead_fault_injection_tiny.phm"),
                    2, ParallelHeads::kAlways});
  setups.push_back(
      {"every operator kind", testing::every_operator_model(), "", 1, ParallelHeads::kNever});
  setups.push_back({"int8, 2 threads", int8_two_task_model(), "", 2, ParallelHeads::kAuto});
  for (const Setup& s : setups) {
    SECTION(s.name) {
      const Tally t = inject_every_allocation(s);
      report(s, t);
      // Every numbered allocation was failed once, and failures in load and prepare are answered.
      CHECK(t.injected == t.numbered);
      CHECK(t.per_step[0] > 0);
      CHECK(t.per_step[1] > 0);
      CHECK(t.per_step[2] > 0);
    }
  }
}

TEST_CASE("fault injection: the C API answers PH_OUT_OF_MEMORY at every allocation, no leak",
          "[fault-injection]") {
  const std::vector<uint8_t> bytes = testing::every_operator_model();
  ph_engine_options options = ph_engine_options_default();
  const std::vector<float> image(8 * 8 * 4, 0.25f);
  const std::vector<float> aux(4, 0.5f);
  options.threads = 1;  // the C++ case above covers two threads
  // One pass: model, engine, plan, inputs, run, an output's bytes. Returns the first failure.
  struct Pass {
    ph_status status = PH_OK;
    const char* function = "";
    std::vector<float> out;
  };
  auto pass = [&](std::vector<float>* first_output) {
    Pass p;
    ph_model* model = nullptr;
    ph_engine* engine = nullptr;
    ph_plan* plan = nullptr;
    auto check = [&](ph_status s, const char* function) {
      if (p.status == PH_OK && s != PH_OK) {
        p.status = s;
        p.function = function;
      }
      return p.status == PH_OK;
    };
    if (check(ph_model_from_bytes(bytes.data(), bytes.size(), &model), "ph_model_from_bytes") &&
        check(ph_engine_create(model, &options, &engine), "ph_engine_create") &&
        check(ph_plan_prepare(engine, nullptr, 0, &plan), "ph_plan_prepare") &&
        check(ph_plan_set_input(plan, "image", image.data(), image.size()), "ph_plan_set_input") &&
        check(ph_plan_set_input(plan, "aux", aux.data(), aux.size()), "ph_plan_set_input") &&
        check(ph_plan_run(plan), "ph_plan_run")) {
      ph_tensor logits;
      if (check(ph_plan_output(plan, "classes", "probs", &logits), "ph_plan_output")) {
        size_t count = 1;
        for (size_t d = 0; d < logits.rank; ++d) count *= static_cast<size_t>(logits.dims[d]);
        const auto* data = static_cast<const float*>(logits.data);
        first_output->assign(data, data + count);  // reserved by the caller: no allocation
      }
    }
    ph_plan_free(plan);
    ph_engine_free(engine);
    ph_model_free(model);
    return p;
  };
  std::vector<float> want;
  std::vector<float> got;
  REQUIRE(pass(&want).status == PH_OK);
  REQUIRE_FALSE(want.empty());
  // The first failure keeps blocks for good (the unwinder's caches, this thread's error message
  // buffer): one failing pass before counting.
  got.reserve(want.size());
  arm_allocation_failure(1);
  pass(&got);
  disarm_allocation_failure();
  grow_catch_message_storage();
  const long before = testing::live_blocks();
  arm_allocation_failure(0);
  const Pass clean = pass(&got);
  const long numbered = disarm_allocation_failure();
  REQUIRE(clean.status == PH_OK);
  long answered = 0;
  for (long k = 1; k <= numbered; ++k) {
    got.clear();
    arm_allocation_failure(k);
    const Pass p = pass(&got);
    disarm_allocation_failure();
    const long after = testing::live_blocks();  // before INFO, which allocates
    INFO("allocation " << k << " of " << numbered << " failed; " << p.function << " answered "
                       << p.status << ": " << ph_last_error());
    if (p.status != PH_OK) {
      REQUIRE(p.status == PH_OUT_OF_MEMORY);
      REQUIRE(std::strlen(ph_last_error()) > 0);
      ++answered;
    } else {
      REQUIRE(got == want);
    }
    REQUIRE(after == before);
  }
  std::printf("fault injection %-34s %5ld allocations numbered, %5ld answered PH_OUT_OF_MEMORY\n",
              "C API, every operator kind", numbered, answered);
  CHECK(answered > 0);
}
