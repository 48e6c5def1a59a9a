// Heads in parallel (EngineOptions::parallel_heads): after the shared nodes, the heads of a run
// run concurrently on the pool, with outputs bit-identical to one node after another, in every
// mode, on every run (kAuto's measuring runs included) and for every subset of tasks.
#include <catch2/catch.hpp>

#include <map>

#include "offline/model_zoo/mobilenet_multitask.h"
#include "polyhead/engine.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

using Outputs = std::map<std::string, std::vector<float>>;

struct Runner {
  Engine engine;
  Plan plan;
};

Runner make_runner(const Model& model, size_t threads, ParallelHeads mode) {
  EngineOptions o;
  o.threads = threads;
  o.parallel_heads = mode;
  auto engine = Engine::create(model, o);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  for (const InputInfo& in : model.inputs()) {
    const auto values = testing::random_values(static_cast<size_t>(in.shape.elements()), 3, 1.f);
    REQUIRE(plan->set_input(in.name, values.data(), values.size()).is_ok());
  }
  return {std::move(*engine), std::move(*plan)};
}

// Runs `tasks` (empty = all) and returns every output of the tasks that ran.
Outputs run(const Model& model, Plan& plan, const std::vector<std::string>& tasks) {
  REQUIRE(plan.run(tasks).is_ok());
  Outputs out;
  for (const TaskInfo& t : model.tasks()) {
    if (!tasks.empty() && std::find(tasks.begin(), tasks.end(), t.name) == tasks.end()) continue;
    for (const auto& o : t.outputs) {
      auto v = plan.output(t.name, o.name);
      REQUIRE(v.is_ok());
      out[t.name + "/" + o.name].assign(v->f32(), v->f32() + v->shape.elements());
    }
  }
  return out;
}

// Tasks with at least one node no other task needs: the heads that can run concurrently.
size_t tasks_with_own_nodes(const Model& model, const Plan& plan) {
  size_t count = 0;
  for (const TaskInfo& t : model.tasks()) {
    auto mine = plan.node_names({t.name});
    REQUIRE(mine.is_ok());
    bool own = false;
    for (const std::string& n : *mine) {
      bool elsewhere = false;
      for (const TaskInfo& o : model.tasks()) {
        if (o.name == t.name) continue;
        auto theirs = plan.node_names({o.name});
        REQUIRE(theirs.is_ok());
        elsewhere = elsewhere || std::find(theirs->begin(), theirs->end(), n) != theirs->end();
      }
      own = own || !elsewhere;
    }
    count += own ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("heads in parallel: outputs bit-identical to sequential, every mode and subset") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  REQUIRE(model->tasks().size() == 3);
  Runner reference = make_runner(*model, 1, ParallelHeads::kNever);
  std::vector<std::vector<std::string>> subsets = {{}};
  for (const TaskInfo& a : model->tasks()) {
    subsets.push_back({a.name});
    for (const TaskInfo& b : model->tasks())
      if (a.name < b.name) subsets.push_back({a.name, b.name});
  }
  std::vector<Outputs> expected;
  for (const auto& s : subsets) expected.push_back(run(*model, reference.plan, s));

  for (ParallelHeads mode : {ParallelHeads::kAlways, ParallelHeads::kAuto, ParallelHeads::kNever}) {
    INFO("mode " << parallel_heads_name(mode));
    Runner r = make_runner(*model, 2, mode);
    // Enough full runs for kAuto's thread choices and its head measurement, then the subsets.
    for (int i = 0; i < 20; ++i) {
      INFO("run " << i);
      REQUIRE(run(*model, r.plan, {}) == expected[0]);
    }
    for (size_t s = 0; s < subsets.size(); ++s) {
      INFO("subset " << s);
      CHECK(run(*model, r.plan, subsets[s]) == expected[s]);
    }
    const PlanInfo info = r.plan.info();
    if (mode == ParallelHeads::kNever) {
      CHECK(info.parallel_head_groups == 0);
      CHECK_FALSE(info.heads_in_parallel);
    } else {
      CHECK(info.parallel_head_groups == tasks_with_own_nodes(*model, r.plan));
      if (mode == ParallelHeads::kAlways) CHECK(info.heads_in_parallel);
    }
  }
}

TEST_CASE("heads in parallel: one thread keeps one order; the arena keeps heads apart") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  Runner one = make_runner(*model, 1, ParallelHeads::kAlways);
  CHECK(one.plan.info().parallel_head_groups == 0);
  Runner never = make_runner(*model, 2, ParallelHeads::kNever);
  Runner always = make_runner(*model, 2, ParallelHeads::kAlways);
  // Concurrent heads cannot reuse each other's memory, so the arena can only grow.
  CHECK(always.plan.info().arena_bytes >= never.plan.info().arena_bytes);
  CHECK(always.plan.info().nodes == never.plan.info().nodes);
  // A run of all tasks executes every node once either way.
  REQUIRE(always.plan.run().is_ok());
  CHECK(always.plan.last_run_nodes() == always.plan.info().nodes);
  REQUIRE(always.plan.run({model->tasks()[1].name}).is_ok());
  auto one_task = always.plan.node_names({model->tasks()[1].name});
  REQUIRE(one_task.is_ok());
  CHECK(always.plan.last_run_nodes() == one_task->size());
}

TEST_CASE("heads in parallel: profiled runs time every node in node_names() order") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  Runner r = make_runner(*model, 2, ParallelHeads::kAlways);
  r.plan.set_profiling(true);
  REQUIRE(r.plan.run().is_ok());
  auto names = r.plan.node_names();
  REQUIRE(names.is_ok());
  REQUIRE(r.plan.node_times_ns().size() == names->size());
  // Shared nodes come first, then the heads; a run of one task times only its own nodes.
  const std::string task = model->tasks()[2].name;
  REQUIRE(r.plan.run({task}).is_ok());
  auto mine = r.plan.node_names({task});
  REQUIRE(mine.is_ok());
  size_t timed = 0;
  for (size_t i = 0; i < names->size(); ++i) {
    const bool needed = std::find(mine->begin(), mine->end(), (*names)[i]) != mine->end();
    if (!needed) CHECK(r.plan.node_times_ns()[i] == 0);
    timed += r.plan.node_times_ns()[i] > 0 ? 1 : 0;
  }
  CHECK(timed <= mine->size());
}

TEST_CASE("parallel heads modes: names, parsing and a bad value") {
  CHECK(std::string(parallel_heads_name(ParallelHeads::kAuto)) == "auto");
  CHECK(std::string(parallel_heads_name(ParallelHeads::kNever)) == "never");
  CHECK(std::string(parallel_heads_name(ParallelHeads::kAlways)) == "always");
  auto parsed = parse_parallel_heads("always");
  REQUIRE(parsed.is_ok());
  CHECK(*parsed == ParallelHeads::kAlways);
  auto bad = parse_parallel_heads("sometimes");
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("'sometimes'") && Catch::Contains("always"));
  auto model = Model::from_bytes(testing::tiny_two_task_model());
  REQUIRE(model.is_ok());
  EngineOptions o;
  o.parallel_heads = static_cast<ParallelHeads>(7);
  auto engine = Engine::create(*model, o);
  REQUIRE_FALSE(engine.is_ok());
  CHECK_THAT(engine.status().message(), Catch::Contains("parallel_heads") && Catch::Contains("7"));
}

TEST_CASE("heads in parallel: auto keeps one order when one head does most of the work") {
  // The demo multitask model: its detection head holds most of the heads' MACs, so running heads
  // side by side cannot beat running them in turn on every thread; kAuto does not even lay them
  // out for it (no larger arena), kAlways does.
  zoo::MobileNetMultitaskOptions o;
  o.input_size = 96;
  auto bytes = zoo::build_mobilenet_multitask(o);
  REQUIRE(bytes.is_ok());
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  Runner autod = make_runner(*model, 2, ParallelHeads::kAuto);
  Runner always = make_runner(*model, 2, ParallelHeads::kAlways);
  Runner never = make_runner(*model, 2, ParallelHeads::kNever);
  CHECK(autod.plan.info().parallel_head_groups == 0);
  CHECK(always.plan.info().parallel_head_groups == 3);
  CHECK(autod.plan.info().arena_bytes == never.plan.info().arena_bytes);
  for (int i = 0; i < 3; ++i) CHECK(run(*model, always.plan, {}) == run(*model, never.plan, {}));
}
