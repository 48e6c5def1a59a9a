// I32 constants stored as int16 (engine/internal/polyhead/internal/int16_constants.h): the writer
// narrows exactly the constants whose every value fits, readers widen them back to the same
// values, and the format version says so. Hostile storage is in test_model_loader; int8 models
// whose biases the writer narrowed run bit-exact against LiteRT in test_tflite_int8_models.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

#include "polyhead/format_version.h"
#include "polyhead/internal/int16_constants.h"
#include "polyhead/internal/phm_writer.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"
#include "support/phm_models.h"

using namespace polyhead;
using namespace polyhead::internal;

namespace {

// An I32 constant "ints" [n] read by nothing but kept in the file, beside a float ADD model.
PhmModel model_with_i32(const std::vector<int32_t>& values, const std::vector<float>& bias) {
  PhmModel m = testing::add_bias_phm_model(bias);
  PhmTensor ints;
  ints.name = "ints";
  ints.shape = {static_cast<int>(values.size())};
  ints.type = schema::ElementType::I32;
  ints.constant = 1;
  m.tensors.push_back(ints);
  m.constants.push_back({values.data(), values.size() * sizeof(int32_t)});
  return m;
}

const schema::Tensor* tensor_named(const std::vector<uint8_t>& bytes, const std::string& name) {
  for (const schema::Tensor* t : *schema::GetModel(bytes.data())->tensors())
    if (t->name()->str() == name) return t;
  return nullptr;
}

}  // namespace

TEST_CASE("int16 constants: narrowing takes only values that fit, widening gives them back",
          "[int16_constants]") {
  const std::vector<int32_t> fits = {0, 1, -1, 32767, -32768, 1234, -4321};
  const auto narrow = narrow_to_int16(fits.data(), fits.size());
  REQUIRE(narrow.has_value());
  std::vector<int32_t> back(fits.size());
  widen_int16(narrow->data(), narrow->size(), back.data());
  CHECK(back == fits);
  for (int32_t v : {32768, -32769, std::numeric_limits<int32_t>::max()}) {
    const std::vector<int32_t> over = {1, v, 2};
    CHECK_FALSE(narrow_to_int16(over.data(), over.size()).has_value());
  }
  // Little-endian bytes, read at any alignment.
  const uint8_t bytes[] = {0xff, 0x34, 0x12, 0x00, 0x80};
  int32_t two[2];
  widen_int16(bytes + 1, 2, two);
  CHECK(two[0] == 0x1234);
  CHECK(two[1] == -32768);
}

TEST_CASE("int16 constants: the writer stores fitting I32 constants in half the bytes",
          "[int16_constants]") {
  const std::vector<float> bias = {1.f, 2.f, 3.f};
  std::vector<int32_t> values(40);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int32_t>(i * 800) - 16000;
  auto bytes = write_phm(model_with_i32(values, bias));
  REQUIRE(bytes.is_ok());
  const schema::Tensor* ints = tensor_named(*bytes, "ints");
  REQUIRE(ints != nullptr);
  CHECK(ints->storage() == schema::ConstantStorage::INT16);
  CHECK(ints->type() == schema::ElementType::I32);
  const schema::Model* root = schema::GetModel(bytes->data());
  CHECK(root->buffers()->Get(ints->buffer() - 1)->size() == values.size() * 2);
  CHECK(root->format_version_minor() == kNarrowConstantsSinceMinor);
  // The float constant is untouched.
  CHECK(tensor_named(*bytes, "bias")->storage() == schema::ConstantStorage::PLAIN);
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());

  // One value past int16: stored plain, 4 bytes each, no newer version needed.
  values[7] = 40000;
  auto plain = write_phm(model_with_i32(values, bias));
  REQUIRE(plain.is_ok());
  const schema::Tensor* wide = tensor_named(*plain, "ints");
  CHECK(wide->storage() == schema::ConstantStorage::PLAIN);
  CHECK(schema::GetModel(plain->data())->buffers()->Get(wide->buffer() - 1)->size() ==
        values.size() * 4);
  CHECK(schema::GetModel(plain->data())->format_version_minor() == kFormatVersionMinor);
}
