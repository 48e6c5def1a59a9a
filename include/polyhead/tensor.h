// Shapes, element types and non-owning tensor views, shared by every layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace polyhead {

enum class ElementType : uint8_t { kF32 = 0, kF16 = 1, kI8 = 2, kU8 = 3, kI32 = 4 };

inline size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::kF32:
    case ElementType::kI32:
      return 4;
    case ElementType::kF16:
      return 2;
    case ElementType::kI8:
    case ElementType::kU8:
      return 1;
  }
  return 0;
}

inline const char* element_type_name(ElementType type) {
  switch (type) {
    case ElementType::kF32:
      return "f32";
    case ElementType::kF16:
      return "f16";
    case ElementType::kI8:
      return "i8";
    case ElementType::kU8:
      return "u8";
    case ElementType::kI32:
      return "i32";
  }
  return "?";
}

// A fixed-capacity shape: tensors have at most kMaxDims dimensions, so shapes never allocate.
class Shape {
 public:
  static constexpr size_t kMaxDims = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    for (int64_t d : dims) push_back(d);
  }

  size_t rank() const { return rank_; }
  int64_t operator[](size_t i) const { return dims_[i]; }
  int64_t& operator[](size_t i) { return dims_[i]; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  // Returns false when full; callers validate rank before building shapes from untrusted data.
  bool push_back(int64_t d) {
    if (rank_ == kMaxDims) return false;
    dims_[rank_++] = d;
    return true;
  }
  int64_t elements() const {
    int64_t n = 1;
    for (size_t i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  bool operator==(const Shape& other) const {
    if (rank_ != other.rank_) return false;
    for (size_t i = 0; i < rank_; ++i)
      if (dims_[i] != other.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& other) const { return !(*this == other); }
  // "[1,224,224,3]"
  std::string to_string() const {
    std::string s = "[";
    for (size_t i = 0; i < rank_; ++i) {
      if (i) s += ",";
      s += std::to_string(dims_[i]);
    }
    return s + "]";
  }

 private:
  std::array<int64_t, kMaxDims> dims_{};
  size_t rank_ = 0;
};

// A non-owning view of tensor data; valid as long as the object that handed it out.
struct TensorView {
  const void* data = nullptr;
  Shape shape;
  ElementType type = ElementType::kF32;

  size_t bytes() const { return static_cast<size_t>(shape.elements()) * element_size(type); }
  const float* f32() const {
    return type == ElementType::kF32 ? static_cast<const float*>(data) : nullptr;
  }
};

}  // namespace polyhead
