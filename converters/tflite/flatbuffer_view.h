// A bounds-checked view of a FlatBuffer for reading untrusted files without generated code:
// tables, scalars, strings and vectors are located through their offsets, and every access is
// checked against the buffer, so a corrupted or truncated file yields "absent"/an error instead of
// an out-of-bounds read. Nothing here allocates except the strings it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace polyhead::tflite {

class FlatBufferView;

// A table inside the buffer; a default-constructed Table is "absent" and reads defaults.
class Table {
 public:
  Table() = default;
  bool valid() const { return view_ != nullptr; }

  // Scalars: the field's value, or `fallback` when absent or out of bounds.
  int8_t i8(int field, int8_t fallback = 0) const { return scalar<int8_t>(field, fallback); }
  // A byte-typed enum field (TFLite's enums are signed bytes), widened for comparisons.
  int byte_enum(int field, int fallback = 0) const {
    return i8(field,
              static_cast<int8_t>(
                  fallback));  // NOLINT(bugprone-signed-char-misuse): a number, not a character
  }
  uint8_t u8(int field, uint8_t fallback = 0) const { return scalar<uint8_t>(field, fallback); }
  int32_t i32(int field, int32_t fallback = 0) const { return scalar<int32_t>(field, fallback); }
  uint32_t u32(int field, uint32_t fallback = 0) const { return scalar<uint32_t>(field, fallback); }
  uint64_t u64(int field, uint64_t fallback = 0) const { return scalar<uint64_t>(field, fallback); }
  float f32(int field, float fallback = 0.f) const { return scalar<float>(field, fallback); }
  bool boolean(int field, bool fallback = false) const {
    return scalar<uint8_t>(field, fallback ? 1 : 0) != 0;
  }

  // A sub-table; invalid when absent or broken.
  Table table(int field) const;
  // A string field; empty when absent or broken (`ok` tells them apart when given).
  std::string string(int field, bool* ok = nullptr) const;
  // A vector field: start of its elements and count, checked for `element_size` bytes each.
  // Returns false when absent or out of bounds (then `data`/`count` are null/0).
  bool vector(int field, size_t element_size, const uint8_t** data, size_t* count) const;

  // The i-th table of a vector of tables (invalid when out of range or broken).
  Table table_at(int field, size_t i) const;
  size_t vector_size(int field) const;  // elements of a vector of tables/offsets (0 if absent)

  // The absolute byte position of a present scalar field (for tests patching files).
  bool field_position(int field, size_t* position) const;

 private:
  friend class FlatBufferView;
  Table(const FlatBufferView* view, size_t position, size_t vtable, size_t vtable_size)
      : view_(view), pos_(position), vtable_(vtable), vtable_size_(vtable_size) {}
  // Offset of `field` from the table start, 0 when absent.
  size_t field_offset(int field) const;
  template <typename T>
  T scalar(int field, T fallback) const;
  bool deref(int field, size_t* target) const;

  const FlatBufferView* view_ = nullptr;
  size_t pos_ = 0, vtable_ = 0, vtable_size_ = 0;
};

class FlatBufferView {
 public:
  FlatBufferView(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // The root table; invalid when the buffer is too small or the root offset is broken.
  Table root() const { return table_at(0); }
  // The table referenced by the uoffset stored at `position`.
  Table table_at(size_t position) const;

  bool in_bounds(size_t position, size_t bytes) const {
    return position <= size_ && bytes <= size_ - position;
  }
  template <typename T>
  bool read(size_t position, T* out) const {
    if (!in_bounds(position, sizeof(T))) return false;
    std::memcpy(out, data_ + position, sizeof(T));
    return true;
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  friend class Table;
  Table make_table(size_t position) const;
  const uint8_t* data_;
  size_t size_;
};

template <typename T>
T Table::scalar(int field, T fallback) const {
  const size_t off = field_offset(field);
  if (off == 0) return fallback;
  T value;
  return view_->read(pos_ + off, &value) ? value : fallback;
}

}  // namespace polyhead::tflite
