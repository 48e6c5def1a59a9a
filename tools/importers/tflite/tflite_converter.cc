#include "importers/tflite/tflite_converter.h"

#include <cstdio>
#include <set>

#include "importers/tflite/graph_converter.h"
#include "importers/tflite/presets.h"
#include "importers/tflite/tflite_model.h"
#include "polyhead/model.h"
#include "polyhead/model_builder.h"

namespace polyhead::tflite {
namespace {

// Task and output names may not contain ',' (tools take comma-separated lists).
std::string sanitise(const std::string& name) {
  std::string s;
  for (char c : name) s += (c == ',' || static_cast<unsigned char>(c) < 32) ? '_' : c;
  return s.empty() ? "output" : s;
}

Status check_float_model(const TfModel& m) {
  for (const TfTensor& t : m.tensors) {
    if (t.type == kTfInt8 || t.type == kTfUInt8 || t.type == kTfInt16 || t.quantized)
      return Status(ErrorCode::kUnsupported,
                    "tensor '" + t.name + "' is " + tensor_type_name(t.type) +
                        (t.quantized ? " with quantization" : "") +
                        ": this is a quantized model; converting it needs the int8 support, "
                        "which this importer does not have yet (convert the float32 model)");
  }
  return Status::ok();
}

Result<int> find_output(const TfModel& m, const std::string& name) {
  for (int32_t t : m.outputs)
    if (m.tensors[static_cast<size_t>(t)].name == name) return t;
  std::string known;
  for (int32_t t : m.outputs)
    known += (known.empty() ? "" : ", ") + m.tensors[static_cast<size_t>(t)].name;
  return Status(ErrorCode::kNotFound,
                "the model has no output '" + name + "' (outputs: " + known + ")");
}

Status apply_overrides(const ConvertOptions& o, Preprocess* p) {
  auto check = [](const std::vector<float>& v, const char* what) -> Status {
    if (!v.empty() && v.size() != 1 && v.size() != 3)
      return Status(ErrorCode::kInvalidArgument,
                    std::string(what) + " needs 1 or 3 values, got " + std::to_string(v.size()));
    return Status::ok();
  };
  PH_RETURN_IF_ERROR(check(o.mean, "mean"));
  PH_RETURN_IF_ERROR(check(o.std, "std"));
  for (float s : o.std)
    if (s == 0.f) return Status(ErrorCode::kInvalidArgument, "std must not be 0");
  if (!o.mean.empty()) p->mean = o.mean;
  if (!o.std.empty()) p->std = o.std;
  if (!o.color.empty()) {
    if (o.color != "RGB" && o.color != "BGR")
      return Status(ErrorCode::kInvalidArgument, "colour order must be RGB or BGR");
    p->color = o.color;
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
  PH_RETURN_IF_ERROR(check_float_model(m));
  PH_RETURN_IF_ERROR(check_supported_operators(m));

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
        if (s[3] == 1) preset.preprocess.color = "GRAY";
      } else {
        preset.preprocess.color = "NONE";
      }
    }
  }
  PH_RETURN_IF_ERROR(apply_overrides(options, &preset.preprocess));

  ModelBuilder b;
  b.set_producer(options.producer);
  if (!preset.description.empty()) b.set_description(preset.description);
  GraphConverter g(m, b);
  PH_RETURN_IF_ERROR(g.add_inputs(preset.preprocess));
  PH_RETURN_IF_ERROR(g.convert_operators());

  auto ours = [&](int tf) -> Result<int> {
    const int t = g.mapped(tf);
    if (t < 0)
      return Status(ErrorCode::kUnsupported, "output '" + m.tensors[static_cast<size_t>(tf)].name +
                                                 "' is not computed by any operator");
    return t;
  };
  std::vector<std::string> task_names;
  if (!options.preset.empty()) {
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
  } else if (!options.tasks.empty()) {
    for (const TaskSpec& spec : options.tasks) {
      if (spec.name.empty() || spec.name.find(',') != std::string::npos)
        return Status(ErrorCode::kInvalidArgument, "bad task name '" + spec.name + "'");
      if (spec.outputs.empty())
        return Status(ErrorCode::kInvalidArgument, "task '" + spec.name + "' has no outputs");
      std::vector<TaskOutputRef> refs;
      std::set<std::string> seen;
      for (const std::string& out : spec.outputs) {
        PH_ASSIGN_OR_RETURN(int tf, find_output(m, out));
        PH_ASSIGN_OR_RETURN(int tensor, ours(tf));
        std::string name = sanitise(out);
        for (int i = 2; seen.count(name); ++i) name = sanitise(out) + "_" + std::to_string(i);
        seen.insert(name);
        refs.push_back({name, tensor});
      }
      PH_RETURN_IF_ERROR(b.add_task(spec.name, TaskKind::kOther, refs));
      task_names.push_back(spec.name);
    }
  } else {
    std::set<std::string> seen;
    for (int32_t tf : m.outputs) {
      PH_ASSIGN_OR_RETURN(int tensor, ours(tf));
      const std::string base = sanitise(m.tensors[static_cast<size_t>(tf)].name);
      std::string name = base;
      for (int i = 2; seen.count(name); ++i) name = base + "_" + std::to_string(i);
      seen.insert(name);
      PH_RETURN_IF_ERROR(b.add_task(name, TaskKind::kOther, {{name, tensor}}));
      task_names.push_back(name);
    }
  }
  b.add_metadata("source_format", "tflite");

  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> phm, b.finish());
  // The result must load: anything the loader rejects is reported here, not at first use.
  auto loaded = Model::from_bytes(phm);
  if (!loaded.is_ok())
    return Status(ErrorCode::kInvalidModel,
                  "the converted model does not validate: " + loaded.status().message());
  if (report) {
    report->source_ops = g.source_op_counts();
    report->nodes = g.node_counts();
    report->tasks = task_names;
  }
  return phm;
}

Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options) {
  return convert_file(path, options, nullptr);
}

Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options,
                                          ConvertReport* report) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status(ErrorCode::kIoError, "cannot open '" + path + "'");
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (bytes.size() > (size_t{1} << 31)) {
      std::fclose(f);
      return Status(ErrorCode::kInvalidModel, "'" + path + "' is larger than 2 GiB");
    }
  }
  const bool error = std::ferror(f) != 0;
  std::fclose(f);
  if (error) return Status(ErrorCode::kIoError, "cannot read '" + path + "'");
  auto result = convert(bytes, options, report);
  if (!result.is_ok())
    return Status(result.status().code(), path + ": " + result.status().message());
  return result;
}

}  // namespace polyhead::tflite
