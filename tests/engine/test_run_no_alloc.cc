// After prepare, Plan::run() performs no heap allocation and, single-threaded, takes no lock: every
// allocation entry point of the process (operator new, malloc and friends, which XNNPACK and
// pthreadpool use too) and every pthread mutex lock is counted while run() executes, switching
// between plans that share kernels.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <mutex>

#include <pthreadpool.h>

#include "polyhead/engine.h"
#include "support/allocation_counter.h"
#include "support/lock_counter.h"
#include "support/test_models.h"

using namespace polyhead;

using testing::count_allocations;

TEST_CASE("run() allocates nothing, also when plans sharing kernels alternate") {
  const auto threads = GENERATE(size_t{1}, size_t{2});
  const std::string path = testing::write_temp_file(
      testing::tiny_two_task_model(), "polyhead_test_no_alloc_" + std::to_string(threads) + ".phm");
  auto model = Model::load_file(path);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {threads, 8});
  REQUIRE(engine.is_ok());
  auto all = engine->prepare();
  auto one = engine->prepare({"segment"});
  REQUIRE(all.is_ok());
  REQUIRE(one.is_ok());
  auto input = testing::random_values(8 * 8 * 3, 3);
  REQUIRE(all->set_input("image", input.data(), input.size()).is_ok());
  REQUIRE(one->set_input("image", input.data(), input.size()).is_ok());
  // The counter itself works (guards against a silently broken interposition).
  CHECK(count_allocations([] {
          int* volatile p = new int(1);  // volatile: the compiler may not elide the pair
          delete p;
        }) >= 1);

  bool ok = true;
  const long allocations = count_allocations([&] {
    for (int i = 0; i < 5; ++i) {
      ok = ok && all->run().is_ok();
      ok = ok && one->run().is_ok();  // rebinds the shared stem kernel to another arena
      ok = ok && all->run({"classify"}).is_ok();
      ok = ok && all->output("classify", "logits").is_ok();
    }
  });
  REQUIRE(ok);
  CHECK(allocations == 0);
  if (testing::counts_c_allocations()) {
    // C allocations (XNNPACK's and pthreadpool's) are seen too.
    int (*volatile aligned)(void**, size_t, size_t) = &posix_memalign;
    CHECK(count_allocations([&] {
            void* p = nullptr;
            if (aligned(&p, 64, 256) == 0) free(p);
          }) == 1);
  }
  std::remove(path.c_str());
}

TEST_CASE("run() allocates nothing for any operator kind, across three alternating plans") {
  const auto threads = GENERATE(size_t{1}, size_t{2});
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {threads, 8});
  REQUIRE(engine.is_ok());
  std::vector<Plan> plans;
  for (const std::vector<std::string>& tasks :
       {std::vector<std::string>{}, {"dense"}, {"pooled", "classes"}}) {
    auto plan = engine->prepare(tasks);
    REQUIRE(plan.is_ok());
    for (const std::string& name : plan->input_names()) {
      auto buffer = plan->input_buffer(name);
      REQUIRE(buffer.is_ok());
      const auto& inputs = model->inputs();
      for (const InputInfo& in : inputs)
        if (in.name == name)
          for (int64_t i = 0; i < in.shape.elements(); ++i)
            (*buffer)[i] = 0.01f * static_cast<float>(i % 97);
    }
    plans.push_back(*plan);
  }
  bool ok = true;
  const long allocations = count_allocations([&] {
    for (int round = 0; round < 3; ++round)
      for (Plan& plan : plans) ok = ok && plan.run().is_ok();
    ok = ok && plans[0].run({"pooled"}).is_ok();
  });
  REQUIRE(ok);
  CHECK(allocations == 0);
  // Reading outputs allocates nothing either, also one that is not its task's first (finding it
  // once gathered the names of the outputs before it).
  REQUIRE(plans[0].run().is_ok());
  const long reads = count_allocations([&] {
    for (const TaskInfo& task : model->tasks())
      for (const TaskOutputInfo& out : task.outputs)
        ok = ok && plans[0].output(task.name, out.name).is_ok();
  });
  REQUIRE(ok);
  CHECK(reads == 0);
}

TEST_CASE("single-threaded run() takes no lock") {
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {1, 8});
  REQUIRE(engine.is_ok());
  auto all = engine->prepare();
  auto dense = engine->prepare({"dense"});
  REQUIRE(all.is_ok());
  REQUIRE(dense.is_ok());
  std::vector<float> image(8 * 8 * 4, 0.25f), aux(4, 0.5f);
  for (Plan* plan : {&*all, &*dense})
    for (const std::string& name : plan->input_names())
      REQUIRE(plan->set_input(name, name == "aux" ? aux.data() : image.data(),
                              name == "aux" ? aux.size() : image.size())
                  .is_ok());
  // The counter works.
  std::mutex m;
  CHECK(testing::count_locks([&] { std::lock_guard<std::mutex> lock(m); }) == 1);
  bool ok = true;
  const long locks = testing::count_locks([&] {
    for (int i = 0; i < 3; ++i) {
      ok = ok && all->run().is_ok();
      ok = ok && dense->run().is_ok();
      ok = ok && all->run({"pooled"}).is_ok();
    }
  });
  REQUIRE(ok);
  CHECK(locks == 0);
}

TEST_CASE("heads in parallel: no allocation, and no lock beyond the shared pool's own") {
  // Two threads, heads always concurrent, on a pool shared with a second engine. Locks are those
  // pthreadpool takes to hand out work: a run with heads in parallel takes at most one hand-out's
  // worth more than the same run one node after another (the heads are one hand-out; nodes inside
  // them take none).
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  auto pool = ThreadPool::create(2);
  REQUIRE(pool.is_ok());
  auto prepared = [&](ParallelHeads mode) {
    EngineOptions o;
    o.thread_pool = *pool;
    o.parallel_heads = mode;
    o.choose_threads_per_node = false;  // every node on the pool: the same work both ways
    auto engine = Engine::create(*model, o);
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    REQUIRE(plan.is_ok());
    for (const std::string& name : plan->input_names()) {
      auto buffer = plan->input_buffer(name);
      REQUIRE(buffer.is_ok());
      for (const InputInfo& in : model->inputs())
        if (in.name == name)
          for (int64_t i = 0; i < in.shape.elements(); ++i)
            (*buffer)[i] = 0.01f * static_cast<float>(i % 89);
    }
    REQUIRE(plan->run().is_ok());  // warm-up
    return *plan;
  };
  Plan parallel = prepared(ParallelHeads::kAlways);
  Plan sequential = prepared(ParallelHeads::kNever);
  REQUIRE(parallel.info().heads_in_parallel);
  bool ok = true;
  const long allocations = count_allocations([&] {
    for (int i = 0; i < 5; ++i) ok = ok && parallel.run().is_ok() && sequential.run().is_ok();
  });
  REQUIRE(ok);
  CHECK(allocations == 0);
  const long parallel_locks = testing::count_locks([&] { ok = ok && parallel.run().is_ok(); });
  const long sequential_locks = testing::count_locks([&] { ok = ok && sequential.run().is_ok(); });
  REQUIRE(ok);
  pthreadpool_t raw = pthreadpool_create(2);
  REQUIRE(raw);
  const long hand_out = testing::count_locks([&] {
    pthreadpool_parallelize_1d(
        raw, [](void*, size_t) {}, nullptr, 4, 0);
  });
  pthreadpool_destroy(raw);
  CHECK(parallel_locks <= sequential_locks + hand_out);
}
