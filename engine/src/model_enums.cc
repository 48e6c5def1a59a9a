#include "polyhead/model_enums.h"

#include <iterator>

#include "enum_names.h"

namespace polyhead {
namespace {

// Each enum's names in enumerator order, so that a value indexes its name.
constexpr const char* kLayoutNames[] = {"NHWC", "NCHW"};
constexpr const char* kColorOrderNames[] = {"RGB", "BGR", "GRAY", "NONE"};
constexpr const char* kImageFitNames[] = {"STRETCH", "LETTERBOX", "CROP"};
constexpr const char* kTaskKindNames[] = {
    "classification", "detection", "segmentation", "landmarks", "regression", "embedding", "other"};
constexpr const char* kOutputActivationNames[] = {"none", "sigmoid", "softmax"};

static_assert(std::size(kLayoutNames) == static_cast<size_t>(Layout::kNchw) + 1);
static_assert(std::size(kColorOrderNames) == static_cast<size_t>(ColorOrder::kNone) + 1);
static_assert(std::size(kImageFitNames) == static_cast<size_t>(ImageFit::kCrop) + 1);
static_assert(std::size(kTaskKindNames) == static_cast<size_t>(TaskKind::kOther) + 1);
static_assert(std::size(kOutputActivationNames) ==
              static_cast<size_t>(OutputActivation::kSoftmax) + 1);

}  // namespace

const char* to_string(Layout layout) {
  return detail::name_of(layout, kLayoutNames);
}
const char* to_string(ColorOrder color) {
  return detail::name_of(color, kColorOrderNames);
}
const char* to_string(ImageFit fit) {
  return detail::name_of(fit, kImageFitNames);
}
const char* to_string(TaskKind kind) {
  return detail::name_of(kind, kTaskKindNames);
}
const char* to_string(OutputActivation activation) {
  return detail::name_of(activation, kOutputActivationNames);
}

Result<Layout> parse_layout(std::string_view name) {
  return detail::parse<Layout>(name, kLayoutNames, "layout");
}
Result<ColorOrder> parse_color_order(std::string_view name) {
  return detail::parse<ColorOrder>(name, kColorOrderNames, "colour order");
}
Result<ImageFit> parse_image_fit(std::string_view name) {
  return detail::parse<ImageFit>(name, kImageFitNames, "image fit");
}
Result<TaskKind> parse_task_kind(std::string_view name) {
  return detail::parse<TaskKind>(name, kTaskKindNames, "task kind");
}
Result<OutputActivation> parse_output_activation(std::string_view name) {
  return detail::parse<OutputActivation>(name, kOutputActivationNames, "output activation");
}

}  // namespace polyhead
