// What the Python Engine and Plan objects hold: the library's handles, plus what Python needs on
// top of them.
#pragma once

#include <nanobind/nanobind.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "errors.h"
#include "polyhead/engine.h"

namespace polyhead::python {

namespace nb = nanobind;

// An Engine and its Plans are used from one thread at a time (engine.h). Plan.run releases the
// GIL, so another Python thread could call into the same engine meanwhile: that call is refused
// with an error instead of racing. Shared by an engine and every plan it prepared.
struct EngineUse {
  std::atomic<bool> busy{false};
};

// Marks the engine busy for one call; throws when another thread is inside it.
class EngineUseScope {
 public:
  explicit EngineUseScope(EngineUse& use) : use_(use) {
    if (use_.busy.exchange(true, std::memory_order_acquire))
      raise_invalid_argument(
          "the engine is in use by another thread: an Engine and its Plans are used from one "
          "thread at a time (make one Engine per thread; they can share a Model)");
  }
  ~EngineUseScope() { use_.busy.store(false, std::memory_order_release); }
  EngineUseScope(const EngineUseScope&) = delete;
  EngineUseScope& operator=(const EngineUseScope&) = delete;

 private:
  EngineUse& use_;
};

struct EngineHandle {
  Engine engine;
  EngineOptions options;
  std::shared_ptr<EngineUse> use;
};

struct PlanHandle {
  Plan plan;
  Engine engine;  // the model's input and output declarations, for checking arrays
  std::shared_ptr<EngineUse> use;
  // The arrays bound with Plan.bind_output, kept alive while bound; key (task, output).
  std::map<std::pair<std::string, std::string>, nb::object> bound_outputs;
};

}  // namespace polyhead::python
