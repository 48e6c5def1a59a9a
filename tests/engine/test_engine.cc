// Engine and Plan through the public API: prepare, run, subsets, outputs, and caller errors.
#include <catch2/catch.hpp>

#include "polyhead/engine.h"
#include "support/test_models.h"

using namespace polyhead;

TEST_CASE("a two-task model prepares and runs through the public API") {
  testing::AlignedBytes bytes(testing::tiny_two_task_model());
  auto model = Model::from_buffer(bytes.data.get(), bytes.size);
  REQUIRE(model.is_ok());
  REQUIRE(model->tasks().size() == 2);
  auto engine = Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  REQUIRE(plan.is_ok());
  auto input = testing::random_values(8 * 8 * 3, 7);
  REQUIRE(plan->set_input("image", input.data(), input.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  CHECK(plan->last_run_nodes() == 4);
  auto logits = plan->output("classify", "logits");
  REQUIRE(logits.is_ok());
  CHECK(logits->shape == Shape{1, 5});
  REQUIRE(plan->run({"segment"}).is_ok());
  CHECK(plan->last_run_nodes() == 2);
  CHECK(plan->output("segment", "mask").is_ok());
  CHECK_FALSE(plan->output("classify", "logits").is_ok());
}
