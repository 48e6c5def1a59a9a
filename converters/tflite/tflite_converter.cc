#include "converters/tflite/tflite_converter.h"

#include "converters/common/import_options.h"
#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handler_table.h"
#include "converters/tflite/presets.h"
#include "converters/tflite/tensor_data.h"
#include "converters/tflite/tflite_model.h"
#include "polyhead/model.h"
#include "polyhead/model_builder.h"

namespace polyhead::tflite {
namespace {

// Tensor types the converter rejects wherever they appear, naming the tensor. Other types are
// checked where they are used.
Status check_tensor_types(const TfModel& m) {
  for (const TfTensor& t : m.tensors) {
    if (t.type == kTfUInt8)
      return Status(ErrorCode::kUnsupported,
                    "tensor '" + t.name +
                        "' is UINT8: uint8 (asymmetric) models are not supported; re-export "
                        "with int8");
    if (t.type == kTfInt16)
      return Status(ErrorCode::kUnsupported,
                    "tensor '" + t.name +
                        "' is INT16: int16 activations (16x8 quantization) are not supported; "
                        "re-export with int8");
  }
  return Status::ok();
}

}  // namespace

std::vector<std::string> known_presets() {
  return preset_names();
}

Result<std::vector<uint8_t>> convert(const std::vector<uint8_t>& bytes,
                                     const ConvertOptions& options) {
  return convert(bytes, options, nullptr);
}

Result<std::vector<uint8_t>> convert(const std::vector<uint8_t>& bytes,
                                     const ConvertOptions& options, ConvertReport* report) {
  if (!options.preset.empty() && !options.tasks.empty())
    return Status(ErrorCode::kInvalidArgument, "a preset defines the tasks: drop --task");
  PH_ASSIGN_OR_RETURN(TfModel m, read_tflite(bytes.data(), bytes.size()));
  PH_RETURN_IF_ERROR(check_tensor_types(m));
  PH_RETURN_IF_ERROR(check_supported_operators(m));
  PH_RETURN_IF_ERROR(densify_sparse_constants(m));

  Preset preset;
  if (!options.preset.empty()) {
    PH_ASSIGN_OR_RETURN(preset, make_preset(options.preset, m));
  } else {
    // Image size from an NHWC input shape.
    if (m.inputs.size() == 1) {
      const auto& s = m.tensors[static_cast<size_t>(m.inputs[0])].shape;
      if (s.size() == 4 && s[3] >= 1 && s[3] <= 4) {
        preset.preprocess.height = s[1] > 0 ? s[1] : 0;
        preset.preprocess.width = s[2] > 0 ? s[2] : 0;
        if (s[3] == 1) preset.preprocess.color = ColorOrder::kGray;
      } else {
        preset.preprocess.color = ColorOrder::kNone;
      }
    }
  }
  PH_RETURN_IF_ERROR(
      importers::apply_overrides({options.mean, options.std, options.color}, &preset.preprocess));

  ModelBuilder b;
  b.set_producer(options.producer);
  if (!preset.description.empty()) b.set_description(preset.description);
  GraphConverter g(m, b);
  PH_RETURN_IF_ERROR(g.add_inputs(preset.preprocess));
  PH_RETURN_IF_ERROR(g.convert_operators());
  int kept = 0;
  if (options.sparse_weights == importers::SparseImport::kKeep) {
    for (const GraphConverter::KeptSparse& w : g.kept_sparse()) {
      PH_RETURN_IF_ERROR(b.store_sparse(w.tensor, w.block_rows, w.block_cols));
      ++kept;
    }
  }

  std::vector<std::string> task_names;
  if (!options.preset.empty()) {
    auto ours = [&](int tf) -> Result<int> {
      PH_ASSIGN_OR_RETURN(const int t, g.output(tf));
      if (t < 0)
        return Status(ErrorCode::kUnsupported, "output '" +
                                                   m.tensors[static_cast<size_t>(tf)].name +
                                                   "' is not computed by any operator");
      return t;
    };
    for (const PresetTask& t : preset.tasks) {
      std::vector<TaskOutputRef> refs;
      for (const PresetOutput& o : t.outputs) {
        PH_ASSIGN_OR_RETURN(int tensor, ours(o.tensor));
        refs.push_back({o.name, tensor});
      }
      PH_RETURN_IF_ERROR(b.add_task(t.name, t.kind, refs, t.post));
      task_names.push_back(t.name);
    }
    for (const auto& kv : preset.metadata) b.add_metadata(kv.first, kv.second);
    b.add_metadata("preset", options.preset);
  } else {
    std::vector<importers::ImportedOutput> outputs;
    for (int32_t tf : m.outputs) {
      // Task outputs stay float: an int8 model output is read through a DEQUANTIZE node.
      PH_ASSIGN_OR_RETURN(int ours, g.output(tf));
      outputs.push_back({m.tensors[static_cast<size_t>(tf)].name, ours});
    }
    PH_ASSIGN_OR_RETURN(task_names, importers::add_tasks(b, options.tasks, outputs));
  }
  b.add_metadata("source_format", "tflite");

  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> phm, importers::finish_and_validate(b));
  if (report) {
    report->source_ops = g.source_op_counts();
    report->nodes = g.node_counts();
    report->folded_relus = static_cast<int>(g.folded_relus());
    report->folded_swishes = static_cast<int>(g.folded_swishes());
    report->sparse_tensors = 0;
    for (const TfTensor& t : m.tensors) report->sparse_tensors += t.sparse ? 1 : 0;
    report->sparse_weights_kept = kept;
    report->tasks = task_names;
  }
  return phm;
}

Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options) {
  return convert_file(path, options, nullptr);
}

Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options,
                                          ConvertReport* report) {
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, importers::read_model_file(path));
  auto result = convert(bytes, options, report);
  if (!result.is_ok())
    return Status(result.status().code(), path + ": " + result.status().message());
  return result;
}

}  // namespace polyhead::tflite
