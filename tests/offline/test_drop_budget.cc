// DropBudget (`quantize --auto --max-drop`): parsing one number, one per task or both, with the
// offending item named; which tasks are judged; whether an evaluation is within it; how much of
// it a node uses; and auto_select driven by per-task budgets.
#include <catch2/catch.hpp>

#include <set>

#include "offline/quantize/auto_selection.h"
#include "offline/quantize/drop_budget.h"

using namespace polyhead;
using namespace polyhead::quantize;

namespace {

Evaluation drops(double mask, double landmarks) {
  Evaluation e;
  e.tasks.push_back({"mask", TaskKind::kSegmentation, "1 - mean mask IoU", mask, mask});
  e.tasks.push_back({"landmarks", TaskKind::kLandmarks, "point error", landmarks, landmarks});
  e.worst_drop = std::max(mask, landmarks);
  return e;
}

std::string error_of(const std::string& text) {
  const Result<DropBudget> b = DropBudget::parse(text);
  REQUIRE_FALSE(b.is_ok());
  CHECK(b.status().code() == ErrorCode::kInvalidArgument);
  return b.status().message();
}

}  // namespace

TEST_CASE("drop budget: one number, one per task, or both") {
  Result<DropBudget> b = DropBudget::parse("0.02");
  REQUIRE(b.is_ok());
  CHECK(b->others == 0.02);
  CHECK(b->per_task.empty());
  CHECK(b->limit("anything") == 0.02);
  CHECK(b->text() == "0.02");

  b = DropBudget::parse("landmarks=0.008,mask=0.03");
  REQUIRE(b.is_ok());
  CHECK_FALSE(b->others);
  REQUIRE(b->per_task.size() == 2);
  CHECK(b->per_task[0].first == "landmarks");
  CHECK(b->limit("landmarks") == 0.008);
  CHECK(b->limit("mask") == 0.03);
  CHECK_FALSE(b->limit("faces"));
  CHECK(b->text() == "landmarks 0.008, mask 0.03");

  b = DropBudget::parse("landmarks=0.008,0.05");
  REQUIRE(b.is_ok());
  CHECK(b->others == 0.05);
  CHECK(b->limit("landmarks") == 0.008);
  CHECK(b->limit("mask") == 0.05);
  CHECK(b->text() == "0.05, landmarks 0.008");
  CHECK(DropBudget::parse("0")->others == 0.0);
  CHECK(DropBudget::parse("mask=1")->limit("mask") == 1.0);
}

TEST_CASE("drop budget: bad text is refused with the item named") {
  CHECK(error_of("") == "--max-drop: invalid value '': '' is not a fraction in [0, 1]");
  CHECK(error_of("x") == "--max-drop: invalid value 'x': 'x' is not a fraction in [0, 1]");
  CHECK(error_of("1.5") == "--max-drop: invalid value '1.5': '1.5' is not a fraction in [0, 1]");
  CHECK(error_of("-0.1").find("'-0.1' is not a fraction") != std::string::npos);
  CHECK(error_of("nan").find("'nan' is not a fraction") != std::string::npos);
  CHECK(error_of("0.1,") == "--max-drop: invalid value '0.1,': '' is not a fraction in [0, 1]");
  CHECK(error_of("mask=0.1x") ==
        "--max-drop: invalid value 'mask=0.1x': the budget '0.1x' of "
        "task 'mask' is not a fraction in [0, 1]");
  CHECK(error_of("mask=").find("the budget '' of task 'mask'") != std::string::npos);
  CHECK(error_of("=0.1") == "--max-drop: invalid value '=0.1': '=0.1' has no task name before '='");
  CHECK(error_of("0.1,0.2") ==
        "--max-drop: invalid value '0.1,0.2': more than one budget without a task name");
  CHECK(error_of("mask=0.1,mask=0.2") ==
        "--max-drop: invalid value 'mask=0.1,mask=0.2': task 'mask' is given twice");
}

TEST_CASE("drop budget: judged tasks, within the budget, and the share used") {
  const DropBudget per = *DropBudget::parse("landmarks=0.01,mask=0.05");
  // Without a number for the others, only the named tasks are judged; --tasks wins when given.
  CHECK(per.judged_tasks({}) == std::vector<std::string>{"landmarks", "mask"});
  CHECK(per.judged_tasks({"mask"}) == std::vector<std::string>{"mask"});
  CHECK(DropBudget::parse("0.1,mask=0.05")->judged_tasks({}).empty());  // every task

  CHECK(per.met(drops(0.04, 0.01)));
  CHECK_FALSE(per.met(drops(0.04, 0.011)));  // landmarks over its own budget
  CHECK_FALSE(per.met(drops(0.06, 0.0)));    // mask over its own budget
  // One worst-task number would have refused 0.04 for a 0.01 budget: per task it fits.
  CHECK_FALSE(DropBudget::uniform(0.01).met(drops(0.04, 0.01)));
  CHECK(per.usage(drops(0.04, 0.005)) == Approx(0.8));  // mask: 0.04 / 0.05
  CHECK(per.usage(drops(0.01, 0.02)) == Approx(2.0));   // landmarks: 0.02 / 0.01
  CHECK(DropBudget::uniform(0.1).usage(drops(0.05, 0.0)) == Approx(0.5));
  // A zero budget: any drop uses it without bound, none uses nothing.
  const DropBudget zero = *DropBudget::parse("mask=0");
  CHECK(zero.usage(drops(0, 0.3)) == 0);
  CHECK(zero.usage(drops(0.001, 0)) > 1e300);
  CHECK(zero.met(drops(0, 0.3)));  // landmarks has no budget: not judged
}

TEST_CASE("drop budget: --auto moves nodes back until every task is within its own budget") {
  const std::vector<std::string> ordered = {"a", "b", "c", "d"};
  // a costs the mask 0.04, b the landmarks 0.02; c and d nothing.
  auto scripted = [](const std::set<std::string>& kept) -> Result<Evaluation> {
    return drops(kept.count("a") ? 0 : 0.04, kept.count("b") ? 0 : 0.02);
  };
  // The mask may lose 0.05: only b has to go back (the search keeps the most sensitive first, so
  // b leads the order here as quantizer.cc ranks it by the share of its budget).
  auto r =
      auto_select({"b", "a", "c", "d"}, *DropBudget::parse("mask=0.05,landmarks=0.01"), scripted);
  REQUIRE(r.is_ok());
  CHECK(r->within_budget);
  CHECK(r->kept_float == std::vector<std::string>{"b"});
  CHECK(r->steps.front().budget_use == Approx(2.0));
  CHECK(r->steps.back().budget_use == Approx(0.8));
  // The same worst-task number for both needs a and b back.
  r = auto_select(ordered, DropBudget::uniform(0.01), scripted);
  REQUIRE(r.is_ok());
  CHECK(r->kept_float == std::vector<std::string>{"a", "b"});
}
