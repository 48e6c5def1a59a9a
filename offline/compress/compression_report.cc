#include "offline/compress/compression_report.h"

#include <algorithm>

#include "eval/comparer.h"
#include "offline/graph/graph_costs.h"
#include "polyhead/engine.h"

namespace polyhead::compress {

Result<uint64_t> pass_macs(const Model& model, const std::vector<std::string>& tasks) {
  PH_ASSIGN_OR_RETURN(const graph::GraphCosts costs, graph::read_graph_costs(model));
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(tasks));
  PH_ASSIGN_OR_RETURN(const std::vector<std::string> names, plan.node_names());
  PH_ASSIGN_OR_RETURN(const std::vector<size_t> nodes, graph::resolve_nodes(names, costs));
  uint64_t macs = 0;
  for (size_t n : nodes) macs += costs.nodes[n].macs;
  return macs;
}

namespace {

// Arena, packed weights and sparse layers of one model with the compared tasks prepared.
Status memory_figures(const Model& model, const CompressionOptions& o, ModelFigures& f) {
  EngineOptions eo;
  eo.threads = o.threads;
  eo.sparse_weights = o.sparse_weights;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model, eo));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(o.tasks));
  f.arena_bytes = plan.info().arena_bytes;
  f.packed_weight_bytes = engine.stats().packed_weight_bytes;
  f.sparse_kernel_nodes = engine.stats().sparse_kernel_nodes;
  PH_ASSIGN_OR_RETURN(f.macs, pass_macs(model, o.tasks));
  return Status::ok();
}

}  // namespace

Result<CompressionReport> measure_compression(const Model& teacher, const Model& student,
                                              uint64_t teacher_file_bytes,
                                              uint64_t student_file_bytes,
                                              const std::vector<std::string>& images,
                                              const CompressionOptions& options) {
  compare::CompareOptions co;
  co.threads = options.threads;
  co.tasks = options.tasks;
  co.latency = options.latency;
  co.sparse_weights = options.sparse_weights;
  PH_ASSIGN_OR_RETURN(const compare::CompareReport compared,
                      compare::compare_models(teacher, student, images, co));
  CompressionReport r;
  for (const compare::TaskComparison& c : compared.tasks) {
    r.tasks.push_back(quantize::task_drop(c));
    r.worst_drop = std::max(r.worst_drop, r.tasks.back().drop);
  }
  r.images = images.size();
  r.latency_samples = compared.latency_rounds * compared.latency_runs;
  r.threads = options.threads;
  r.teacher.file_bytes = teacher_file_bytes;
  r.student.file_bytes = student_file_bytes;
  r.teacher.latency_ms = compared.teacher.latency_ms;
  r.student.latency_ms = compared.student.latency_ms;
  PH_RETURN_IF_ERROR(memory_figures(teacher, options, r.teacher));
  PH_RETURN_IF_ERROR(memory_figures(student, options, r.student));
  return r;
}

}  // namespace polyhead::compress
