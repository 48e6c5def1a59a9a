// The public enums of polyhead/model_enums.h: their names (the strings the tools print and the C
// API returns), parsing them back, and every value surviving a .phm write and load.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/model_builder.h"
#include "polyhead/model_enums.h"

using namespace polyhead;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Checks to_string(values[i]) == names[i] and that parse() reads each name back.
template <typename Enum>
void check_names(const std::vector<Enum>& values, const std::vector<std::string>& names,
                 Result<Enum> (*parse)(std::string_view)) {
  REQUIRE(values.size() == names.size());
  for (size_t i = 0; i < values.size(); ++i) {
    INFO(names[i]);
    CHECK(std::string(to_string(values[i])) == names[i]);
    auto parsed = parse(names[i]);
    REQUIRE(parsed.is_ok());
    CHECK(*parsed == values[i]);
  }
}

}  // namespace

TEST_CASE("model enums: names are the schema's spelling the tools have always printed") {
  check_names({Layout::kNhwc, Layout::kNchw}, {"NHWC", "NCHW"}, parse_layout);
  check_names({ColorOrder::kRgb, ColorOrder::kBgr, ColorOrder::kGray, ColorOrder::kNone},
              {"RGB", "BGR", "GRAY", "NONE"}, parse_color_order);
  check_names({ImageFit::kStretch, ImageFit::kLetterbox, ImageFit::kCrop},
              {"STRETCH", "LETTERBOX", "CROP"}, parse_image_fit);
  check_names({TaskKind::kClassification, TaskKind::kDetection, TaskKind::kSegmentation,
               TaskKind::kLandmarks, TaskKind::kRegression, TaskKind::kEmbedding, TaskKind::kOther},
              {"classification", "detection", "segmentation", "landmarks", "regression",
               "embedding", "other"},
              parse_task_kind);
  check_names({OutputActivation::kNone, OutputActivation::kSigmoid, OutputActivation::kSoftmax},
              {"none", "sigmoid", "softmax"}, parse_output_activation);
}

TEST_CASE("model enums: an unknown name is refused, naming it and the known ones") {
  auto layout = parse_layout("nhwc");  // names are case-sensitive
  REQUIRE_FALSE(layout.is_ok());
  CHECK(layout.status().code() == ErrorCode::kInvalidArgument);
  CHECK(contains(layout.status().message(), "unknown layout 'nhwc' (known: NHWC, NCHW)"));

  auto color = parse_color_order("RGBA");
  REQUIRE_FALSE(color.is_ok());
  CHECK(contains(color.status().message(), "'RGBA'"));
  CHECK(contains(color.status().message(), "RGB, BGR, GRAY, NONE"));

  auto kind = parse_task_kind("weird");
  REQUIRE_FALSE(kind.is_ok());
  CHECK(kind.status().message() ==
        "unknown task kind 'weird' (known: classification, detection, segmentation, landmarks, "
        "regression, embedding, other)");

  auto activation = parse_output_activation("");
  REQUIRE_FALSE(activation.is_ok());
  CHECK(contains(activation.status().message(), "unknown output activation ''"));
  CHECK_FALSE(parse_image_fit("ZOOM").is_ok());
}

TEST_CASE("model enums: every value is written to a .phm file and loaded back") {
  const std::vector<TaskKind> kinds = {TaskKind::kClassification, TaskKind::kDetection,
                                       TaskKind::kSegmentation,   TaskKind::kLandmarks,
                                       TaskKind::kRegression,     TaskKind::kEmbedding,
                                       TaskKind::kOther};
  const std::vector<OutputActivation> activations = {
      OutputActivation::kNone, OutputActivation::kSigmoid, OutputActivation::kSoftmax};
  struct Input {
    Layout layout;
    ColorOrder color;
    ImageFit fit;
  };
  const std::vector<Input> inputs = {{Layout::kNhwc, ColorOrder::kRgb, ImageFit::kStretch},
                                     {Layout::kNchw, ColorOrder::kBgr, ImageFit::kLetterbox},
                                     {Layout::kNhwc, ColorOrder::kGray, ImageFit::kCrop},
                                     {Layout::kNchw, ColorOrder::kNone, ImageFit::kStretch}};

  ModelBuilder b;
  std::vector<int> tensors;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Preprocess p;
    p.layout = inputs[i].layout;
    p.color = inputs[i].color;
    p.fit = inputs[i].fit;
    tensors.push_back(b.add_input("in" + std::to_string(i), Shape{1, 4}, p));
  }
  for (size_t k = 0; k < kinds.size(); ++k) {
    PostProcessParams post;
    post.activation = activations[k % activations.size()];
    const std::string name = "t" + std::to_string(k);
    auto y = b.unary(name + ".y", UnaryOp::kSigmoid, tensors[k % tensors.size()]);
    REQUIRE(y.is_ok());
    REQUIRE(b.add_task(name, kinds[k], {{"y", *y}}, post).is_ok());
  }
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  auto model = Model::from_bytes(*bytes);
  INFO(model.status().message());
  REQUIRE(model.is_ok());

  REQUIRE(model->inputs().size() == inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Preprocess& p = model->inputs()[i].preprocess;
    CHECK(p.layout == inputs[i].layout);
    CHECK(p.color == inputs[i].color);
    CHECK(p.fit == inputs[i].fit);
  }
  REQUIRE(model->tasks().size() == kinds.size());
  for (size_t k = 0; k < kinds.size(); ++k) {
    CHECK(model->tasks()[k].kind == kinds[k]);
    CHECK(model->tasks()[k].postprocess.activation == activations[k % activations.size()]);
  }
}
