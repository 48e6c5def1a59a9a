// What the peer-suite drivers share: a timing loop, peak resident memory and the one-line JSON
// every driver prints, so run_peers.py reads the C++ drivers (Polyhead, OpenCV DNN) like the
// Python and Node.js ones (peer_common.py).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace polyhead::peers {

// Peak resident set size of this process in kB (VmHWM), 0 when unknown.
inline long peak_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

// `warmup` untimed runs, then `runs` timed ones (ms each).
inline std::vector<double> time_runs(int warmup, int runs, const std::function<bool()>& run_once) {
  for (int i = 0; i < warmup; ++i)
    if (!run_once()) return {};
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!run_once()) return {};
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return ms;
}

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline void print_result(const char* runtime, const std::vector<double>& ms, double load_ms,
                         long rss_before_kb) {
  std::printf(
      "{\"runtime\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, "
      "\"load_ms\": %.3f, \"rss_before_kb\": %ld, \"rss_peak_kb\": %ld, \"samples_ms\": [",
      runtime, median_of(ms), ms.empty() ? 0.0 : *std::min_element(ms.begin(), ms.end()),
      ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()), load_ms, rss_before_kb,
      peak_rss_kb());
  for (size_t i = 0; i < ms.size(); ++i) std::printf("%s%.4f", i ? ", " : "", ms[i]);
  std::printf("]}\n");
}

inline void print_error(const char* runtime, const std::string& message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += (c == '\n' || c == '\r') ? ' ' : c;
  }
  std::printf("{\"runtime\": \"%s\", \"error\": \"%s\"}\n", runtime, escaped.c_str());
}

// "a,b,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (c == ',')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

// Deterministic input values in [-1, 1] (latency does not depend on them).
inline void fill_input(float* data, size_t count, unsigned seed) {
  unsigned x = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < count; ++i) {
    x = x * 1664525u + 1013904223u;
    data[i] = static_cast<float>(x >> 8) / 8388608.f - 1.f;
  }
}

// Options every driver takes: --models A,B --threads N --warmup W --runs R (one run = every
// model once, in order).
struct PeerOptions {
  std::vector<std::string> models;
  std::vector<std::vector<int>> shapes;  // OpenCV needs them: --shapes 1x3x224x224,...
  int threads = 1, warmup = 10, runs = 30;
};

inline bool parse_peer_options(int argc, char** argv, PeerOptions* o, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      *error = "option " + a + " needs a value";
      return false;
    }
    const std::string v = argv[++i];
    if (a == "--models") {
      o->models = v == "none" ? std::vector<std::string>{} : split_commas(v);
    } else if (a == "--shapes") {
      for (const std::string& s : split_commas(v)) {
        std::vector<int> dims;
        std::string d;
        for (size_t k = 0; k <= s.size(); ++k) {
          if (k < s.size() && s[k] != 'x') {
            d += s[k];
            continue;
          }
          dims.push_back(std::atoi(d.c_str()));
          d.clear();
        }
        o->shapes.push_back(dims);
      }
    } else if (a == "--threads" || a == "--warmup" || a == "--runs") {
      const int n = std::atoi(v.c_str());
      if (n < (a == "--warmup" ? 0 : 1)) {
        *error = a + " must be a positive number, got '" + v + "'";
        return false;
      }
      (a == "--threads" ? o->threads : a == "--warmup" ? o->warmup : o->runs) = n;
    } else {
      *error = "unknown option " + a;
      return false;
    }
  }
  return true;
}

}  // namespace polyhead::peers
