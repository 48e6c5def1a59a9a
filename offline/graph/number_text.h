// A number as the offline tools print it in messages and reports: the shortest of fixed or
// exponent form with `digits` significant digits ("0.05", "1e-06"), as printf's %g.
#pragma once

#include <cstdio>
#include <string>

namespace polyhead::graph {

inline std::string number_text(double v, int digits = 6) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

}  // namespace polyhead::graph
