#include "polyhead/model_enums.h"

#include <iterator>
#include <string>

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

template <typename Enum, size_t N>
const char* name_of(Enum value, const char* const (&names)[N]) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : "?";
}

template <typename Enum, size_t N>
Result<Enum> parse(std::string_view name, const char* const (&names)[N], const char* what) {
  std::string known;
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<Enum>(i);
    known += (known.empty() ? "" : ", ") + std::string(names[i]);
  }
  return Status(ErrorCode::kInvalidArgument, std::string("unknown ") + what + " '" +
                                                 std::string(name) + "' (known: " + known + ")");
}

}  // namespace

const char* to_string(Layout layout) {
  return name_of(layout, kLayoutNames);
}
const char* to_string(ColorOrder color) {
  return name_of(color, kColorOrderNames);
}
const char* to_string(ImageFit fit) {
  return name_of(fit, kImageFitNames);
}
const char* to_string(TaskKind kind) {
  return name_of(kind, kTaskKindNames);
}
const char* to_string(OutputActivation activation) {
  return name_of(activation, kOutputActivationNames);
}

Result<Layout> parse_layout(std::string_view name) {
  return parse<Layout>(name, kLayoutNames, "layout");
}
Result<ColorOrder> parse_color_order(std::string_view name) {
  return parse<ColorOrder>(name, kColorOrderNames, "colour order");
}
Result<ImageFit> parse_image_fit(std::string_view name) {
  return parse<ImageFit>(name, kImageFitNames, "image fit");
}
Result<TaskKind> parse_task_kind(std::string_view name) {
  return parse<TaskKind>(name, kTaskKindNames, "task kind");
}
Result<OutputActivation> parse_output_activation(std::string_view name) {
  return parse<OutputActivation>(name, kOutputActivationNames, "output activation");
}

}  // namespace polyhead
