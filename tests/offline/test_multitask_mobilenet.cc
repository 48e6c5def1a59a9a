// End-to-end acceptance test on the model zoo's multi-task MobileNetV2: numbers match the naive
// reference interpreter, a task runs only the nodes it needs, one pass over several tasks gives
// exactly what separate runs give, arenas stay near their lower bound, and runs are repeatable
// across calls and thread counts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "offline/model_zoo/mobilenet_multitask.h"
#include "polyhead/engine.h"
#include "support/reference_interpreter.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

#ifdef NDEBUG
constexpr bool kOptimized = true;
#else
constexpr bool kOptimized = false;
#endif

const std::vector<std::string> kTasks = {"classify", "segment", "detect"};

// One built model, its input and the reference's tensors, shared by the test cases of a config.
struct Setup {
  std::vector<uint8_t> bytes;
  std::unique_ptr<Model> model;
  std::vector<float> image;
  std::map<std::string, testing::ReferenceTensor> reference;
  double reference_seconds = 0.0;
};

const zoo::MobileNetMultitaskOptions& small_options() {
  static const zoo::MobileNetMultitaskOptions o = [] {
    zoo::MobileNetMultitaskOptions s;
    s.input_size = 128;
    s.width = 0.5f;
    s.classes = 100;
    s.seg_classes = 5;
    s.det_classes = 7;
    return s;
  }();
  return o;
}

std::unique_ptr<Setup> make_setup(const zoo::MobileNetMultitaskOptions& options) {
  auto s = std::make_unique<Setup>();
  auto bytes = zoo::build_mobilenet_multitask(options);
  if (!bytes.is_ok()) FAIL("build_mobilenet_multitask: " << bytes.status().to_string());
  s->bytes = std::move(*bytes);
  auto model = Model::from_bytes(s->bytes);
  if (!model.is_ok()) FAIL("Model::from_bytes: " << model.status().to_string());
  s->model = std::make_unique<Model>(std::move(*model));
  const auto side = static_cast<size_t>(options.input_size);
  // Roughly the range of an ImageNet-normalised image.
  s->image = testing::random_values(side * side * 3, 2024, 2.f);
  const auto start = std::chrono::steady_clock::now();
  s->reference = testing::reference_evaluate(s->bytes, {{"image", s->image}});
  s->reference_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

const Setup& small_setup() {
  static std::unique_ptr<Setup> s = make_setup(small_options());
  return *s;
}

// "task/output" -> values, copied out of the plan (views die at the next run).
using Outputs = std::map<std::string, std::vector<float>>;

Outputs collect(const Plan& plan, const Model& model, const std::vector<std::string>& tasks) {
  Outputs out;
  for (const TaskInfo& task : model.tasks()) {
    if (std::find(tasks.begin(), tasks.end(), task.name) == tasks.end()) continue;
    for (const TaskOutputInfo& o : task.outputs) {
      auto view = plan.output(task.name, o.name);
      if (!view.is_ok())
        FAIL("output " << task.name << "/" << o.name << ": " << view.status().to_string());
      REQUIRE(view->f32() != nullptr);
      out[task.name + "/" + o.name].assign(view->f32(), view->f32() + view->shape.elements());
    }
  }
  return out;
}

Plan prepare(Engine& engine, const std::vector<std::string>& tasks) {
  auto plan = engine.prepare(tasks);
  if (!plan.is_ok()) FAIL("prepare: " << plan.status().to_string());
  return std::move(*plan);
}

Outputs run_and_collect(Plan& plan, const Setup& s, const std::vector<std::string>& run_tasks,
                        const std::vector<std::string>& read_tasks) {
  REQUIRE(plan.set_input("image", s.image.data(), s.image.size()).is_ok());
  const Status st = run_tasks.empty() ? plan.run() : plan.run(run_tasks);
  if (!st.is_ok()) FAIL("run: " << st.to_string());
  return collect(plan, *s.model, read_tasks);
}

Engine make_engine(const Setup& s, size_t threads) {
  EngineOptions options;
  options.threads = threads;
  auto engine = Engine::create(*s.model, options);
  if (!engine.is_ok()) FAIL("Engine::create: " << engine.status().to_string());
  return std::move(*engine);
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max<double>(m, std::fabs(x));
  return m;
}

// max |a - b| (NaN counts as infinite).
double max_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(e <= m)) m = std::isnan(e) ? INFINITY : e;
  }
  return m;
}

// Every output of every task against the reference, within 1e-4 x max |reference output|.
void check_against_reference(const Setup& s, const Outputs& got) {
  for (const TaskInfo& task : s.model->tasks())
    for (const TaskOutputInfo& o : task.outputs) {
      const std::string key = task.name + "/" + o.name;
      INFO(key << " (tensor '" << o.tensor << "')");
      REQUIRE(got.count(key) == 1);
      const testing::ReferenceTensor& ref = s.reference.at(o.tensor);
      REQUIRE(ref.shape == o.shape);
      const double scale = max_abs(ref.values);
      const double err = max_error(got.at(key), ref.values);
      INFO("max |err| " << err << ", max |reference| " << scale);
      CHECK(scale > 0.0);
      CHECK(err <= 1e-4 * scale);
    }
}

std::set<std::string> as_set(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

// The 7 non-empty subsets of the three tasks.
std::vector<std::vector<std::string>> task_subsets() {
  std::vector<std::vector<std::string>> subsets;
  for (unsigned mask = 1; mask < 8; ++mask) {
    std::vector<std::string> s;
    for (unsigned i = 0; i < 3; ++i)
      if (mask & (1u << i)) s.push_back(kTasks[i]);
    subsets.push_back(s);
  }
  return subsets;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "+") + x;
  return s;
}

}  // namespace

TEST_CASE("multitask MobileNet: the model has the documented tasks and shapes",
          "[e2e][mobilenet]") {
  const Setup& s = small_setup();
  const auto& o = small_options();
  REQUIRE(s.model->tasks().size() == 3);
  std::map<std::string, Shape> shapes;
  for (const TaskInfo& t : s.model->tasks())
    for (const TaskOutputInfo& out : t.outputs) shapes[t.name + "/" + out.name] = out.shape;
  CHECK(shapes.at("classify/logits") == Shape{1, o.classes});
  CHECK(shapes.at("segment/mask") == Shape{1, o.input_size / 4, o.input_size / 4, o.seg_classes});
  const Shape boxes = shapes.at("detect/boxes");
  REQUIRE(boxes.rank() == 3);
  CHECK(boxes[2] == 4);
  CHECK(shapes.at("detect/scores") == Shape{1, boxes[1], o.det_classes});
  // Anchors over a stride-16 and a stride-32 level.
  const int64_t s16 = o.input_size / 16, s32 = o.input_size / 32;
  CHECK(boxes[1] == (s16 * s16 + s32 * s32) * o.anchors_per_cell);
}

TEST_CASE("multitask MobileNet: every task output matches the reference", "[e2e][mobilenet]") {
  const Setup& s = small_setup();
  Engine engine = make_engine(s, 1);
  Plan plan = prepare(engine, {});
  check_against_reference(s, run_and_collect(plan, s, {}, kTasks));
}

TEST_CASE("multitask MobileNet: a task runs only the nodes it needs", "[e2e][mobilenet]") {
  const Setup& s = small_setup();
  Engine engine = make_engine(s, 1);
  Plan plan = prepare(engine, {});
  REQUIRE(plan.set_input("image", s.image.data(), s.image.size()).is_ok());

  const std::vector<std::string> all_nodes = testing::reference_needed_nodes(s.bytes, kTasks);
  CHECK(plan.info().nodes == all_nodes.size());
  REQUIRE(plan.run().is_ok());
  CHECK(plan.last_run_nodes() == all_nodes.size());
  auto all_names = plan.node_names();
  REQUIRE(all_names.is_ok());
  CHECK(as_set(*all_names) == as_set(all_nodes));
  CHECK(all_names->size() == all_nodes.size());  // shared nodes listed once

  for (const std::string& task : kTasks) {
    INFO("task " << task);
    const std::vector<std::string> needed = testing::reference_needed_nodes(s.bytes, {task});
    REQUIRE(plan.run({task}).is_ok());
    CHECK(plan.last_run_nodes() == needed.size());
    auto names = plan.node_names({task});
    REQUIRE(names.is_ok());
    CHECK(as_set(*names) == as_set(needed));
    CHECK(names->size() == needed.size());
    // A task alone needs strictly less than any larger task set.
    const std::set<std::string> mine = as_set(needed);
    CHECK(mine.size() < all_nodes.size());
    for (const std::string& other : kTasks) {
      if (other == task) continue;
      INFO("with " << other);
      const std::set<std::string> both =
          as_set(testing::reference_needed_nodes(s.bytes, {task, other}));
      CHECK(std::includes(both.begin(), both.end(), mine.begin(), mine.end()));
      CHECK(mine.size() < both.size());
      REQUIRE(plan.run({task, other}).is_ok());
      CHECK(plan.last_run_nodes() == both.size());
    }
  }

  // A plan prepared for a subset holds exactly the subset's nodes.
  for (const auto& subset : task_subsets()) {
    INFO("plan for " << join(subset));
    Plan sub = prepare(engine, subset);
    const auto needed = testing::reference_needed_nodes(s.bytes, subset);
    CHECK(sub.info().nodes == needed.size());
    auto names = sub.node_names();
    REQUIRE(names.is_ok());
    CHECK(as_set(*names) == as_set(needed));
  }
}

TEST_CASE("multitask MobileNet: one pass over all tasks equals each task alone, bit for bit",
          "[e2e][mobilenet]") {
  const Setup& s = small_setup();
  for (size_t threads : {size_t{1}, size_t{2}}) {
    INFO("threads " << threads);
    Engine engine = make_engine(s, threads);
    Plan all = prepare(engine, {});
    const Outputs together = run_and_collect(all, s, {}, kTasks);
    for (const std::string& task : kTasks) {
      INFO("task " << task);
      Plan alone = prepare(engine, {task});
      const Outputs separate = run_and_collect(alone, s, {}, {task});
      const Outputs subset_run = run_and_collect(all, s, {task}, {task});
      REQUIRE(!separate.empty());
      for (const auto& [key, values] : separate) {
        INFO(key);
        CHECK(bit_identical(values, together.at(key)));
        CHECK(bit_identical(subset_run.at(key), together.at(key)));
      }
    }
    // Pairs run as a subset of the full plan too.
    for (const auto& subset : task_subsets()) {
      if (subset.size() != 2) continue;
      INFO("subset " << join(subset));
      const Outputs pair = run_and_collect(all, s, subset, subset);
      for (const auto& [key, values] : pair) CHECK(bit_identical(values, together.at(key)));
    }
  }
}

TEST_CASE("multitask MobileNet: arenas stay within 5% of their lower bound", "[e2e][mobilenet]") {
  const Setup& s = small_setup();
  Engine engine = make_engine(s, 1);
  for (const auto& subset : task_subsets()) {
    const PlanInfo info = prepare(engine, subset).info();
    INFO("tasks " << join(subset) << ": arena " << info.arena_bytes << " bytes, lower bound "
                  << info.arena_lower_bound_bytes << " (" << info.arena_strategy << ")");
    CHECK(info.arena_lower_bound_bytes > 0);
    CHECK(info.arena_bytes >= info.arena_lower_bound_bytes);
    CHECK(static_cast<double>(info.arena_bytes) <=
          1.05 * static_cast<double>(info.arena_lower_bound_bytes));
  }
}

TEST_CASE("multitask MobileNet: repeated runs and thread counts agree", "[e2e][mobilenet]") {
  const Setup& s = small_setup();
  Engine one = make_engine(s, 1);
  Engine two = make_engine(s, 2);
  Plan plan1 = prepare(one, {});
  Plan plan2 = prepare(two, {});
  const Outputs first = run_and_collect(plan1, s, {}, kTasks);
  for (int repeat = 0; repeat < 3; ++repeat) {
    INFO("repeat " << repeat);
    const Outputs again = run_and_collect(plan1, s, {}, kTasks);
    for (const auto& [key, values] : first) {
      INFO(key);
      CHECK(bit_identical(values, again.at(key)));
    }
  }
  const Outputs threaded = run_and_collect(plan2, s, {}, kTasks);
  const Outputs threaded_again = run_and_collect(plan2, s, {}, kTasks);
  for (const auto& [key, values] : first) {
    INFO(key);
    CHECK(bit_identical(threaded.at(key), threaded_again.at(key)));
    CHECK(max_error(values, threaded.at(key)) <= 1e-4 * std::max(max_abs(values), 1e-30));
  }
  check_against_reference(s, threaded);
}

TEST_CASE("multitask MobileNet at the default 224 x 1.0 matches the reference",
          "[e2e][mobilenet]") {
  // The naive reference needs ~300M multiply-adds here: optimised, unsanitised builds only.
  if (kSanitized || !kOptimized) {
    WARN("skipped: the 224 x 1.0 reference is too slow in sanitised or unoptimised builds");
    return;
  }
  const auto s = make_setup({});
  INFO("reference took " << s->reference_seconds << " s");
  CHECK(s->reference_seconds < 20.0);
  Engine engine = make_engine(*s, 2);
  Plan plan = prepare(engine, {});
  const Outputs together = run_and_collect(plan, *s, {}, kTasks);
  check_against_reference(*s, together);
  const Outputs detect = run_and_collect(plan, *s, {"detect"}, {"detect"});
  for (const auto& [key, values] : detect) CHECK(bit_identical(values, together.at(key)));
}
