// polyhead.Engine: a model's kernels and thread pool, and the plans it prepares for task sets.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "errors.h"
#include "handles.h"
#include "task_names.h"

namespace polyhead::python {

namespace {

Precision precision_from_name(const std::string& name) {
  Precision p = Precision::kF32;
  if (!parse_precision(name, &p))
    raise_invalid_argument("precision must be 'f32' or 'f16', got '" + name + "'");
  return p;
}

}  // namespace

void bind_engine(nb::module_& m) {
  nb::class_<ThreadPool>(m, "ThreadPool",
                         "Worker threads several Engines share (thread_pool=...): engines on one "
                         "pool take turns on its threads instead of each starting its own.")
      .def(
          "__init__",
          [](ThreadPool* self, size_t threads) {
            new (self) ThreadPool(value_or_raise(ThreadPool::create(threads)));
          },
          nb::arg("threads") = 0, "threads: 0 = one per logical processor; at most 1024.")
      .def_prop_ro("threads", &ThreadPool::threads)
      .def("__repr__", [](const ThreadPool& p) {
        return nb::str("ThreadPool(threads={})").format(p.threads());
      });

  nb::class_<EngineStats>(m, "EngineStats")
      .def_ro("packed_weight_bytes", &EngineStats::packed_weight_bytes,
              "Weights held by the kernels created so far, shared by all plans.")
      .def_ro("arena_pool_bytes", &EngineStats::arena_pool_bytes,
              "Activation memory the engine's pool holds.")
      .def_ro("sparse_kernel_nodes", &EngineStats::sparse_kernel_nodes,
              "Layers whose block-sparse weights run on the sparse kernel.")
      .def_ro("expanded_sparse_weight_bytes", &EngineStats::expanded_sparse_weight_bytes,
              "Block-sparse weights expanded to dense for the dense kernel.")
      .def_ro("cached_plans", &EngineStats::cached_plans)
      .def_ro("threads", &EngineStats::threads)
      .def("__repr__", [](const EngineStats& s) {
        return nb::str(
                   "EngineStats(packed_weight_bytes={}, arena_pool_bytes={}, "
                   "cached_plans={}, threads={})")
            .format(s.packed_weight_bytes, s.arena_pool_bytes, s.cached_plans, s.threads);
      });

  nb::class_<EngineHandle>(m, "Engine",
                           "Runs a Model: prepare() a Plan per task set once, then run it frame "
                           "after frame. An Engine and its Plans are used from one thread at a "
                           "time; make one Engine per thread (they can share the Model).")
      .def(
          "__init__",
          [](EngineHandle* self, const Model& model, size_t threads, const std::string& precision,
             size_t plan_cache_capacity, bool choose_threads_per_node,
             std::optional<ThreadPool> thread_pool, const std::string& parallel_heads,
             const std::string& sparse_weights) {
            EngineOptions options;
            options.threads = threads;
            options.precision = precision_from_name(precision);
            options.plan_cache_capacity = plan_cache_capacity;
            options.choose_threads_per_node = choose_threads_per_node;
            if (thread_pool) options.thread_pool = *thread_pool;
            options.parallel_heads = value_or_raise(parse_parallel_heads(parallel_heads));
            if (!parse_sparse_weights(sparse_weights, &options.sparse_weights))
              raise_invalid_argument("sparse_weights must be 'auto', 'sparse' or 'dense', found '" +
                                     sparse_weights + "'");
            Engine engine = value_or_raise(Engine::create(model, options));
            new (self) EngineHandle{std::move(engine), options, std::make_shared<EngineUse>()};
          },
          nb::arg("model"), nb::kw_only(), nb::arg("threads") = 1, nb::arg("precision") = "f32",
          nb::arg("plan_cache_capacity") = 8, nb::arg("choose_threads_per_node") = true,
          nb::arg("thread_pool").none() = nb::none(), nb::arg("parallel_heads") = "auto",
          nb::arg("sparse_weights") = "auto",
          "threads: worker threads (0 = one per logical processor). precision: 'f32', or 'f16' "
          "on CPUs with half-precision arithmetic (UnsupportedError elsewhere). "
          "plan_cache_capacity: prepared task sets kept for reuse. choose_threads_per_node: "
          "measure each node with and without the pool over the first runs and keep the faster "
          "(outputs do not change). thread_pool: a ThreadPool shared with other engines (threads "
          "must then stay 1 or equal its size). parallel_heads: 'auto', 'never' or 'always': "
          "whether a plan's heads run concurrently after the shared nodes (outputs do not "
          "change). sparse_weights: 'auto', 'sparse' or 'dense': which kernel runs layers whose "
          "weights the model stores block-sparse (docs/sparse.md).")
      .def(
          "prepare",
          [](EngineHandle& self, nb::handle tasks) {
            const std::vector<std::string> names = task_names_argument(tasks);
            EngineUseScope scope(*self.use);
            Plan plan = value_or_raise(self.engine.prepare(names));
            return PlanHandle{std::move(plan), self.engine, self.use, {}};
          },
          nb::arg("tasks").none() = nb::none(),
          nb::sig("def prepare(self, tasks: " POLYHEAD_TASKS_TYPE " = None) -> Plan"),
          "The Plan for `tasks` (a list of task names; None or empty: every task). Plans of the "
          "same task set share their memory: see Plan.")
      .def_prop_ro("model", [](const EngineHandle& self) { return self.engine.model(); })
      .def_prop_ro("stats",
                   [](EngineHandle& self) {
                     EngineUseScope scope(*self.use);
                     return self.engine.stats();
                   })
      .def_prop_ro(
          "threads", [](const EngineHandle& self) { return self.options.threads; },
          "The threads option it was made with (0 = one per logical processor).")
      .def_prop_ro("precision",
                   [](const EngineHandle& self) { return precision_name(self.options.precision); })
      .def("__repr__", [](const EngineHandle& self) {
        return nb::str("Engine(threads={}, precision='{}')")
            .format(self.options.threads, precision_name(self.options.precision));
      });
}

}  // namespace polyhead::python
