// The soak of `polyhead bench --soak`, compiled from the program's sources: its order of subsets
// and plans, its two checks on known inputs, and the whole loop on a small demo model with hooks
// that change an input or fake a growing resident size, so that both checks are seen to fail
// (no real leak in the engine is needed). No test looks at how fast anything ran.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "cli/progress.h"
#include "cli/soak.h"
#include "cli/soak_checks.h"
#include "cli/soak_schedule.h"
#include "support/cli_runner.h"
#include "support/test_files.h"

using namespace polyhead::cli;
namespace testing = polyhead::testing;

namespace {

// One tiny demo model (32x32, width 0.35, three tasks: classify, segment, detect): a soak runs it
// hundreds of times, also under qemu in the ARM suite.
std::string demo_model() {
  static const testing::TempDir dir;
  static const bool written = [] {
    const auto o =
        testing::run_cli({"demo", "--out", dir.path().string(), "--size", "32", "--width", "0.35"});
    INFO(o.output);
    REQUIRE(o.exit_code == 0);
    return true;
  }();
  (void)written;
  return dir / "mobilenet_multitask.phm";
}

SoakConfig small_soak(size_t runs) {
  SoakConfig c;
  c.model_path = demo_model();
  c.runs = runs;
  c.warmup_runs = 100;
  c.sample_every = 10;
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed blocks in quarantine (up to 256 MiB), so every prepare again
  // after an eviction adds resident memory without a leak; LeakSanitizer checks leaks there.
  c.rss_growth_mib = 64;
#endif
  return c;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr uint64_t kMiB = 1024 * 1024;

}  // namespace

TEST_CASE("soak subsets: every non-empty subset of few tasks, else each task and all") {
  const auto three = soak_subsets(3);
  REQUIRE(three.size() == 7);
  CHECK(three.front() == std::vector<size_t>{0});
  CHECK(three.back() == std::vector<size_t>{0, 1, 2});  // the run loop relies on all being last
  for (size_t i = 1; i < three.size(); ++i) CHECK(three[i - 1].size() <= three[i].size());
  CHECK(std::set<std::vector<size_t>>(three.begin(), three.end()).size() == 7);
  CHECK(soak_subsets(4).size() == 15);
  const auto five = soak_subsets(5);
  REQUIRE(five.size() == 6);
  CHECK(five[4] == std::vector<size_t>{4});
  CHECK(five.back() == std::vector<size_t>{0, 1, 2, 3, 4});
  CHECK(soak_subsets(1).size() == 1);
  CHECK(soak_subsets(0).empty());
}

TEST_CASE("soak cycle: every subset once on each plan, seeded and reproducible") {
  uint64_t a = 7, b = 7;
  std::vector<SoakBlock> x, y;
  next_soak_cycle(7, a, x);
  next_soak_cycle(7, b, y);
  REQUIRE(x.size() == 14);
  std::set<std::pair<size_t, bool>> seen;
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK(x[i].subset == y[i].subset);
    CHECK(x[i].own_plan == y[i].own_plan);
    CHECK(x[i].runs == y[i].runs);
    CHECK(x[i].runs >= 1);
    CHECK(x[i].runs <= kMaxBlockRuns);
    seen.insert({x[i].subset, x[i].own_plan});
  }
  CHECK(seen.size() == 14);
  // The next cycle is shuffled anew.
  std::vector<SoakBlock> next = x;
  next_soak_cycle(7, a, next);
  bool differs = false;
  for (size_t i = 0; i < x.size(); ++i)
    differs |= next[i].subset != x[i].subset || next[i].own_plan != x[i].own_plan ||
               next[i].runs != x[i].runs;
  CHECK(differs);
}

TEST_CASE("soak output hash: one changed byte or bit changes it") {
  std::vector<unsigned char> bytes(1003);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 31);
  const uint64_t h = hash_bytes(bytes.data(), bytes.size());
  CHECK(h == hash_bytes(bytes.data(), bytes.size()));
  for (size_t at : {size_t{0}, size_t{7}, size_t{8}, size_t{500}, size_t{1000}, size_t{1002}}) {
    std::vector<unsigned char> changed = bytes;
    changed[at] ^= 1;
    INFO(at);
    CHECK(hash_bytes(changed.data(), changed.size()) != h);
  }
  CHECK(hash_bytes(bytes.data(), bytes.size() - 1) != h);  // the length counts
}

TEST_CASE("soak output checker: the first hash is the reference, a different one is a change") {
  OutputChecker checker(2);
  CHECK(checker.check(0, 11) == OutputChecker::Outcome::kFirst);
  CHECK(checker.check(1, 22) == OutputChecker::Outcome::kFirst);
  CHECK(checker.check(0, 11) == OutputChecker::Outcome::kSame);
  CHECK(checker.check(1, 23) == OutputChecker::Outcome::kChanged);
  CHECK(checker.reference(1) == 22);
  CHECK(checker.checks() == 2);
}

TEST_CASE("soak RSS watch: growth in warm-up is free, after it bounded") {
  RssWatch watch(100, 2 * kMiB);
  CHECK(watch.add(0, 50 * kMiB));
  CHECK(watch.add(50, 80 * kMiB));   // warm-up: anything goes
  CHECK(watch.add(100, 90 * kMiB));  // the baseline
  CHECK(watch.add(150, 91 * kMiB));
  CHECK(watch.add(200, 92 * kMiB));  // exactly the bound
  CHECK(watch.max_drift_bytes() == static_cast<int64_t>(2 * kMiB));
  CHECK(watch.max_drift_run() == 200);
  CHECK_FALSE(watch.add(250, 92 * kMiB + 4096));
  CHECK(watch.start_bytes() == 50 * kMiB);
  CHECK(watch.after_warmup_bytes() == 90 * kMiB);
  CHECK(watch.max_bytes() == 92 * kMiB + 4096);
  // Shrinking is never a failure; the drift is then negative.
  RssWatch shrinking(0, 0);
  CHECK(shrinking.add(0, 10 * kMiB));
  CHECK(shrinking.add(10, 9 * kMiB));
  CHECK(shrinking.max_drift_bytes() == -static_cast<int64_t>(kMiB));
}

TEST_CASE("soak on the demo model: passes, evicts and prepares again, reproducibly") {
  Progress quiet("bench", false);
  auto first = run_soak(small_soak(400), quiet);
  REQUIRE(first.is_ok());
  const SoakResult& r = *first;
  INFO(r.failure);
  CHECK(r.passed);
  CHECK(r.runs_done == 400);
  CHECK(r.subsets.size() == 7);
  CHECK(r.config.plan_cache == 3);  // half the subsets: the cycle cannot keep every plan
  CHECK(r.re_prepares > 0);
  CHECK(r.prepares == r.first_prepares + r.re_prepares + r.cache_hits);
  CHECK(r.first_prepares == 7);  // every subset's own plan, the one of every task among them
  CHECK(r.cached_plans <= 3);
  CHECK(r.output_slots == 32);  // 7 subsets, 16 (subset, task, output), on two plans each
  CHECK(r.output_checks > 0);
  CHECK(r.plan_switches > 0);
  size_t runs = 0;
  for (const SoakSubsetResult& s : r.subsets) runs += s.runs;
  CHECK(runs == 300);
  CHECK(r.latency_ms.count == 300);
  CHECK(r.samples.front().run == 0);
  CHECK(r.samples.back().run == 400);
  CHECK(r.samples.size() == 41);

  auto again = run_soak(small_soak(400), quiet);
  REQUIRE(again.is_ok());
  CHECK(again->plan_switches == r.plan_switches);
  CHECK(again->subset_switches == r.subset_switches);
  CHECK(again->re_prepares == r.re_prepares);
  CHECK(again->cache_hits == r.cache_hits);
  SoakConfig other = small_soak(400);
  other.seed = 2;
  auto reseeded = run_soak(other, quiet);
  REQUIRE(reseeded.is_ok());
  CHECK(reseeded->passed);
  CHECK(reseeded->subset_switches != r.subset_switches);
}

TEST_CASE("soak on the demo model: a changed input fails at once, naming run, subset and output") {
  Progress quiet("bench", false);
  SoakHooks hooks;
  // From run 150 on, whichever plan runs sees another input: the first run of a subset and plan
  // already checked must fail.
  hooks.before_run = [](size_t run, polyhead::Plan& plan) {
    if (run < 150) return;
    for (const std::string& name : plan.input_names()) {
      auto data = plan.input_buffer(name);
      REQUIRE(data.is_ok());
      (*data)[0] = 42.0f;
    }
  };
  auto result = run_soak(small_soak(400), quiet, hooks);
  REQUIRE(result.is_ok());
  INFO(result->failure);
  CHECK_FALSE(result->passed);
  REQUIRE(result->runs_done > 150);
  CHECK(result->runs_done < 400);
  const size_t failed_run = result->runs_done - 1;
  CHECK(contains(result->failure, "run index " + std::to_string(failed_run) + ", subset "));
  CHECK(contains(result->failure, "changed"));
  CHECK(result->output_changed);
  CHECK((contains(result->failure, "of task 'classify'") ||
         contains(result->failure, "of task 'segment'") ||
         contains(result->failure, "of task 'detect'")));
  CHECK(contains(result->failure, "output '"));
}

TEST_CASE("soak on the demo model: resident memory growing after warm-up fails") {
  Progress quiet("bench", false);
  SoakHooks hooks;
  // 64 KiB more per run from run 100 on: over 2 MiB after 33 runs past warm-up.
  hooks.resident_bytes = [](size_t run) -> uint64_t {
    return 100 * kMiB + (run > 100 ? (run - 100) * 64 * 1024 : 0);
  };
  SoakConfig config = small_soak(400);
  config.rss_growth_mib = 2;  // the readings are the hook's, so the default bound holds everywhere
  auto result = run_soak(config, quiet, hooks);
  REQUIRE(result.is_ok());
  INFO(result->failure);
  CHECK_FALSE(result->passed);
  CHECK(result->runs_done == 140);  // the first sample (every 10 runs) over the bound
  CHECK(contains(result->failure, "resident memory grew"));
  CHECK(contains(result->failure, "--soak-rss-growth bound of 2 MiB"));
  CHECK_FALSE(result->output_changed);
  CHECK(result->rss_after_warmup_bytes == 100 * kMiB);
  CHECK(result->rss_max_drift_bytes == 40 * 64 * 1024);

  // The same growth, but only during warm-up: passes.
  hooks.resident_bytes = [](size_t run) -> uint64_t {
    return 100 * kMiB + std::min<size_t>(run, 100) * 64 * 1024;
  };
  auto warm = run_soak(config, quiet, hooks);
  REQUIRE(warm.is_ok());
  CHECK(warm->passed);
  CHECK(warm->rss_max_drift_bytes == 0);
}

TEST_CASE("soak: an unknown task names --tasks") {
  Progress quiet("bench", false);
  SoakConfig c = small_soak(10);
  c.tasks = {"classify", "nope"};
  auto result = run_soak(c, quiet);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == polyhead::ErrorCode::kInvalidArgument);
  CHECK(contains(result.status().message(), "invalid value 'nope' for --tasks"));
}
