// Running a model on input files and reporting its outputs: shared by `polyhead run` and
// `polyhead demo` so the quick start prints exactly what `run` prints.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "polyhead/precision.h"
#include "polyhead/result.h"

namespace polyhead::cli {

struct InputFile {
  std::string name;  // the model input
  std::string path;  // raw little-endian float32 in the input's declared layout
};

struct ExecuteOptions {
  std::string model_path;  // for the report and outputs.json
  std::vector<InputFile> inputs;
  std::vector<std::string> tasks;  // empty = every task
  size_t threads = 1;
  int repeat = 1;        // timed runs; the first one is also reported alone
  std::string dump_dir;  // empty = no dump
  Precision precision = Precision::kF32;
  ParallelHeads parallel_heads = ParallelHeads::kAuto;
  SparseWeights sparse_weights = SparseWeights::kAuto;
  bool report_heads = false;  // print the plan's head groups (`run --parallel-heads`)
};

// Checks every input file against the model (name, size), runs the tasks, prints one summary per
// task output and, with `dump_dir`, writes each output and an outputs.json index.
Status execute_and_report(const Model& model, const ExecuteOptions& options);

}  // namespace polyhead::cli
