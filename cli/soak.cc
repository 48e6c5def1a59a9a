#include "cli/soak.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "cli/bench_model.h"
#include "cli/format.h"
#include "cli/process_memory.h"
#include "cli/soak_checks.h"
#include "cli/soak_schedule.h"

namespace polyhead::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// What the engine's plan cache holds (runtime::PlanCache: the least recently prepared task set is
// dropped first when a new one needs room), followed step by step, so that a prepare can be told
// to be a hit, a first prepare or a prepare again without the engine reporting it.
class PlanCacheMirror {
 public:
  enum class Outcome { kHit, kFirst, kAgain };

  PlanCacheMirror(size_t capacity, size_t keys) : capacity_(capacity), ever_(keys, 0) {
    order_.reserve(capacity + 1);
  }

  Outcome prepare(size_t key) {
    const auto it = std::find(order_.begin(), order_.end(), key);
    if (it != order_.end()) {
      order_.erase(it);
      order_.insert(order_.begin(), key);
      return Outcome::kHit;
    }
    while (!order_.empty() && order_.size() >= capacity_) order_.pop_back();
    order_.insert(order_.begin(), key);
    const bool first = !ever_[key];
    ever_[key] = 1;
    return first ? Outcome::kFirst : Outcome::kAgain;
  }
  size_t size() const { return order_.size(); }

 private:
  size_t capacity_;
  std::vector<size_t> order_;  // most recent first
  std::vector<char> ever_;     // per key: prepared at least once
};

// One output that a run of a subset must reproduce, and its reference slot on each plan.
struct CheckedOutput {
  const std::string* task = nullptr;
  const std::string* output = nullptr;
  size_t key = 0;  // (task, output) across subsets, for the agreement figure
  size_t slot_full = 0;
  size_t slot_own = 0;
};

std::string subset_label(const std::vector<std::string>& tasks) {
  return join(tasks, "+");
}

// A fixed input per model input, drawn from the seed: values in [-1, 1).
std::vector<std::vector<float>> seeded_inputs(const Model& model, uint64_t seed) {
  uint64_t state = seed ^ 0x5eed5eed5eed5eedull;
  std::vector<std::vector<float>> inputs;
  for (const InputInfo& in : model.inputs()) {
    std::vector<float> v(static_cast<size_t>(in.shape.elements()));
    for (float& x : v)
      x = static_cast<float>(static_cast<double>(next_random(state) >> 11) * 0x1.0p-52 - 1.0);
    inputs.push_back(std::move(v));
  }
  return inputs;
}

Status set_inputs(const Model& model, const std::vector<std::vector<float>>& values, Plan& plan) {
  for (const std::string& name : plan.input_names())
    for (size_t i = 0; i < model.inputs().size(); ++i)
      if (model.inputs()[i].name == name)
        PH_RETURN_IF_ERROR(plan.set_input(name, values[i].data(), values[i].size()));
  return Status::ok();
}

double median_of(const std::vector<double>& samples, size_t begin, size_t end) {
  if (end <= begin) return 0;
  std::vector<double> v(samples.begin() + static_cast<std::ptrdiff_t>(begin),
                        samples.begin() + static_cast<std::ptrdiff_t>(end));
  return summarize(std::move(v)).median;
}

}  // namespace

size_t default_soak_warmup(size_t runs) {
  return std::min(std::max(runs / 100, size_t{200}), runs / 2);
}

size_t default_soak_sample(size_t runs) {
  return std::max(runs / 200, size_t{1});
}

size_t default_soak_plan_cache(size_t subsets) {
  return std::max(subsets / 2, size_t{1});
}

Result<SoakResult> run_soak(const SoakConfig& config, Progress& progress, const SoakHooks& hooks) {
  const auto started = Clock::now();
  SoakResult r;
  progress.stage("loading " + config.model_path);
  PH_ASSIGN_OR_RETURN(const Model model, load_bench_model(config.model_path, r.model_format));
  PH_RETURN_IF_ERROR(check_bench_tasks(model, config.tasks));
  if (config.tasks.empty())
    for (const TaskInfo& t : model.tasks()) r.tasks.push_back(t.name);
  else
    r.tasks = config.tasks;

  // Subsets by name, as C strings for the allocation-free Plan::run, and their outputs.
  const std::vector<std::vector<size_t>> subsets = soak_subsets(r.tasks.size());
  const size_t subset_count = subsets.size();
  std::vector<std::vector<std::string>> names(subset_count);
  std::vector<std::vector<const char*>> c_names(subset_count);
  std::vector<std::vector<CheckedOutput>> outputs(subset_count);
  std::vector<const TaskInfo*> infos;
  for (const std::string& task : r.tasks)
    for (const TaskInfo& t : model.tasks())
      if (t.name == task) infos.push_back(&t);
  std::vector<size_t> first_key(r.tasks.size(), 0);
  size_t keys = 0;
  for (size_t t = 0; t < infos.size(); ++t) {
    first_key[t] = keys;
    keys += infos[t]->outputs.size();
  }
  size_t slots = 0;
  for (size_t s = 0; s < subset_count; ++s) {
    for (size_t t : subsets[s]) names[s].push_back(r.tasks[t]);
    for (const std::string& n : names[s]) c_names[s].push_back(n.c_str());
    for (size_t t : subsets[s])
      for (size_t o = 0; o < infos[t]->outputs.size(); ++o) {
        CheckedOutput c;
        c.task = &infos[t]->name;
        c.output = &infos[t]->outputs[o].name;
        c.key = first_key[t] + o;
        c.slot_full = slots++;
        c.slot_own = slots++;
        outputs[s].push_back(c);
      }
  }
  const size_t all_key = subset_count - 1;  // the last subset holds every task

  SoakConfig& c = r.config;
  c = config;
  if (config.warmup_runs == kSoakDefaultWarmup) c.warmup_runs = default_soak_warmup(config.runs);
  c.sample_every = config.sample_every ? config.sample_every : default_soak_sample(config.runs);
  c.plan_cache = config.plan_cache ? config.plan_cache : default_soak_plan_cache(subset_count);
  const size_t runs = c.runs;
  r.rss_bound_bytes = static_cast<uint64_t>(c.rss_growth_mib * 1024.0 * 1024.0);

  progress.stage("preparing " + join(r.tasks, ", ") + ", " +
                 (c.threads == 0 ? std::string("one thread per logical processor")
                                 : counted(c.threads, "thread")));
  EngineOptions options;
  options.threads = c.threads;
  options.parallel_heads = c.parallel_heads;
  options.sparse_weights = c.sparse_weights;
  options.plan_cache_capacity = c.plan_cache;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model, options));
  r.resolved_threads = engine.stats().threads;
  PlanCacheMirror cache(c.plan_cache, subset_count);
  PH_ASSIGN_OR_RETURN(Plan full, engine.prepare(r.tasks));
  cache.prepare(all_key);
  ++r.prepares;
  ++r.first_prepares;
  const std::vector<std::vector<float>> input_values = seeded_inputs(model, c.seed);
  PH_RETURN_IF_ERROR(set_inputs(model, input_values, full));

  // Everything the loop writes is sized and written here, not only reserved: pages reserved but
  // first touched later would count as growth after warm-up (about 100 KiB over 100,000 runs),
  // and what grows must be the engine's alone.
  std::vector<double> latency(runs, 0);
  std::vector<uint16_t> run_subset(runs, 0);
  std::vector<double> prepare_ms(runs, 0);  // a prepare precedes at least one run
  size_t prepares_timed = 0;
  std::vector<double> window(std::max(c.sample_every, c.warmup_runs) + 1, 0);
  r.samples.assign(runs / c.sample_every + 3, SoakSample{});
  size_t sample_count = 0;
  OutputChecker checker(slots);
  RssWatch watch(c.warmup_runs, r.rss_bound_bytes);
  std::vector<SoakBlock> blocks;
  blocks.reserve(2 * subset_count);

  size_t last_sample_run = 0;
  auto sample = [&](size_t done) -> bool {
    SoakSample s;
    s.run = done;
    s.rss_bytes = hooks.resident_bytes ? hooks.resident_bytes(done) : resident_bytes();
    if (done > last_sample_run) {
      const auto end =
          std::copy(latency.begin() + static_cast<std::ptrdiff_t>(last_sample_run),
                    latency.begin() + static_cast<std::ptrdiff_t>(done), window.begin());
      auto mid = window.begin() + (end - window.begin()) / 2;
      std::nth_element(window.begin(), mid, end);
      s.median_ms = *mid;
    }
    last_sample_run = done;
    r.samples[sample_count++] = s;
    if (done == c.warmup_runs) r.arena_pool_after_warmup_bytes = engine.stats().arena_pool_bytes;
    if (watch.add(done, s.rss_bytes)) return true;
    r.passed = false;
    r.failure = "resident memory grew " +
                format_bytes(static_cast<uint64_t>(std::max<int64_t>(watch.max_drift_bytes(), 0))) +
                " after warm-up (" + format_bytes(watch.after_warmup_bytes()) + " after the " +
                counted(c.warmup_runs, "warm-up run") + ", " + format_bytes(s.rss_bytes) +
                " after " + counted(done, "run") + "), over the --soak-rss-growth bound of " +
                format_float(c.rss_growth_mib, 4) + " MiB";
    return false;
  };

  progress.stage("soak: " + counted(runs, "run") + " over " + counted(subset_count, "task subset") +
                 ", each on the plan of every task and on " + "its own (plan cache of " +
                 std::to_string(c.plan_cache) + "), seed " + std::to_string(c.seed) + ", warm-up " +
                 counted(c.warmup_runs, "run"));
  const std::string step_name = "soak";
  sample(0);
  uint64_t state = c.seed;
  std::optional<Plan> own;
  size_t own_subset = subset_count;  // none
  size_t previous_plan = SIZE_MAX, previous_subset = SIZE_MAX;
  size_t run = 0;
  while (run < runs && r.passed) {
    next_soak_cycle(subset_count, state, blocks);
    for (const SoakBlock& b : blocks) {
      if (run >= runs || !r.passed) break;
      Plan* plan = &full;
      size_t plan_id = 0;
      if (b.own_plan) {
        if (own_subset != b.subset) {
          // Drop the previous plan first, so that one the cache evicted frees its arena for the
          // next one, as an application switching task sets would.
          own.reset();
          const auto t0 = Clock::now();
          auto prepared = engine.prepare(names[b.subset]);
          const double ms = ms_between(t0, Clock::now());
          if (!prepared.is_ok())
            return Status(prepared.status().code(), "prepare of " + subset_label(names[b.subset]) +
                                                        " before run index " + std::to_string(run) +
                                                        ": " + prepared.status().message());
          ++r.prepares;
          switch (cache.prepare(b.subset)) {
            case PlanCacheMirror::Outcome::kHit:
              ++r.cache_hits;
              break;
            case PlanCacheMirror::Outcome::kFirst:
              ++r.first_prepares;
              prepare_ms[prepares_timed++] = ms;
              break;
            case PlanCacheMirror::Outcome::kAgain:
              ++r.re_prepares;
              prepare_ms[prepares_timed++] = ms;
              break;
          }
          own = std::move(*prepared);
          PH_RETURN_IF_ERROR(set_inputs(model, input_values, *own));
          own_subset = b.subset;
        }
        plan = &*own;
        plan_id = 1 + b.subset;
      }
      for (size_t k = 0; k < b.runs && run < runs && r.passed; ++k) {
        if (run > 0 && plan_id != previous_plan) ++r.plan_switches;
        if (run > 0 && b.subset != previous_subset) ++r.subset_switches;
        previous_plan = plan_id;
        previous_subset = b.subset;
        if (hooks.before_run) hooks.before_run(run, *plan);
        const std::vector<const char*>& tasks = c_names[b.subset];
        const auto t0 = Clock::now();
        const Status ran = b.own_plan ? plan->run() : plan->run(tasks.data(), tasks.size());
        latency[run] = ms_between(t0, Clock::now());
        run_subset[run] = static_cast<uint16_t>(b.subset);
        if (!ran.is_ok())
          return Status(ran.code(), "run index " + std::to_string(run) + " (" +
                                        subset_label(names[b.subset]) + "): " + ran.message());
        for (const CheckedOutput& o : outputs[b.subset]) {
          auto view = plan->output(*o.task, *o.output);
          if (!view.is_ok()) return view.status();
          const uint64_t h = hash_bytes(view->data, view->bytes());
          const size_t slot = b.own_plan ? o.slot_own : o.slot_full;
          if (checker.check(slot, h) != OutputChecker::Outcome::kChanged) continue;
          r.passed = false;
          r.output_changed = true;
          r.failure =
              "run index " + std::to_string(run) + ", subset " + subset_label(names[b.subset]) +
              (b.own_plan ? " on its own plan" : " on the plan of every task") + ": output '" +
              *o.output + "' of task '" + *o.task + "' changed (hash " + std::to_string(h) +
              ", its first run gave " + std::to_string(checker.reference(slot)) + ")";
          break;
        }
        ++run;
        if (r.passed && (run % c.sample_every == 0 || run == c.warmup_runs || run == runs))
          sample(run);
        progress.step(step_name, run, runs, "runs");
      }
    }
  }
  r.runs_done = run;
  own.reset();

  // Figures.
  r.cached_plans = engine.stats().cached_plans;
  r.arena_pool_end_bytes = engine.stats().arena_pool_bytes;
  r.output_slots = 0;
  for (size_t s = 0; s < slots; ++s) r.output_slots += checker.seen(s) ? 1 : 0;
  r.output_checks = checker.checks();
  std::vector<uint64_t> agreed(keys, 0);
  std::vector<char> agreed_set(keys, 0);
  for (const std::vector<CheckedOutput>& list : outputs)
    for (const CheckedOutput& o : list)
      for (size_t slot : {o.slot_full, o.slot_own}) {
        if (!checker.seen(slot)) continue;
        if (!agreed_set[o.key]) {
          agreed_set[o.key] = 1;
          agreed[o.key] = checker.reference(slot);
        } else if (agreed[o.key] != checker.reference(slot)) {
          r.outputs_agree_across_plans = false;
        }
      }
  r.rss_start_bytes = watch.start_bytes();
  r.rss_after_warmup_bytes = watch.after_warmup_bytes();
  r.rss_end_bytes = watch.last_bytes();
  r.rss_max_bytes = watch.max_bytes();
  r.rss_max_drift_bytes = watch.max_drift_bytes();
  r.rss_max_drift_run = watch.max_drift_run();
  r.peak_rss_bytes = peak_resident_bytes();

  const size_t from = std::min(c.warmup_runs, r.runs_done);
  r.latency_ms =
      summarize(std::vector<double>(latency.begin() + static_cast<std::ptrdiff_t>(from),
                                    latency.begin() + static_cast<std::ptrdiff_t>(r.runs_done)));
  const size_t measured = r.runs_done - from;
  const size_t decile = measured / 10;
  if (decile > 0) {
    r.first_decile_median_ms = median_of(latency, from, from + decile);
    r.last_decile_median_ms = median_of(latency, r.runs_done - decile, r.runs_done);
  }
  r.samples.resize(sample_count);
  prepare_ms.resize(prepares_timed);
  r.prepare_median_ms = summarize(prepare_ms).median;
  for (size_t s = 0; s < subset_count; ++s) {
    SoakSubsetResult sr;
    sr.tasks = names[s];
    std::vector<double> v;
    for (size_t i = from; i < r.runs_done; ++i)
      if (run_subset[i] == s) v.push_back(latency[i]);
    sr.runs = v.size();
    sr.latency_ms = summarize(std::move(v));
    r.subsets.push_back(std::move(sr));
  }
  r.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  return r;
}

}  // namespace polyhead::cli
