// The statistics, chart and report helpers of `polyhead bench` on inputs with known answers.
#include <catch2/catch.hpp>

#include <cmath>

#include "cli/bench_html.h"
#include "cli/bench_stats.h"
#include "cli/bench_svg.h"

using namespace polyhead::cli;

TEST_CASE("percentile interpolates linearly between the closest ranks") {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK(percentile(v, 0.0) == 1);
  CHECK(percentile(v, 1.0) == 10);
  CHECK(percentile(v, 0.5) == Approx(5.5));
  CHECK(percentile(v, 0.9) == Approx(9.1));    // rank 8.1
  CHECK(percentile(v, 0.99) == Approx(9.91));  // rank 8.91
  // Out-of-range fractions are clamped, an empty input gives 0.
  CHECK(percentile(v, -1) == 1);
  CHECK(percentile(v, 2) == 10);
  CHECK(percentile({}, 0.5) == 0);
  CHECK(percentile({42}, 0.9) == 42);
}

TEST_CASE("summarize sorts, and gives mean and sample standard deviation") {
  // Unsorted on purpose: 2, 4, 4, 4, 5, 5, 7, 9 has mean 5 and sum of squared deviations 32.
  const Summary s = summarize({9, 4, 5, 2, 4, 7, 4, 5});
  CHECK(s.count == 8);
  CHECK(s.min == 2);
  CHECK(s.max == 9);
  CHECK(s.median == Approx(4.5));
  CHECK(s.mean == Approx(5));
  CHECK(s.stddev == Approx(std::sqrt(32.0 / 7.0)));
  CHECK(s.p90 == Approx(7.6));  // rank 6.3 between 7 and 9
  CHECK(s.p99 == Approx(8.86));
  CHECK(s.min <= s.median);
  CHECK(s.median <= s.p90);
  CHECK(s.p90 <= s.p99);
  CHECK(s.p99 <= s.max);
}

TEST_CASE("summarize of one sample or none") {
  const Summary one = summarize({3.5});
  CHECK(one.count == 1);
  CHECK(one.min == 3.5);
  CHECK(one.median == 3.5);
  CHECK(one.p99 == 3.5);
  CHECK(one.stddev == 0);
  const Summary none = summarize({});
  CHECK(none.count == 0);
  CHECK(none.max == 0);
  CHECK(none.mean == 0);
}

TEST_CASE("the standard deviation keeps small spreads around a large mean") {
  const Summary s = summarize({1e9 + 1, 1e9 + 2, 1e9 + 3});
  CHECK(s.stddev == Approx(1.0));
}

TEST_CASE("histogram puts every sample in a bin, the maximum in the last one") {
  const Histogram h = histogram({0, 1, 2, 3, 4, 5, 6, 7, 8, 10}, 5);
  REQUIRE(h.counts.size() == 5);
  CHECK(h.lo == 0);
  CHECK(h.bin_width == Approx(2));
  CHECK(h.counts == std::vector<size_t>{2, 2, 2, 2, 2});
  const Histogram flat = histogram({4, 4, 4}, 10);
  CHECK(flat.bin_width == 0);
  CHECK(flat.counts == std::vector<size_t>{3});
  CHECK(histogram({}, 10).counts.empty());
  CHECK(histogram({1, 2}, 0).counts.empty());
}

TEST_CASE("axis steps are 1, 2 or 5 times a power of ten") {
  CHECK(nice_step(10, 5) == Approx(2));
  CHECK(nice_step(4.99, 5) == Approx(1));
  CHECK(nice_step(273, 5) == Approx(100));
  CHECK(nice_step(0.028, 6) == Approx(0.005));
  CHECK(nice_step(0, 5) == 1);
}

TEST_CASE("html_escape neutralises markup") {
  CHECK(html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(html_escape("backbone.block1") == "backbone.block1");
}

TEST_CASE("the HTML report of a synthetic result is self-contained and escapes names") {
  BenchResult r;
  r.config.model_path = "m<1>.phm";
  r.model_format = "phm";
  r.tasks = {"a", "b"};
  // 40 runs near 5 ms and one at 50 ms: the outlier is folded into the last bar.
  for (int i = 0; i < 40; ++i) r.latency.samples_ms.push_back(5.0 + 0.01 * i);
  r.latency.samples_ms.push_back(50.0);
  r.latency.ms = summarize(r.latency.samples_ms);
  r.has_profile = true;
  r.profile.runs = 41;
  NodeProfile n;
  n.name = "conv<&>";
  n.op = "CONV_2D";
  n.part = "shared";
  n.median_us = 100;
  n.share = 1;
  r.profile.nodes = {n};
  r.profile.parts = {{"shared", 1, 0, 100, 1}, {"a", 0, 0, 0, 0}, {"b", 0, 0, 0, 0}};
  r.sweep = {ThreadPoint{}, ThreadPoint{}};
  r.sweep[1].threads = r.sweep[1].resolved_threads = 2;

  const std::string html = bench_to_html(r);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("counted in the last bar") != std::string::npos);
  CHECK(html.find("conv&lt;&amp;&gt;") != std::string::npos);
  CHECK(html.find("m&lt;1&gt;.phm") != std::string::npos);
  CHECK(html.find("conv<&>") == std::string::npos);
  CHECK(html.find("http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("Thread scaling") != std::string::npos);
  // Asked-for sections only.
  CHECK(html.find("each task alone") == std::string::npos);
}
