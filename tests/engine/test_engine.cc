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

TEST_CASE("threads per node: chosen over the first runs, outputs bit-identical to the pool") {
  // Every operator kind, three tasks: the choice is measured per node and must not change a bit
  // of any output, on any run (the calibration runs included) or after the choice.
  auto model = Model::from_bytes(testing::every_operator_model());
  REQUIRE(model.is_ok());
  auto run_all = [&](size_t threads, bool choose, int runs, PlanInfo* info) {
    EngineOptions o;
    o.threads = threads;
    o.choose_threads_per_node = choose;
    auto engine = Engine::create(*model, o);
    REQUIRE(engine.is_ok());
    auto plan = engine->prepare();
    REQUIRE(plan.is_ok());
    for (const InputInfo& in : model->inputs()) {
      const auto values = testing::random_values(static_cast<size_t>(in.shape.elements()), 5, 1.f);
      REQUIRE(plan->set_input(in.name, values.data(), values.size()).is_ok());
    }
    std::vector<std::vector<float>> outputs;
    for (int r = 0; r < runs; ++r) {
      REQUIRE(plan->run().is_ok());
      std::vector<float> all;
      for (const TaskInfo& t : model->tasks())
        for (const auto& out : t.outputs) {
          auto v = plan->output(t.name, out.name);
          REQUIRE(v.is_ok());
          all.insert(all.end(), v->f32(), v->f32() + v->shape.elements());
        }
      outputs.push_back(all);
    }
    *info = plan->info();
    return outputs;
  };
  PlanInfo fixed_info, chosen_info, one_info;
  const auto fixed = run_all(2, false, 1, &fixed_info);
  const auto chosen = run_all(2, true, 9, &chosen_info);
  for (size_t r = 0; r < chosen.size(); ++r) {
    INFO("run " << r);
    CHECK(chosen[r] == fixed[0]);
  }
  // One warm-up run, then three runs each way: every node has chosen after seven runs.
  CHECK(chosen_info.nodes_with_thread_choice == chosen_info.nodes);
  CHECK(chosen_info.nodes_on_calling_thread <= chosen_info.nodes);
  CHECK(fixed_info.nodes_with_thread_choice == 0);
  run_all(1, true, 9, &one_info);
  CHECK(one_info.nodes_with_thread_choice == 0);  // one thread: nothing to choose
}
