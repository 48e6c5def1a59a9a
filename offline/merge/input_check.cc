#include "offline/merge/input_check.h"

#include <cstdio>

#include "offline/graph/schema_copy.h"

namespace polyhead::merge {

namespace {

// Nine significant digits tell every two floats apart.
std::string float_text(float v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", static_cast<double>(v));
  return text;
}

std::string floats_text(const flatbuffers::Vector<float>* v) {
  if (!v || v->size() == 0) return "none";
  std::string s = "[";
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i)
    s += (i ? "," : "") + float_text(v->Get(i));
  return s + "]";
}

// The pre-processing fields as text, defaults filled in for an absent table.
std::vector<std::pair<const char*, std::string>> preprocess_fields(const schema::Preprocess* p) {
  flatbuffers::FlatBufferBuilder scratch;
  if (!p) {  // read the defaults from an empty table
    scratch.Finish(schema::CreatePreprocess(scratch));
    p = flatbuffers::GetRoot<schema::Preprocess>(scratch.GetBufferPointer());
  }
  return {{"width", std::to_string(p->width())},
          {"height", std::to_string(p->height())},
          {"layout", schema::EnumNameLayout(p->layout())},
          {"color", schema::EnumNameColorOrder(p->color())},
          {"mean", floats_text(p->mean())},
          {"std", floats_text(p->std())},
          {"pixel_scale", float_text(p->pixel_scale())},
          {"fit", schema::EnumNameImageFit(p->fit())}};
}

}  // namespace

Status check_same_inputs(const std::vector<SourceGraph>& graphs,
                         std::vector<std::string>* warnings) {
  const SourceGraph& first = graphs[0];
  const auto* want = first.root->inputs();
  for (size_t m = 1; m < graphs.size(); ++m) {
    const SourceGraph& g = graphs[m];
    const auto* have = g.root->inputs();
    if (have->size() != want->size())
      return Status(ErrorCode::kInvalidArgument,
                    "'" + g.source + "' has " + std::to_string(have->size()) + " inputs but '" +
                        first.source + "' has " + std::to_string(want->size()) +
                        ": merged models share one set of inputs");
    for (flatbuffers::uoffset_t k = 0; k < want->size(); ++k) {
      const schema::Tensor& a = first.tensor(want->Get(k)->tensor());
      const schema::Tensor& b = g.tensor(have->Get(k)->tensor());
      const std::string where =
          "input " + std::to_string(k) + " ('" + b.name()->str() + "') of '" + g.source + "'";
      auto differ = [&](const std::string& what, const std::string& ours,
                        const std::string& theirs) {
        return Status(ErrorCode::kInvalidArgument, where + " has " + what + " " + theirs +
                                                       " but '" + first.source + "' has " + ours +
                                                       ": merged models share one set of inputs");
      };
      if (shape_text(a) != shape_text(b)) return differ("shape", shape_text(a), shape_text(b));
      if (a.type() != b.type())
        return differ("element type", schema::EnumNameElementType(a.type()),
                      schema::EnumNameElementType(b.type()));
      if (quantization_bytes(a.quantization()) != quantization_bytes(b.quantization()))
        return differ("quantization", "other parameters", "different parameters");
      const auto pa = preprocess_fields(want->Get(k)->preprocess());
      const auto pb = preprocess_fields(have->Get(k)->preprocess());
      for (size_t f = 0; f < pa.size(); ++f)
        if (pa[f].second != pb[f].second)
          return differ(std::string("pre-processing ") + pa[f].first, pa[f].second, pb[f].second);
      if (a.name()->str() != b.name()->str())
        warnings->push_back("input " + std::to_string(k) + " is '" + b.name()->str() + "' in '" +
                            g.source + "' and '" + a.name()->str() + "' in '" + first.source +
                            "': the merged model calls it '" + a.name()->str() + "'");
    }
  }
  return Status::ok();
}

}  // namespace polyhead::merge
