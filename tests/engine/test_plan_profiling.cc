// Plan::set_profiling / node_times_ns: per-node times in node_names() order, zeros for the nodes a
// subset run skips, nothing while off, and a profiled run still allocates nothing and (single
// threaded) takes no lock.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include "polyhead/engine.h"
#include "support/allocation_counter.h"
#include "support/lock_counter.h"
#include "support/test_models.h"

using namespace polyhead;

namespace {

struct Fixture {
  std::string path;
  std::unique_ptr<Model> model;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Plan> plan;

  explicit Fixture(const std::string& name) {
    path = testing::write_temp_file(testing::tiny_two_task_model(), name);
    auto loaded = Model::load_file(path);
    REQUIRE(loaded.is_ok());
    model = std::make_unique<Model>(*loaded);
    auto e = Engine::create(*model);
    REQUIRE(e.is_ok());
    engine = std::make_unique<Engine>(std::move(*e));
    auto p = engine->prepare();
    REQUIRE(p.is_ok());
    plan = std::make_unique<Plan>(std::move(*p));
    const auto input = testing::random_values(8 * 8 * 3, 5);
    REQUIRE(plan->set_input("image", input.data(), input.size()).is_ok());
  }
  ~Fixture() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("profiling is off by default and node_times_ns stays empty") {
  Fixture f("polyhead_test_profiling_off.phm");
  CHECK_FALSE(f.plan->profiling());
  REQUIRE(f.plan->run().is_ok());
  CHECK(f.plan->node_times_ns().empty());
}

TEST_CASE("a profiled run times every node in node_names() order") {
  Fixture f("polyhead_test_profiling_on.phm");
  f.plan->set_profiling(true);
  CHECK(f.plan->profiling());
  auto names = f.plan->node_names();
  REQUIRE(names.is_ok());
  // Sized when enabled, before any run.
  REQUIRE(f.plan->node_times_ns().size() == names->size());
  REQUIRE(f.plan->run().is_ok());
  for (size_t i = 0; i < names->size(); ++i) {
    INFO("node " << (*names)[i]);
    CHECK(f.plan->node_times_ns()[i] > 0);
  }
  // The outputs are still computed as without profiling.
  CHECK(f.plan->output("classify", "logits").is_ok());

  f.plan->set_profiling(false);
  CHECK_FALSE(f.plan->profiling());
  CHECK(f.plan->node_times_ns().empty());
}

TEST_CASE("a profiled subset run leaves the skipped heads at zero") {
  Fixture f("polyhead_test_profiling_subset.phm");
  f.plan->set_profiling(true);
  auto all = f.plan->node_names();
  auto segment = f.plan->node_names({"segment"});
  REQUIRE(all.is_ok());
  REQUIRE(segment.is_ok());
  REQUIRE(segment->size() < all->size());
  REQUIRE(f.plan->run().is_ok());             // every entry set ...
  REQUIRE(f.plan->run({"segment"}).is_ok());  // ... then only the segment nodes
  size_t timed = 0;
  for (size_t i = 0; i < all->size(); ++i) {
    const bool needed = std::find(segment->begin(), segment->end(), (*all)[i]) != segment->end();
    INFO("node " << (*all)[i]);
    CHECK((f.plan->node_times_ns()[i] > 0) == needed);
    timed += f.plan->node_times_ns()[i] > 0 ? 1 : 0;
  }
  CHECK(timed == f.plan->last_run_nodes());
}

TEST_CASE("profiling is kept per prepared handle") {
  Fixture f("polyhead_test_profiling_handles.phm");
  auto other = f.engine->prepare();  // the same cached plan, another handle
  REQUIRE(other.is_ok());
  f.plan->set_profiling(true);
  CHECK_FALSE(other->profiling());
  CHECK(other->node_times_ns().empty());
}

TEST_CASE("a profiled run allocates nothing and takes no lock") {
  Fixture f("polyhead_test_profiling_no_alloc.phm");
  f.plan->set_profiling(true);
  REQUIRE(f.plan->run().is_ok());
  bool ok = true;
  const long allocations = testing::count_allocations([&] {
    for (int i = 0; i < 5; ++i) {
      ok = ok && f.plan->run().is_ok();
      ok = ok && f.plan->run({"classify"}).is_ok();
    }
  });
  const long locks = testing::count_locks([&] {
    for (int i = 0; i < 5; ++i) ok = ok && f.plan->run().is_ok();
  });
  REQUIRE(ok);
  CHECK(allocations == 0);
  CHECK(locks == 0);
}
