// The Polyhead driver of the peer suite: loads .phm models (Engine::create with the thread count,
// prepare) and runs each once, then runs each (all its tasks, one pass) in order per timed run,
// prints one JSON line (peer_timing.h, protocol in peer_common.py). `--models none` measures the
// process without a model (the memory baseline).
#include <memory>

#include "peer_timing.h"
#include "polyhead/engine.h"
#include "polyhead/model.h"

using namespace polyhead;

int main(int argc, char** argv) {
  peers::PeerOptions o;
  std::string error;
  if (!peers::parse_peer_options(argc, argv, &o, &error)) {
    peers::print_error("polyhead", error);
    return 2;
  }
  const long rss_before = peers::peak_rss_kb();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Engine> engines;
  std::vector<Plan> plans;
  for (const std::string& path : o.models) {
    auto model = Model::load_file(path);
    if (!model.is_ok()) {
      peers::print_error("polyhead", path + ": " + model.status().message());
      return 3;
    }
    auto engine = Engine::create(*model, {static_cast<size_t>(o.threads)});
    if (!engine.is_ok()) {
      peers::print_error("polyhead", engine.status().message());
      return 3;
    }
    auto plan = engine->prepare();
    if (!plan.is_ok()) {
      peers::print_error("polyhead", plan.status().message());
      return 3;
    }
    unsigned seed = 1;
    for (const InputInfo& in : model->inputs()) {
      auto buffer = plan->input_buffer(in.name);
      if (!buffer.is_ok()) {
        peers::print_error("polyhead", buffer.status().message());
        return 3;
      }
      peers::fill_input(*buffer, static_cast<size_t>(in.shape.elements()), seed++);
    }
    engines.push_back(std::move(*engine));
    plans.push_back(std::move(*plan));
    // load_ms ends at the first result, as in every driver (some runtimes finish their set-up
    // in the first run).
    const Status first = plans.back().run();
    if (!first.is_ok()) {
      peers::print_error("polyhead", first.message());
      return 1;
    }
  }
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::string failure;
  const std::vector<double> ms = peers::time_runs(o.warmup, o.runs, [&] {
    for (Plan& p : plans) {
      const Status s = p.run();
      if (!s.is_ok()) {
        failure = s.message();
        return false;
      }
    }
    return true;
  });
  if (!failure.empty()) {
    peers::print_error("polyhead", failure);
    return 1;
  }
  peers::print_result("polyhead", ms, load_ms, rss_before);
  return 0;
}
