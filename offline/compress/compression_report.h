// What a compressed model ("student": pruned, factorized) costs and saves against the model it
// came from ("teacher"), measured the same way for every compression tool: file size, MACs, arena,
// packed weights, the accuracy drop per task by `polyhead compare`'s metrics
// (quantize::task_drop), and latency timed interleaved in the same process. No fine-tuning is
// involved anywhere: the drop is what the compression alone costs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eval/latency.h"
#include "offline/quantize/sensitivity.h"
#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/sparse_weights.h"

namespace polyhead::compress {

struct CompressionOptions {
  size_t threads = 1;                                   // per engine
  std::vector<std::string> tasks;                       // empty = every task
  compare::LatencyOptions latency;                      // interleaved rounds
  SparseWeights sparse_weights = SparseWeights::kAuto;  // both engines
};

struct ModelFigures {
  uint64_t file_bytes = 0;
  uint64_t macs = 0;  // one pass of the compared tasks
  uint64_t arena_bytes = 0;
  uint64_t packed_weight_bytes = 0;  // EngineStats, after preparing the compared tasks
  uint64_t sparse_kernel_nodes = 0;
  double latency_ms = 0;  // median of the interleaved runs
};

struct CompressionReport {
  ModelFigures teacher, student;
  std::vector<quantize::TaskDrop> tasks;
  double worst_drop = 0;
  size_t images = 0;
  int latency_samples = 0;  // timed runs per model
  size_t threads = 1;

  // student / teacher; 0 when the teacher's figure is 0.
  static double ratio(double student, double teacher) {
    return teacher > 0 ? student / teacher : 0.0;
  }
  double file_ratio() const {
    return ratio(static_cast<double>(student.file_bytes), static_cast<double>(teacher.file_bytes));
  }
  double macs_ratio() const {
    return ratio(static_cast<double>(student.macs), static_cast<double>(teacher.macs));
  }
  double arena_ratio() const {
    return ratio(static_cast<double>(student.arena_bytes),
                 static_cast<double>(teacher.arena_bytes));
  }
  double latency_ratio() const { return ratio(student.latency_ms, teacher.latency_ms); }
};

// Runs both models on `images` through `polyhead compare` (which also times them interleaved),
// then counts MACs and prepares each once more for its memory figures. The file sizes are the
// callers' (a model read from memory has none of its own).
Result<CompressionReport> measure_compression(const Model& teacher, const Model& student,
                                              uint64_t teacher_file_bytes,
                                              uint64_t student_file_bytes,
                                              const std::vector<std::string>& images,
                                              const CompressionOptions& options);

// MACs of one pass of `tasks` (empty = every task), each shared node counted once.
Result<uint64_t> pass_macs(const Model& model, const std::vector<std::string>& tasks);

}  // namespace polyhead::compress
