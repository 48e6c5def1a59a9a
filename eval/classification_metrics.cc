#include "eval/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace polyhead::compare {
namespace {

// A probability of 0 would make the KL infinite, which says less than a large finite number.
constexpr double kMinProbability = 1e-12;

size_t argmax(const float* v, size_t n) {
  return static_cast<size_t>(std::max_element(v, v + n) - v);
}

// log(sum(exp(x))) without overflow.
double log_sum_exp(const std::vector<double>& x) {
  const double m = *std::max_element(x.begin(), x.end());
  if (!std::isfinite(m)) return m;
  double sum = 0;
  for (double v : x) sum += std::exp(v - m);
  return m + std::log(sum);
}

// Softened log-probabilities of one row under `kind` (not kSigmoid with several classes).
// One value is a binary outcome: (1 - p, p) or the softmax of (0, z).
std::vector<double> softened_log_probs(const float* v, size_t n, ScoreKind kind, double t) {
  std::vector<double> x;
  if (n == 1 && kind == ScoreKind::kProbabilities) {
    const double p = std::clamp(static_cast<double>(v[0]), kMinProbability, 1 - kMinProbability);
    x = {std::log1p(-p) / t, std::log(p) / t};
  } else if (n == 1) {
    x = {0.0, static_cast<double>(v[0]) / t};  // sigmoid(z) is the softmax of (0, z)
  } else {
    x.resize(n);
    for (size_t i = 0; i < n; ++i)
      x[i] = kind == ScoreKind::kProbabilities
                 ? std::log(std::max(static_cast<double>(v[i]), kMinProbability)) / t
                 : static_cast<double>(v[i]) / t;
  }
  const double lse = log_sum_exp(x);
  for (double& e : x) e -= lse;
  return x;
}

double softmax_kl(const std::vector<double>& lp, const std::vector<double>& lq) {
  double kl = 0;
  for (size_t i = 0; i < lp.size(); ++i) {
    const double p = std::exp(lp[i]);
    if (p > 0) kl += p * (lp[i] - lq[i]);
  }
  return std::max(0.0, kl);  // rounding can leave a tiny negative
}

double softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

// KL of Bernoulli(sigmoid(a)) from Bernoulli(sigmoid(b)), in log space for large logits.
double bernoulli_kl(double a, double b) {
  const double log_p = -softplus(-a), log_1p = -softplus(a);
  const double log_q = -softplus(-b), log_1q = -softplus(b);
  return std::max(0.0, std::exp(log_p) * (log_p - log_q) + std::exp(log_1p) * (log_1p - log_1q));
}

}  // namespace

const char* score_kind_name(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::kLogits:
      return "logits";
    case ScoreKind::kProbabilities:
      return "probabilities";
    case ScoreKind::kSigmoid:
      return "sigmoid";
  }
  return "logits";
}

bool rows_are_distributions(const float* values, size_t count, size_t classes) {
  if (classes == 0 || count == 0 || count % classes != 0) return false;
  for (size_t r = 0; r < count; r += classes) {
    double sum = 0;
    for (size_t i = r; i < r + classes; ++i) {
      if (!(values[i] >= 0.f && values[i] <= 1.f)) return false;
      sum += values[i];
    }
    if (classes > 1 && std::abs(sum - 1.0) > 1e-3) return false;
  }
  return true;
}

ScoreKind score_kind(OutputActivation activation, size_t classes, bool teacher_are_distributions,
                     bool student_are_distributions) {
  const bool probabilities = activation == OutputActivation::kNone && teacher_are_distributions &&
                             student_are_distributions;
  if (probabilities) return ScoreKind::kProbabilities;
  // A single value cannot be a softmax: it is a binary logit.
  if (activation == OutputActivation::kSigmoid || classes == 1) return ScoreKind::kSigmoid;
  return ScoreKind::kLogits;
}

RowAgreement compare_row(const float* teacher, const float* student, size_t classes, ScoreKind kind,
                         double temperature) {
  RowAgreement r;
  if (classes == 0) return r;
  if (classes == 1) {
    const float boundary = kind == ScoreKind::kProbabilities ? 0.5f : 0.f;
    r.top1 = r.top5 = (teacher[0] >= boundary) == (student[0] >= boundary);
  } else {
    const size_t best = argmax(teacher, classes);
    r.top1 = argmax(student, classes) == best;
    // The teacher's class is in the student's top k when fewer than k classes score higher.
    const size_t k = std::min<size_t>(5, classes);
    size_t higher = 0;
    for (size_t i = 0; i < classes; ++i) higher += student[i] > student[best] ? 1 : 0;
    r.top5 = higher < k;
  }
  if (kind == ScoreKind::kSigmoid && classes > 1) {
    double sum = 0;
    for (size_t i = 0; i < classes; ++i)
      sum += bernoulli_kl(teacher[i] / temperature, student[i] / temperature);
    r.kl = sum / static_cast<double>(classes);
  } else {
    r.kl = softmax_kl(softened_log_probs(teacher, classes, kind, temperature),
                      softened_log_probs(student, classes, kind, temperature));
  }
  return r;
}

}  // namespace polyhead::compare
