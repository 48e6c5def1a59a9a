// The frame scheduler's C API (polyhead/polyhead_c.h, "Frame scheduler"). The scenarios are
// written in C (tests/support/c_api_scheduler_scenarios.c); this file prepares their inputs (the
// model file, an image, the C++ API's output for comparison), runs them, and checks what C cannot
// easily check: that a frame through the C API allocates nothing.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/polyhead_c.h"
#include "support/allocation_counter.h"
#include "support/c_api_scheduler_scenarios.h"
#include "support/test_files.h"
#include "support/test_models.h"

namespace {

// The tiny two-task model in a temp file, removed at exit.
const std::string& model_path() {
  static const polyhead::testing::TempModelFile model(polyhead::testing::tiny_two_task_model(),
                                                      "polyhead_test_c_api_scheduler_");
  return model.path;
}

const std::vector<float>& image() {
  static const std::vector<float> values = polyhead::testing::random_values(8 * 8 * 3, 21);
  return values;
}

std::vector<float> cpp_logits() {
  auto model = polyhead::Model::load_file(model_path());
  REQUIRE(model.is_ok());
  auto engine = polyhead::Engine::create(*model);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare({"classify"});
  REQUIRE(plan.is_ok());
  REQUIRE(plan->set_input("image", image().data(), image().size()).is_ok());
  REQUIRE(plan->run().is_ok());
  auto logits = plan->output("classify", "logits");
  REQUIRE(logits.is_ok());
  return std::vector<float>(logits->f32(), logits->f32() + logits->shape.elements());
}

struct Message {
  char text[2048] = "";
};

}  // namespace

TEST_CASE("c_api scheduler: rates, outputs, exact times and figures on an injected clock") {
  const std::vector<float> logits = cpp_logits();
  REQUIRE(logits.size() == 5);
  Message m;
  INFO(m.text);
  CHECK(phs_scheduler_run(model_path().c_str(), image().data(), image().size(), logits.data(),
                          m.text, sizeof m.text) == 1);
}

TEST_CASE("c_api scheduler: a budget defers, max_deferrals forces") {
  Message m;
  INFO(m.text);
  CHECK(phs_scheduler_budget(model_path().c_str(), image().data(), image().size(), m.text,
                             sizeof m.text) == 1);
}

TEST_CASE("c_api scheduler: every refusal has a code and a message naming the culprit") {
  Message m;
  INFO(m.text);
  CHECK(phs_scheduler_errors(model_path().c_str(), image().data(), image().size(), m.text,
                             sizeof m.text) == 1);
}

TEST_CASE("c_api scheduler: a frame allocates nothing after the first") {
  ph_model* model = nullptr;
  ph_engine* engine = nullptr;
  ph_plan* plan = nullptr;
  ph_frame_scheduler* scheduler = nullptr;
  REQUIRE(ph_model_load_file(model_path().c_str(), &model) == PH_OK);
  REQUIRE(ph_engine_create(model, nullptr, &engine) == PH_OK);
  REQUIRE(ph_plan_prepare(engine, nullptr, 0, &plan) == PH_OK);
  REQUIRE(ph_plan_set_input(plan, "image", image().data(), image().size()) == PH_OK);
  ph_task_schedule every_third{};
  every_third.task = "segment";
  every_third.every_n_frames = 3;
  ph_scheduled_plan plans[1] = {{"cam", plan, &every_third, 1}};
  ph_scheduler_options options = ph_scheduler_options_default();
  options.budget_ms = 0.02;
  REQUIRE(ph_frame_scheduler_create(plans, 1, &options, &scheduler) == PH_OK);
  REQUIRE(ph_frame_scheduler_run_frame(scheduler, 0, nullptr) == PH_OK);
  bool ok = true;
  uint64_t ran_classify = 0;
  const long allocations = polyhead::testing::count_allocations([&] {
    for (int f = 0; f < 30; ++f) {
      ph_frame_outcome outcome;
      outcome.struct_size = sizeof outcome;
      ok = ok && ph_frame_scheduler_run_frame(scheduler, 0, &outcome) == PH_OK;
      uint64_t ran = 0;
      ok = ok && ph_frame_scheduler_frame_tasks(scheduler, 0, &ran, nullptr) == PH_OK;
      ran_classify += ran & 1u;
      if (f % 5 == 0) ok = ok && ph_frame_scheduler_count_dropped_frame(scheduler) == PH_OK;
    }
  });
  CHECK(ok);
  CHECK(allocations == 0);
  CHECK(ran_classify > 0);
  ph_frame_scheduler_free(scheduler);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
}
