#include "converters/common/import_options.h"

#include <cstdio>
#include <set>

namespace polyhead::importers {

Status apply_overrides(const PreprocessOverrides& o, Preprocess* p) {
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
  if (o.color) {
    if (*o.color != ColorOrder::kRgb && *o.color != ColorOrder::kBgr)
      return Status(
          ErrorCode::kInvalidArgument,
          std::string("colour order must be RGB or BGR, got '") + to_string(*o.color) + "'");
    p->color = *o.color;
  }
  return Status::ok();
}

bool parse_sparse_import(const std::string& name, SparseImport* out) {
  if (name == "keep")
    *out = SparseImport::kKeep;
  else if (name == "densify")
    *out = SparseImport::kDensify;
  else
    return false;
  return true;
}

std::string sanitise(const std::string& name) {
  std::string s;
  for (char c : name) s += (c == ',' || static_cast<unsigned char>(c) < 32) ? '_' : c;
  return s.empty() ? "output" : s;
}

namespace {

// A unique output name within one task.
std::string unique_in(std::set<std::string>& seen, const std::string& source) {
  const std::string base = sanitise(source);
  std::string name = base;
  for (int i = 2; seen.count(name); ++i) name = base + "_" + std::to_string(i);
  seen.insert(name);
  return name;
}

}  // namespace

Result<std::vector<std::string>> add_tasks(ModelBuilder& b, const std::vector<TaskSpec>& specs,
                                           const std::vector<ImportedOutput>& outputs) {
  auto find = [&](const std::string& name) -> Result<int> {
    std::string known;
    for (const ImportedOutput& o : outputs) {
      if (o.name == name) {
        if (o.tensor < 0)
          return Status(ErrorCode::kUnsupported,
                        "output '" + name + "' is not computed by any operator");
        return o.tensor;
      }
      known += (known.empty() ? "" : ", ") + o.name;
    }
    return Status(ErrorCode::kNotFound,
                  "the model has no output '" + name + "' (outputs: " + known + ")");
  };
  std::vector<std::string> names;
  if (specs.empty()) {
    std::set<std::string> seen;
    for (const ImportedOutput& o : outputs) {
      PH_ASSIGN_OR_RETURN(int tensor, find(o.name));
      const std::string name = unique_in(seen, o.name);
      PH_RETURN_IF_ERROR(b.add_task(name, TaskKind::kOther, {{name, tensor}}));
      names.push_back(name);
    }
    return names;
  }
  for (const TaskSpec& spec : specs) {
    if (spec.name.empty() || spec.name.find(',') != std::string::npos)
      return Status(ErrorCode::kInvalidArgument, "bad task name '" + spec.name + "'");
    if (spec.outputs.empty())
      return Status(ErrorCode::kInvalidArgument, "task '" + spec.name + "' has no outputs");
    std::vector<TaskOutputRef> refs;
    std::set<std::string> seen;
    for (const std::string& out : spec.outputs) {
      PH_ASSIGN_OR_RETURN(int tensor, find(out));
      refs.push_back({unique_in(seen, out), tensor});
    }
    PH_RETURN_IF_ERROR(b.add_task(spec.name, spec.kind, refs));
    names.push_back(spec.name);
  }
  return names;
}

Result<std::vector<uint8_t>> read_model_file(const std::string& path) {
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
  return bytes;
}

Result<std::vector<uint8_t>> finish_and_validate(const ModelBuilder& b) {
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> phm, b.finish());
  auto loaded = Model::from_bytes(phm);
  if (!loaded.is_ok())
    return Status(ErrorCode::kInvalidModel,
                  "the converted model does not validate: " + loaded.status().message());
  return phm;
}

}  // namespace polyhead::importers
