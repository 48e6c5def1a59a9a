// `polyhead compare` as a library: runs a teacher and a student model on the same photos, each
// through its own declared pre-processing, and compares their results task by task with the
// metric that fits the task's kind; then times both, interleaved, in the same run.
//
//   auto report = compare::compare_models(teacher, student, {"a.jpg", "b.png"}, {});
//   for (const auto& t : report->tasks) ...   // see compare_report.h and docs/compare.md
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "eval/compare_report.h"
#include "eval/latency.h"
#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/sparse_weights.h"

namespace polyhead::compare {

struct CompareOptions {
  double temperature = 1;          // classification: softmax(logits / T); > 0
  double match_iou = 0.5;          // detection: the least IoU for two boxes to match; in (0, 1]
  std::vector<std::string> tasks;  // empty = every task (then both models need the same set)
  size_t threads = 1;              // per engine
  // Both engines' EngineOptions::sparse_weights (the student's sparse layers, usually).
  SparseWeights sparse_weights = SparseWeights::kAuto;
  LatencyOptions latency;
  // Called after each image ("comparing", done, total) and before the timing ("timing", 0, 0);
  // may be empty. `polyhead compare` prints progress lines with it.
  std::function<void(const char* stage, size_t done, size_t total)> progress;
};

// Fails on the first unreadable image (naming it), a model without exactly one image input, or
// tasks that do not pair (see task_pairing.h). Fills everything in the report but the paths and
// the skipped files, which belong to the caller.
Result<CompareReport> compare_models(const Model& teacher, const Model& student,
                                     const std::vector<std::string>& images,
                                     const CompareOptions& options);

}  // namespace polyhead::compare
