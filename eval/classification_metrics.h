// Classification agreement between a teacher's and a student's output row: top-1 and top-5
// agreement and the KL divergence of the temperature-softened distributions, KL(teacher‖student).
//
// How a row of raw outputs becomes a distribution depends on the task's declared activation:
//   softmax            the values are logits: softmax(z / T);
//   sigmoid            independent (multi-label) logits: sigmoid(z / T) per class and the KL is
//                      the mean Bernoulli KL over classes;
//   none               probabilities when every row of both models is a distribution (values in
//                      [0, 1] summing to 1, i.e. the graph ends in a softmax): softened as
//                      p^(1/T) renormalised, which is softmax(log p / T); otherwise logits.
// One value per row is a binary outcome: a probability p in [0, 1] when the activation is none and
// both models' values lie there (the graph ends in a sigmoid), else a logit z; it is the
// two-class distribution (1 - p, p), resp. the softmax of (0, z), softened like the others.
// Rankings (top-k) do not depend on T or the activation, so they are taken on the raw values.
#pragma once

#include <cstddef>
#include <string>

#include "polyhead/model_enums.h"

namespace polyhead::compare {

enum class ScoreKind { kLogits, kProbabilities, kSigmoid };
const char* score_kind_name(ScoreKind kind);

// True when every row of `count` values (rows of `classes`) lies in [0, 1] and, with two classes
// or more, sums to 1.
bool rows_are_distributions(const float* values, size_t count, size_t classes);

// `activation` is the task's PostProcessInfo activation; `*_are_distributions` from
// rows_are_distributions on each model's output.
ScoreKind score_kind(OutputActivation activation, size_t classes, bool teacher_are_distributions,
                     bool student_are_distributions);

struct RowAgreement {
  bool top1 = false;  // same highest class (one value: same side of probability 0.5)
  bool top5 = false;  // the teacher's top class is among the student's top min(5, classes)
  double kl = 0;      // KL(teacher‖student) of the softened distributions, in nats
};

// `temperature` > 0 (checked by the caller).
RowAgreement compare_row(const float* teacher, const float* student, size_t classes, ScoreKind kind,
                         double temperature);

}  // namespace polyhead::compare
