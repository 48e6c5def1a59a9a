#include "eval/image_input.h"

namespace polyhead::compare {

Result<const InputInfo*> image_input(const Model& model, const std::string& role) {
  const std::vector<InputInfo>& inputs = model.inputs();
  if (inputs.size() != 1) {
    std::string names;
    for (const InputInfo& in : inputs) names += (names.empty() ? "'" : ", '") + in.name + "'";
    return Status(ErrorCode::kUnsupported, "the " + role + " has " + std::to_string(inputs.size()) +
                                               " inputs (" + names +
                                               "); compare feeds one image input");
  }
  if (inputs[0].preprocess.color == ColorOrder::kNone)
    return Status(ErrorCode::kUnsupported, "the " + role + "'s input '" + inputs[0].name +
                                               "' is not an image (colour order NONE)");
  return &inputs[0];
}

}  // namespace polyhead::compare
