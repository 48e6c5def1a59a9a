#include "offline/quantize/implied_bias_scales.h"

#include <cmath>

#include "offline/graph/source_graph.h"

namespace polyhead::quantize {

namespace {

using schema::ElementType;

bool all_zero(const std::vector<int64_t>& v) {
  for (int64_t z : v)
    if (z != 0) return false;
  return true;
}

// Whether node `n` reads tensor `bias` as the bias of an int8 layer whose kernels would accept
// `bias`'s stored scales (kernels/src/int8_params.cc, check_bias), so dropping them loses nothing.
bool bias_scales_implied(const EditModel& m, const EditNode& n, int bias) {
  const bool layer = n.op == schema::OpKind::CONV_2D || n.op == schema::OpKind::DEPTHWISE_CONV_2D ||
                     n.op == schema::OpKind::FULLY_CONNECTED;
  if (!layer || n.inputs.size() != 3 || n.inputs[2] != bias || n.inputs[0] == bias ||
      n.inputs[1] == bias || n.inputs[0] < 0 || n.inputs[1] < 0)
    return false;
  const EditTensor& x = m.tensors[static_cast<size_t>(n.inputs[0])];
  const EditTensor& w = m.tensors[static_cast<size_t>(n.inputs[1])];
  const EditTensor& b = m.tensors[static_cast<size_t>(bias)];
  if (x.type != ElementType::I8 || x.scales.size() != 1 || w.type != ElementType::I8 ||
      w.scales.empty() || b.type != ElementType::I32 || b.scales.empty() ||
      !all_zero(b.zero_points) || (b.zero_points.size() > b.scales.size()))
    return false;
  const size_t channels = b.scales.size();
  if (w.scales.size() != 1 && w.scales.size() != channels) return false;
  if (b.shape.size() != 1 || static_cast<size_t>(b.shape[0]) != channels) {
    // A per-tensor bias scale: implied only if every channel's would be the same value.
    if (channels != 1) return false;
  }
  for (size_t c = 0; c < channels; ++c) {
    const float expected = x.scales[0] * w.scales[w.scales.size() == 1 ? 0 : c];
    if (!(std::fabs(b.scales[c] - expected) <= 1e-4f * expected)) return false;
  }
  return true;
}

}  // namespace

Result<BiasScales> parse_bias_scales(const std::string& option, const std::string& text) {
  if (text == "stored") return BiasScales::kStored;
  if (text == "implied") return BiasScales::kImplied;
  return Status(ErrorCode::kInvalidArgument,
                option + " must be stored or implied, got '" + text + "'");
}

size_t drop_implied_bias_scales(EditModel& m) {
  // Per tensor: 1 while every reader so far has it as an implied bias, 0 once one does not.
  std::vector<int> implied(m.tensors.size(), -1);
  for (const EditNode& n : m.nodes)
    for (int t : n.inputs) {
      if (t < 0) continue;
      int& state = implied[static_cast<size_t>(t)];
      if (state == 0) continue;
      state = bias_scales_implied(m, n, t) ? 1 : 0;
    }
  // Task outputs and model inputs are never constants; a constant read by no node stays as it is.
  size_t dropped = 0;
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    if (implied[t] != 1 || !m.tensors[t].data) continue;
    m.tensors[t].scales.clear();
    m.tensors[t].zero_points.clear();
    m.tensors[t].axis = -1;
    ++dropped;
  }
  return dropped;
}

Result<std::vector<uint8_t>> drop_implied_bias_scales_in_file(const std::vector<uint8_t>& phm,
                                                              size_t* dropped) {
  PH_ASSIGN_OR_RETURN(const Model model, Model::from_bytes(phm));
  PH_ASSIGN_OR_RETURN(const merge::SourceGraph graph, merge::read_source_graph(model, "the model"));
  EditModel m = edit_copy(graph);
  const size_t n = drop_implied_bias_scales(m);
  if (dropped) *dropped = n;
  if (n == 0) return phm;
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> out, write_model(m));
  PH_RETURN_IF_ERROR(Model::from_bytes(out).status());
  return out;
}

}  // namespace polyhead::quantize
