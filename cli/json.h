// A minimal streaming JSON writer for the tools' machine-readable output: keys and values are
// written in order, commas and indentation are tracked, strings escaped, non-finite numbers null.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/tensor.h"

namespace polyhead::cli {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // Inside an object, the next value's key.
  JsonWriter& key(const std::string& k);

  JsonWriter& value(const std::string& v);
  JsonWriter& value(const char* v) { return value(std::string(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(uint64_t v);
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& value(const Shape& shape);
  JsonWriter& value(const std::vector<std::string>& v);
  JsonWriter& value(const std::vector<float>& v);
  JsonWriter& value(const std::vector<double>& v);

  template <typename T>
  JsonWriter& field(const std::string& k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const { return out_; }

 private:
  void before_value();
  JsonWriter& close(char bracket);
  void newline();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

std::string json_escape(const std::string& s);

}  // namespace polyhead::cli
