// Just enough JSON to read what the tools and reference scripts write: objects, arrays, strings,
// numbers and literals.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace polyhead::testing {

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& operator[](const std::string& key) const {
    static const Json kMissing;
    auto it = object.find(key);
    return it == object.end() ? kMissing : it->second;
  }
  bool has(const std::string& key) const { return object.count(key) != 0; }
  // The member `key`, or null when absent.
  const Json* get(const std::string& key) const {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &it->second;
  }
};

// Parses `text` into `out`; false on malformed JSON or trailing text.
bool parse_json(const std::string& text, Json& out);

}  // namespace polyhead::testing
