#include "support/phm_models.h"

namespace polyhead::testing {

internal::PhmModel add_bias_phm_model(const std::vector<float>& bias) {
  internal::PhmModel m;
  m.producer = "test";
  internal::PhmTensor image, b, out;
  image.name = "image";
  image.shape = {1, 2, 2, 3};
  b.name = "bias";
  b.shape = {3};
  b.constant = 0;
  out.name = "out";
  out.shape = {1, 2, 2, 3};
  m.tensors = {image, b, out};
  m.constants.push_back({bias.data(), bias.size() * sizeof(float)});
  internal::PhmNode add;
  add.name = "add";
  add.op = schema::OpKind::ADD;
  add.inputs = {0, 1};
  add.outputs = {2};
  m.nodes.push_back(add);
  m.inputs.push_back({0, std::nullopt});
  internal::PhmTask task;
  task.name = "t";
  task.outputs.push_back({"out", 2});
  m.tasks.push_back(task);
  return m;
}

}  // namespace polyhead::testing
