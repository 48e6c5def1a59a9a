#include "support/json_reader.h"

#include <cctype>
#include <cstdlib>

namespace polyhead::testing {
namespace {

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}
  bool parse(Json& out) {
    if (!value(out)) return false;
    skip();
    return i_ == s_.size();
  }

 private:
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (s_.compare(i_, w.size(), w) != 0) return false;
    i_ += w.size();
    return true;
  }
  bool string(std::string& out) {
    if (s_[i_] != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        c = s_[i_];
        if (c == 'n') c = '\n';
        if (c == 't') c = '\t';
        if (c == 'u') {  // the tool only escapes control characters this way
          i_ += 4;
          c = '?';
        }
      }
      out += c;
    }
    return false;
  }
  bool value(Json& out) {
    skip();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      out.kind = Json::kObject;
      ++i_;
      skip();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      while (true) {
        skip();
        std::string key;
        if (i_ >= s_.size() || !string(key)) return false;
        skip();
        if (i_ >= s_.size() || s_[i_++] != ':') return false;
        if (!value(out.object[key])) return false;
        skip();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == '}') return ++i_, true;
        if (s_[i_++] != ',') return false;
      }
    }
    if (c == '[') {
      out.kind = Json::kArray;
      ++i_;
      skip();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      while (true) {
        out.array.emplace_back();
        if (!value(out.array.back())) return false;
        skip();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == ']') return ++i_, true;
        if (s_[i_++] != ',') return false;
      }
    }
    if (c == '"') {
      out.kind = Json::kString;
      return string(out.string);
    }
    if (literal("true")) return out.kind = Json::kBool, out.boolean = true, true;
    if (literal("false")) return out.kind = Json::kBool, true;
    if (literal("null")) return true;
    char* end = nullptr;
    out.number = std::strtod(s_.c_str() + i_, &end);
    if (end == s_.c_str() + i_) return false;
    out.kind = Json::kNumber;
    i_ = static_cast<size_t>(end - s_.c_str());
    return true;
  }
  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

bool parse_json(const std::string& text, Json& out) {
  return JsonParser(text).parse(out);
}

}  // namespace polyhead::testing
