// ThreadPool shared by engines (EngineOptions::thread_pool): engines on one pool give the same
// outputs as engines with their own, also when several threads run them at once; the pool lives
// as long as an engine uses it; conflicting options are refused with the values.
#include <catch2/catch.hpp>

#include <thread>

#include "polyhead/engine.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

// All outputs of a full run of `plan`, concatenated in task order.
std::vector<float> all_outputs(const Model& model, Plan& plan) {
  std::vector<float> all;
  for (const TaskInfo& t : model.tasks())
    for (const auto& o : t.outputs) {
      auto v = plan.output(t.name, o.name);
      if (!v.is_ok()) return {};
      all.insert(all.end(), v->f32(), v->f32() + v->shape.elements());
    }
  return all;
}

Result<Plan> prepared(Engine& engine, const Model& model, uint32_t seed) {
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare());
  for (const InputInfo& in : model.inputs()) {
    const auto values = testing::random_values(static_cast<size_t>(in.shape.elements()), seed, 1.f);
    PH_RETURN_IF_ERROR(plan.set_input(in.name, values.data(), values.size()));
  }
  return plan;
}

}  // namespace

TEST_CASE("a thread pool: sizes, the empty handle and a bad size") {
  ThreadPool empty;
  CHECK_FALSE(empty);
  CHECK(empty.threads() == 0);
  auto two = ThreadPool::create(2);
  REQUIRE(two.is_ok());
  CHECK(two->threads() == 2);
  auto one = ThreadPool::create(1);
  REQUIRE(one.is_ok());
  CHECK(one->threads() == 1);
  auto all = ThreadPool::create(0);
  REQUIRE(all.is_ok());
  CHECK(all->threads() == std::max(1u, std::thread::hardware_concurrency()));
  auto bad = ThreadPool::create(5000);
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("at most 1024") && Catch::Contains("5000"));
}

TEST_CASE("engines of three models on one pool: same outputs as their own pools") {
  const std::vector<std::vector<uint8_t>> files = {testing::every_operator_model(),
                                                   testing::tiny_two_task_model(),
                                                   testing::every_operator_model()};
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  std::vector<Model> models;
  for (const auto& f : files) {
    auto m = Model::from_bytes(f);
    REQUIRE(m.is_ok());
    models.push_back(*m);
  }
  std::vector<Engine> shared, own;
  for (const Model& m : models) {
    EngineOptions o;
    o.thread_pool = *pool;
    auto e = Engine::create(m, o);
    REQUIRE(e.is_ok());
    CHECK(e->stats().threads == 2);
    shared.push_back(*e);
    EngineOptions alone;
    alone.threads = 2;
    auto a = Engine::create(m, alone);
    REQUIRE(a.is_ok());
    own.push_back(*a);
  }
  // The engines keep the pool alive after the caller lets go of it.
  *pool = ThreadPool();
  for (size_t i = 0; i < models.size(); ++i) {
    INFO("model " << i);
    auto a = prepared(shared[i], models[i], 9);
    auto b = prepared(own[i], models[i], 9);
    REQUIRE(a.is_ok());
    REQUIRE(b.is_ok());
    for (int r = 0; r < 10; ++r) {
      REQUIRE(a->run().is_ok());
      REQUIRE(b->run().is_ok());
      REQUIRE(all_outputs(models[i], *a) == all_outputs(models[i], *b));
    }
  }
}

TEST_CASE("one pool, three engines run from three threads at once: outputs unchanged") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  // The expected outputs, from one engine of its own, one thread.
  auto ref_engine = Engine::create(*model);
  REQUIRE(ref_engine.is_ok());
  std::vector<std::vector<float>> expected;
  for (uint32_t seed = 0; seed < 3; ++seed) {
    auto plan = prepared(*ref_engine, *model, seed);
    REQUIRE(plan.is_ok());
    REQUIRE(plan->run().is_ok());
    expected.push_back(all_outputs(*model, *plan));
  }
  std::vector<int> mismatches(3, -1);
  std::vector<std::thread> threads;
  for (uint32_t seed = 0; seed < 3; ++seed)
    threads.emplace_back([&, seed] {
      EngineOptions o;
      o.thread_pool = *pool;
      o.parallel_heads = seed == 1 ? ParallelHeads::kAlways : ParallelHeads::kAuto;
      auto engine = Engine::create(*model, o);
      if (!engine.is_ok()) return;
      auto plan = prepared(*engine, *model, seed);
      if (!plan.is_ok()) return;
      int bad = 0;
      for (int r = 0; r < 40; ++r)
        if (!plan->run().is_ok() || all_outputs(*model, *plan) != expected[seed]) ++bad;
      mismatches[seed] = bad;
    });
  for (auto& t : threads) t.join();
  CHECK(mismatches == std::vector<int>{0, 0, 0});
}

TEST_CASE("a shared pool with a conflicting thread count is refused with both values") {
  auto model = Model::from_bytes(testing::tiny_two_task_model());
  REQUIRE(model.is_ok());
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  EngineOptions o;
  o.thread_pool = *pool;
  o.threads = 4;
  auto engine = Engine::create(*model, o);
  REQUIRE_FALSE(engine.is_ok());
  CHECK_THAT(engine.status().message(),
             Catch::Contains("threads = 4") && Catch::Contains("2-thread pool"));
  o.threads = 2;  // the pool's own size is accepted, as is the default 1
  CHECK(Engine::create(*model, o).is_ok());
  o.threads = 1;
  CHECK(Engine::create(*model, o).is_ok());
}
