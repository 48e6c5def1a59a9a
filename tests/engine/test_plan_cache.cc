// PlanCache, through the engine: plans are cached by task set (order-insensitive), the least
// recently prepared is dropped when full, and a dropped plan stays usable while a caller holds it.
#include <catch2/catch.hpp>

#include "polyhead/engine.h"
#include "support/test_models.h"

using namespace polyhead;

TEST_CASE("plans are cached by task set regardless of order") {
  const std::string path =
      testing::write_temp_file(testing::tiny_two_task_model(), "polyhead_test_memory_pool.phm");
  auto model = Model::load_file(path);
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {1, 2});
  REQUIRE(engine.is_ok());
  auto ab = engine->prepare({"classify", "segment"});
  auto ba = engine->prepare({"segment", "classify"});
  REQUIRE(ab.is_ok());
  REQUIRE(ba.is_ok());
  CHECK(engine->stats().cached_plans == 1);
  auto a = engine->prepare({"classify"});
  auto b = engine->prepare({"segment"});
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  CHECK(engine->stats().cached_plans == 2);  // capacity 2: the oldest was dropped
  // Weights were packed once per node, however many plans use them.
  CHECK(engine->stats().packed_weight_bytes > 0);
  const size_t packed = engine->stats().packed_weight_bytes;
  auto again = engine->prepare({"classify", "segment"});
  REQUIRE(again.is_ok());
  CHECK(engine->stats().packed_weight_bytes == packed);
  std::remove(path.c_str());
}

TEST_CASE("a plan dropped from the cache keeps working for its holder") {
  auto model = Model::from_bytes(testing::tiny_two_task_model());
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {1, 1});
  REQUIRE(engine.is_ok());
  auto first = engine->prepare({"classify"});
  REQUIRE(first.is_ok());
  auto second = engine->prepare({"segment"});  // capacity 1: drops the classify plan
  REQUIRE(second.is_ok());
  CHECK(engine->stats().cached_plans == 1);
  auto input = testing::random_values(8 * 8 * 3, 5);
  REQUIRE(first->set_input("image", input.data(), input.size()).is_ok());
  REQUIRE(first->run().is_ok());
  auto logits = first->output("classify", "logits");
  REQUIRE(logits.is_ok());
  CHECK(logits->shape == Shape{1, 5});
}

TEST_CASE("a released plan's arena is reused by the next plan") {
  auto model = Model::from_bytes(testing::tiny_two_task_model());
  REQUIRE(model.is_ok());
  auto engine = Engine::create(*model, {1, 1});
  REQUIRE(engine.is_ok());
  { REQUIRE(engine->prepare({"classify", "segment"}).is_ok()); }
  const size_t pool = engine->stats().arena_pool_bytes;
  CHECK(pool > 0);
  // The first plan was evicted and released: the pool lends its block again, without growing.
  { REQUIRE(engine->prepare({"segment"}).is_ok()); }
  { REQUIRE(engine->prepare({"classify"}).is_ok()); }
  CHECK(engine->stats().arena_pool_bytes == pool);
}
