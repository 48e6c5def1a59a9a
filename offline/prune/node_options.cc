#include "offline/prune/node_options.h"

#include <vector>

namespace polyhead::prune {

namespace fb = flatbuffers;

namespace {

const schema::Node* finish(quantize::EditModel& m, fb::FlatBufferBuilder& b,
                           const schema::Node& from, schema::OpOptions type,
                           fb::Offset<void> options) {
  const auto node =
      schema::CreateNode(b, b.CreateString(from.name()->str()), from.op(), type, options,
                         b.CreateVector(std::vector<int>{}), b.CreateVector(std::vector<int>{}));
  b.Finish(node);
  const uint8_t* bytes =
      m.store(std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()));
  return fb::GetRoot<schema::Node>(bytes);
}

}  // namespace

const schema::Node* with_groups(quantize::EditModel& m, const schema::Node& from, int groups) {
  const schema::Conv2DOptions* o = from.options_as_Conv2DOptions();
  fb::FlatBufferBuilder b;
  const auto options = schema::CreateConv2DOptions(
      b, o->stride_h(), o->stride_w(), o->dilation_h(), o->dilation_w(), o->pad_top(),
      o->pad_left(), o->pad_bottom(), o->pad_right(), groups, o->activation());
  return finish(m, b, from, schema::OpOptions::Conv2DOptions, options.Union());
}

const schema::Node* with_channel_pad(quantize::EditModel& m, const schema::Node& from, int before,
                                     int after) {
  const schema::PadOptions* o = from.options_as_PadOptions();
  std::vector<int> b_(o->before()->begin(), o->before()->end());
  std::vector<int> a_(o->after()->begin(), o->after()->end());
  b_.back() = before;
  a_.back() = after;
  fb::FlatBufferBuilder b;
  const auto options =
      schema::CreatePadOptions(b, b.CreateVector(b_), b.CreateVector(a_), o->value());
  return finish(m, b, from, schema::OpOptions::PadOptions, options.Union());
}

}  // namespace polyhead::prune
