// Helpers for benchmarks that compare configurations in one process on a shared, noisy machine:
// every round runs each configuration once, in an order that rotates from round to round, so a
// slow spell (another job compiling) falls on all of them alike. Figures are medians of the pooled
// samples; a ratio is taken per round (configuration / baseline, both from that round) and
// reported as the median with its spread over the rounds.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace polyhead::bench {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The q-quantile (0..1) by linear interpolation between order statistics; 0 for no samples.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

inline double median(const std::vector<double>& v) {
  return quantile(v, 0.5);
}

// The median of per-round ratios with the quartiles and extremes around it.
struct Spread {
  double median = 0, p25 = 0, p75 = 0, min = 0, max = 0;
  // A ratio whose middle half of rounds lies on both sides of 1 is no measured difference.
  bool within_noise() const { return p25 <= 1.0 && p75 >= 1.0; }
};

inline Spread spread_of(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.median = quantile(v, 0.5);
  s.p25 = quantile(v, 0.25);
  s.p75 = quantile(v, 0.75);
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

// The order of `count` configurations in round `round`: rotated by one each round.
inline std::vector<size_t> round_order(size_t count, size_t round) {
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = (i + round) % count;
  return order;
}

// "--name=N" or "--name N" style integer option from argv; `fallback` when absent.
inline long option_value(int argc, char** argv, const std::string& name, long fallback) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind(name + "=", 0) == 0) return std::strtol(a.c_str() + name.size() + 1, nullptr, 10);
    if (a == name && i + 1 < argc) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

// "--name=TEXT" or "--name TEXT"; `fallback` when absent.
inline std::string option_text(int argc, char** argv, const std::string& name,
                               const std::string& fallback) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind(name + "=", 0) == 0) return a.substr(name.size() + 1);
    if (a == name && i + 1 < argc) return argv[i + 1];
  }
  return fallback;
}

inline bool has_flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

}  // namespace polyhead::bench
