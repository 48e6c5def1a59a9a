#include "offline/prune/bias_correction.h"

#include <cstring>

namespace polyhead::prune {

std::vector<double> removed_contribution(const float* removed, size_t rows, size_t cols,
                                         const std::vector<double>& means) {
  std::vector<double> delta(rows, 0.0);
  const size_t channels = means.size();
  if (channels == 0) return delta;
  for (size_t o = 0; o < rows; ++o)
    for (size_t k = 0; k < cols; ++k)
      delta[o] += static_cast<double>(removed[o * cols + k]) * means[k % channels];
  return delta;
}

void add_to_bias(quantize::EditModel& m, quantize::EditNode& node,
                 const std::vector<double>& delta) {
  std::vector<float> bias(delta.size(), 0.f);
  std::string name = node.name + "/bias";
  if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
    const quantize::EditTensor& old = m.tensors[static_cast<size_t>(node.inputs[2])];
    std::memcpy(bias.data(), old.data, bias.size() * sizeof(float));
    name = old.name;
  }
  for (size_t o = 0; o < bias.size(); ++o) bias[o] += static_cast<float>(delta[o]);
  std::vector<uint8_t> bytes(bias.size() * sizeof(float));
  std::memcpy(bytes.data(), bias.data(), bytes.size());
  quantize::EditTensor t;
  t.name = name + "/corrected";
  t.shape = {static_cast<int>(bias.size())};
  t.size = bytes.size();
  t.data = m.store(std::move(bytes));
  node.inputs.resize(3, -1);
  node.inputs[2] = m.add_tensor(std::move(t));
}

}  // namespace polyhead::prune
