#include "converters/onnx/onnx_converter.h"

#include <limits>

#include "converters/onnx/graph_converter.h"
#include "onnx/onnx_pb.h"
#include "polyhead/model_builder.h"

namespace polyhead::onnx_import {
namespace {

Result<int> default_opset(const onnx::ModelProto& model) {
  int opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = static_cast<int>(std::min<int64_t>(o.version(), std::numeric_limits<int>::max()));
  if (opset < 0)
    return Status(ErrorCode::kInvalidModel, "the model imports no opset of the default domain");
  if (opset < kMinOpset || opset > kMaxOpset)
    return Status(ErrorCode::kUnsupported,
                  "opset " + std::to_string(opset) + " is not supported (opsets " +
                      std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                      "; re-export with opset_version in that range)");
  return opset;
}

}  // namespace

Result<std::vector<uint8_t>> convert(const std::vector<uint8_t>& bytes,
                                     const ConvertOptions& options, ConvertReport* report) {
  if (bytes.empty()) return Status(ErrorCode::kInvalidModel, "the file is empty");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return Status(ErrorCode::kInvalidModel, "the file is larger than 2 GiB");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Status(ErrorCode::kInvalidModel,
                  "not a valid ONNX model (the protobuf does not parse: truncated or not ONNX)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    return Status(ErrorCode::kInvalidModel, "the ONNX model has no graph (or an empty one)");
  PH_ASSIGN_OR_RETURN(int opset, default_opset(model));
  const onnx::GraphProto& graph = model.graph();
  PH_RETURN_IF_ERROR(check_supported_operators(graph));

  Preprocess image;
  image.layout = Layout::kNchw;
  PH_RETURN_IF_ERROR(importers::apply_overrides(options.preprocess, &image));
  ModelBuilder b;
  b.set_producer(options.producer);
  if (!model.doc_string().empty()) b.set_description(model.doc_string().substr(0, 1024));
  GraphConverter g(graph, opset, b);
  PH_RETURN_IF_ERROR(g.add_inputs(image, options.input_shapes));
  PH_RETURN_IF_ERROR(g.convert_nodes());

  std::vector<importers::ImportedOutput> outputs;
  for (const auto& out : graph.output()) {
    PH_ASSIGN_OR_RETURN(int t, g.output_tensor(out.name()));
    outputs.push_back({out.name(), t});
  }
  PH_ASSIGN_OR_RETURN(std::vector<std::string> tasks,
                      importers::add_tasks(b, options.tasks, outputs));
  b.add_metadata("source_format", "onnx");
  b.add_metadata("onnx_opset", std::to_string(opset));
  if (!model.producer_name().empty())
    b.add_metadata("onnx_producer", model.producer_name() + " " + model.producer_version());
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> phm, importers::finish_and_validate(b));
  if (report) {
    report->opset = opset;
    report->source_ops = g.source_op_counts();
    report->nodes = g.node_counts();
    report->folded = g.folded_counts();
    report->tasks = tasks;
  }
  return phm;
}

Result<std::vector<uint8_t>> convert_file(const std::string& path, const ConvertOptions& options,
                                          ConvertReport* report) {
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, importers::read_model_file(path));
  auto result = convert(bytes, options, report);
  if (!result.is_ok())
    return Status(result.status().code(), path + ": " + result.status().message());
  return result;
}

}  // namespace polyhead::onnx_import
