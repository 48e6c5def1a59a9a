#include "cli/format.h"

#include <cstdio>

namespace polyhead::cli {

std::string format_bytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    v /= 1024.0;
    ++unit;
  }
  char buf[48];
  if (unit == 0)
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof(buf), "%.2f %s", v, kUnits[unit]);
  return buf;
}

std::string format_count(uint64_t n) {
  char buf[48];
  const double v = static_cast<double>(n);
  if (n >= 1000000000ull)
    std::snprintf(buf, sizeof(buf), "%.2f G", v / 1e9);
  else if (n >= 1000000ull)
    std::snprintf(buf, sizeof(buf), "%.2f M", v / 1e6);
  else if (n >= 1000ull)
    std::snprintf(buf, sizeof(buf), "%.2f K", v / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(n));
  return buf;
}

std::string format_float(double v, int precision) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
  return buf;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? separator : "") + items[i];
  return s;
}

std::string wrap_list(const std::vector<std::string>& items, size_t indent, size_t width) {
  std::string out(indent, ' ');
  size_t column = indent;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string item = items[i] + (i + 1 < items.size() ? "," : "");
    if (column > indent && column + 1 + item.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += item;
    column += item.size();
  }
  return out;
}

}  // namespace polyhead::cli
