#include "cli/json.h"

#include <cmath>
#include <cstdio>

namespace polyhead::cli {

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void JsonWriter::newline() {
  out_ += '\n';
  out_.append(first_.size() * 2, ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  const bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  return close('}');
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  return close(']');
}

JsonWriter& JsonWriter::key(const std::string& k) {
  before_value();
  out_ += json_escape(k) + ": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(const std::string& v) {
  before_value();
  out_ += json_escape(v);
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  before_value();
  if (!std::isfinite(v)) {
    out_ += "null";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    out_ += buf;
  }
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

// Short arrays of numbers or names stay on one line so shapes read naturally.
JsonWriter& JsonWriter::value(const Shape& shape) {
  before_value();
  out_ += '[';
  for (size_t i = 0; i < shape.rank(); ++i) out_ += (i ? ", " : "") + std::to_string(shape[i]);
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::value(const std::vector<std::string>& v) {
  before_value();
  out_ += '[';
  for (size_t i = 0; i < v.size(); ++i) out_ += (i ? ", " : "") + json_escape(v[i]);
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::value(const std::vector<float>& v) {
  before_value();
  out_ += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    if (std::isfinite(v[i]))
      std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v[i]));
    else
      std::snprintf(buf, sizeof(buf), "null");
    out_ += (i ? ", " : "") + std::string(buf);
  }
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::value(const std::vector<double>& v) {
  before_value();
  out_ += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    if (std::isfinite(v[i]))
      std::snprintf(buf, sizeof(buf), "%.9g", v[i]);
    else
      std::snprintf(buf, sizeof(buf), "null");
    out_ += (i ? ", " : "") + std::string(buf);
  }
  out_ += ']';
  return *this;
}

}  // namespace polyhead::cli
