#include "converters/tflite/flatbuffer_view.h"

namespace polyhead::tflite {

Table FlatBufferView::make_table(size_t position) const {
  int32_t soffset = 0;
  if (!read(position, &soffset)) return {};
  // The vtable lives at position - soffset; compute in 64 bits so no value wraps.
  const int64_t vtable = static_cast<int64_t>(position) - static_cast<int64_t>(soffset);
  if (vtable < 0 || static_cast<uint64_t>(vtable) >= size_) return {};
  uint16_t vtable_size = 0, table_size = 0;
  if (!read(static_cast<size_t>(vtable), &vtable_size)) return {};
  if (!read(static_cast<size_t>(vtable) + 2, &table_size)) return {};
  if (vtable_size < 4 || (vtable_size & 1) != 0) return {};
  if (!in_bounds(static_cast<size_t>(vtable), vtable_size)) return {};
  if (!in_bounds(position, table_size < 4 ? 4 : table_size)) return {};
  return Table(this, position, static_cast<size_t>(vtable), vtable_size);
}

Table FlatBufferView::table_at(size_t position) const {
  uint32_t offset = 0;
  if (!read(position, &offset)) return {};
  const uint64_t target = static_cast<uint64_t>(position) + offset;
  if (target >= size_) return {};
  return make_table(static_cast<size_t>(target));
}

size_t Table::field_offset(int field) const {
  if (!view_ || field < 0) return 0;
  const size_t slot = 4 + 2 * static_cast<size_t>(field);
  if (slot + 2 > vtable_size_) return 0;
  uint16_t off = 0;
  if (!view_->read(vtable_ + slot, &off)) return 0;
  return off;
}

bool Table::field_position(int field, size_t* position) const {
  const size_t off = field_offset(field);
  if (off == 0) return false;
  *position = pos_ + off;
  return view_->in_bounds(*position, 1);
}

bool Table::deref(int field, size_t* target) const {
  const size_t off = field_offset(field);
  if (off == 0) return false;
  uint32_t rel = 0;
  if (!view_->read(pos_ + off, &rel)) return false;
  const uint64_t t = static_cast<uint64_t>(pos_) + off + rel;
  if (t >= view_->size()) return false;
  *target = static_cast<size_t>(t);
  return true;
}

Table Table::table(int field) const {
  size_t target = 0;
  if (!deref(field, &target)) return {};
  return view_->make_table(target);
}

bool Table::vector(int field, size_t element_size, const uint8_t** data, size_t* count) const {
  *data = nullptr;
  *count = 0;
  size_t target = 0;
  if (!deref(field, &target)) return false;
  uint32_t n = 0;
  if (!view_->read(target, &n)) return false;
  const uint64_t bytes = static_cast<uint64_t>(n) * element_size;
  if (!view_->in_bounds(target + 4, bytes > SIZE_MAX ? SIZE_MAX : static_cast<size_t>(bytes)))
    return false;
  *data = view_->data() + target + 4;
  *count = n;
  return true;
}

std::string Table::string(int field, bool* ok) const {
  const uint8_t* data = nullptr;
  size_t count = 0;
  const bool good = vector(field, 1, &data, &count);
  if (ok) *ok = good;
  if (!good) return {};
  return std::string(reinterpret_cast<const char*>(data), count);
}

size_t Table::vector_size(int field) const {
  const uint8_t* data = nullptr;
  size_t count = 0;
  return vector(field, 4, &data, &count) ? count : 0;
}

Table Table::table_at(int field, size_t i) const {
  const uint8_t* data = nullptr;
  size_t count = 0;
  if (!vector(field, 4, &data, &count) || i >= count) return {};
  return view_->table_at(static_cast<size_t>(data - view_->data()) + 4 * i);
}

}  // namespace polyhead::tflite
