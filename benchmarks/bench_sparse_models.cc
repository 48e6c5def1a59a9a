// Whole models with block-sparse weights, each layer on the sparse kernel against the same model
// with its sparse weights expanded for the dense kernel, in one process, interleaved
// (interleaved_rounds.h): `sparse_weights` sparse, auto and dense on one .phm, and optionally a
// second file (the same model converted or pruned without sparse storage) as the baseline.
//
//   bench_sparse_models MODEL.phm [--baseline DENSE.phm] [--rounds 15] [--runs 20] [--threads 1]
//
// Prints each set-up's median latency, its layers on the sparse kernel and expanded bytes, and
// the per-round ratio to the first set-up (dense) as median [p25, p75]. It asserts nothing.
#include <cstdio>
#include <string>
#include <vector>

#include "polyhead/engine.h"

#include "interleaved_rounds.h"

namespace {

using namespace polyhead;
using bench::Clock;
using bench::ms_since;

struct Setup {
  std::string name;
  Model model;
  SparseWeights mode;
};

struct Runner {
  Engine engine;
  Plan plan;
  std::vector<double> run_ms;
  std::vector<double> round_ms;
};

Status fill_inputs(const Model& model, Plan& plan) {
  for (const InputInfo& in : model.inputs()) {
    PH_ASSIGN_OR_RETURN(float* dst, plan.input_buffer(in.name));
    const auto n = static_cast<size_t>(in.shape.elements());
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(i % 251) / 251.f - 0.5f;
  }
  return Status::ok();
}

Result<Runner> make_runner(const Setup& s, size_t threads) {
  EngineOptions o;
  o.threads = threads;
  o.sparse_weights = s.mode;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(s.model, o));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare());
  PH_RETURN_IF_ERROR(fill_inputs(s.model, plan));
  for (int i = 0; i < 5; ++i) PH_RETURN_IF_ERROR(plan.run());  // warm-up
  return Runner{engine, plan, {}, {}};
}

int fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench_sparse_models: %s: %s\n", what.c_str(), s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fprintf(stderr,
                 "usage: %s MODEL.phm [--baseline DENSE.phm] [--rounds R] [--runs N] "
                 "[--threads T]\n",
                 argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const std::string baseline = bench::option_text(argc, argv, "--baseline", "");
  const long rounds = bench::option_value(argc, argv, "--rounds", 15);
  const long runs = bench::option_value(argc, argv, "--runs", 20);
  const auto threads = static_cast<size_t>(bench::option_value(argc, argv, "--threads", 1));

  auto model = Model::load_file(path);
  if (!model.is_ok()) return fail(path, model.status());
  std::vector<Setup> setups{{"sparse weights expanded (dense)", *model, SparseWeights::kDense},
                            {"sparse kernel everywhere (sparse)", *model, SparseWeights::kSparse},
                            {"measured break-even (auto)", *model, SparseWeights::kAuto}};
  if (!baseline.empty()) {
    auto dense = Model::load_file(baseline);
    if (!dense.is_ok()) return fail(baseline, dense.status());
    setups.push_back({"dense file " + baseline, *dense, SparseWeights::kAuto});
  }
  std::vector<Runner> runners;
  for (const Setup& s : setups) {
    auto r = make_runner(s, threads);
    if (!r.is_ok()) return fail(s.name, r.status());
    runners.push_back(std::move(*r));
  }
  std::vector<std::vector<double>> ratios(setups.size());
  for (long round = 0; round < rounds; ++round) {
    for (size_t k : bench::round_order(setups.size(), static_cast<size_t>(round))) {
      std::vector<double> samples;
      for (long i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        const Status s = runners[k].plan.run();
        if (!s.is_ok()) return fail(setups[k].name, s);
        samples.push_back(ms_since(start));
      }
      runners[k].run_ms.insert(runners[k].run_ms.end(), samples.begin(), samples.end());
      runners[k].round_ms.push_back(bench::median(samples));
    }
    for (size_t k = 0; k < setups.size(); ++k)
      ratios[k].push_back(runners[k].round_ms.back() / runners[0].round_ms.back());
  }
  std::printf("%s: %ld rounds x %ld runs per set-up, %zu thread(s)\n", path.c_str(), rounds, runs,
              threads);
  std::printf("%-44s %10s %8s %14s  %s\n", "set-up", "median ms", "sparse", "expanded",
              "ratio to dense [p25, p75]");
  for (size_t k = 0; k < setups.size(); ++k) {
    const EngineStats st = runners[k].engine.stats();
    const bench::Spread r = bench::spread_of(ratios[k]);
    std::printf("%-44s %10.3f %8zu %11zu KiB  %.3f [%.3f, %.3f]%s\n", setups[k].name.c_str(),
                bench::median(runners[k].run_ms), st.sparse_kernel_nodes,
                st.expanded_sparse_weight_bytes / 1024, r.median, r.p25, r.p75,
                k > 0 && r.within_noise() ? " (within noise)" : "");
  }
  return 0;
}
