// `polyhead lowrank`'s building blocks (offline/lowrank): the SVD against known factorizations
// (orthogonality, reconstruction, order, rank-deficient, tall and wide matrices), the rank
// choices, which layers qualify, and the two-layer rewrite run against the original model: the
// same outputs at full rank, the best rank-r approximation below it.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/lowrank/factorizable_layer.h"
#include "offline/lowrank/factorized_writer.h"
#include "offline/lowrank/rank_choice.h"
#include "offline/lowrank/svd.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;
using namespace polyhead::lowrank;

namespace {

std::vector<double> random_matrix(int rows, int cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist;
  std::vector<double> a(static_cast<size_t>(rows) * cols);
  for (double& x : a) x = dist(rng);
  return a;
}

// a (rows x k) times b (k x cols), row-major.
std::vector<double> multiply(const std::vector<double>& a, const std::vector<double>& b, int rows,
                             int k, int cols) {
  std::vector<double> c(static_cast<size_t>(rows) * cols, 0.0);
  for (int i = 0; i < rows; ++i)
    for (int p = 0; p < k; ++p)
      for (int j = 0; j < cols; ++j)
        c[static_cast<size_t>(i) * cols + j] +=
            a[static_cast<size_t>(i) * k + p] * b[static_cast<size_t>(p) * cols + j];
  return c;
}

Svd must_svd(const std::vector<double>& a, int rows, int cols) {
  auto s = svd(a, rows, cols);
  if (!s.is_ok()) FAIL(s.status().to_string());
  return *s;
}

// U_r S_r V_r^T.
std::vector<double> reconstruct(const Svd& s, int rank) {
  std::vector<double> a(static_cast<size_t>(s.rows) * s.cols, 0.0);
  for (int i = 0; i < s.rows; ++i)
    for (int j = 0; j < s.cols; ++j)
      for (int k = 0; k < rank; ++k)
        a[static_cast<size_t>(i) * s.cols + j] += s.u_at(i, k) * s.s[k] * s.v_at(j, k);
  return a;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// The largest |Q^T Q - I| entry of the n x k row-major matrix q.
double orthogonality_error(const std::vector<double>& q, int n, int k) {
  double worst = 0;
  for (int a = 0; a < k; ++a)
    for (int b = 0; b < k; ++b) {
      double d = 0;
      for (int i = 0; i < n; ++i)
        d += q[static_cast<size_t>(i) * k + a] * q[static_cast<size_t>(i) * k + b];
      worst = std::max(worst, std::fabs(d - (a == b ? 1.0 : 0.0)));
    }
  return worst;
}

void check_decomposition(const std::vector<double>& a, int rows, int cols) {
  INFO(rows << "x" << cols);
  const Svd s = must_svd(a, rows, cols);
  REQUIRE(s.k == std::min(rows, cols));
  REQUIRE(s.s.size() == static_cast<size_t>(s.k));
  for (int j = 0; j < s.k; ++j) {
    CHECK(s.s[j] >= 0);
    if (j > 0) CHECK(s.s[j - 1] >= s.s[j]);
  }
  CHECK(orthogonality_error(s.u, rows, s.k) < 1e-12);
  CHECK(orthogonality_error(s.v, cols, s.k) < 1e-12);
  double scale = 0;
  for (double x : a) scale = std::max(scale, std::fabs(x));
  CHECK(max_abs_difference(reconstruct(s, s.k), a) <= 1e-12 * std::max(1.0, scale));
}

int must(Result<int> r) {
  if (!r.is_ok()) FAIL(r.status().to_string());
  return *r;
}

Model load(const std::vector<uint8_t>& bytes) {
  auto m = Model::from_bytes(bytes);
  if (!m.is_ok()) FAIL(m.status().to_string());
  return *m;
}

merge::SourceGraph graph(const Model& m) {
  auto g = merge::read_source_graph(m, "model");
  if (!g.is_ok()) FAIL(g.status().to_string());
  return *g;
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

// x [1,4,4,12] -> pw: 1x1 conv 12 -> 10, bias, relu [1,4,4,10] -> head: fully connected 10 -> 8
// on every pixel, no bias [1,4,4,8]. Tasks "features" (pw) and "out" (head), both "other".
struct TwoLayerModel {
  std::vector<double> pw_w, head_w;  // [10][12] and [8][10]
  std::vector<uint8_t> bytes;
};

TwoLayerModel two_layer_model(const std::vector<double>& pw_w, const std::vector<double>& head_w) {
  TwoLayerModel t{pw_w, head_w, {}};
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 4, 4, 12});
  Conv2DParams c;
  c.activation = Activation::relu();
  const int pw = must(b.conv2d("pw", x, b.add_constant("pw.w", Shape{10, 1, 1, 12}, to_float(pw_w)),
                               testing::random_constant(b, "pw.b", Shape{10}, 5, 0.2f), c));
  const int head = must(
      b.fully_connected("head", pw, b.add_constant("head.w", Shape{8, 10}, to_float(head_w)), -1));
  REQUIRE(b.add_task("features", TaskKind::kOther, {{"pw", pw}}).is_ok());
  REQUIRE(b.add_task("out", TaskKind::kOther, {{"head", head}}).is_ok());
  auto bytes = b.finish();
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  t.bytes = *bytes;
  return t;
}

TwoLayerModel random_two_layer_model() {
  return two_layer_model(random_matrix(10, 12, 11), random_matrix(8, 10, 12));
}

std::vector<float> input_values() {
  return testing::random_values(4 * 4 * 12, 99, 1.f);
}

// Every task output of `bytes` on input_values(), by "task/output".
std::map<std::string, std::vector<float>> run(const std::vector<uint8_t>& bytes) {
  const Model m = load(bytes);
  auto engine = Engine::create(m);
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare();
  if (!plan.is_ok()) FAIL(plan.status().to_string());
  const std::vector<float> x = input_values();
  REQUIRE(plan->set_input("x", x.data(), x.size()).is_ok());
  REQUIRE(plan->run().is_ok());
  std::map<std::string, std::vector<float>> out;
  for (const TaskInfo& t : m.tasks())
    for (const TaskOutputInfo& o : t.outputs) {
      auto v = plan->output(t.name, o.name);
      REQUIRE(v.is_ok());
      out[t.name + "/" + o.name].assign(v->f32(), v->f32() + v->shape.elements());
    }
  return out;
}

// The model with the layers named in `ranks` factorized at those ranks.
std::vector<uint8_t> factorized(const Model& m, const std::map<std::string, int>& ranks,
                                std::vector<Svd>* svds_out = nullptr) {
  const merge::SourceGraph g = graph(m);
  const std::vector<FactorizableLayer> layers = find_factorizable_layers(g);
  std::vector<Svd> svds;
  for (const FactorizableLayer& l : layers)
    svds.push_back(must_svd(weight_matrix(g, l), l.out_channels, l.in_channels));
  std::vector<Factorization> f;
  for (size_t i = 0; i < layers.size(); ++i) {
    auto it = ranks.find(layers[i].name);
    if (it != ranks.end()) f.push_back({&layers[i], &svds[i], it->second});
  }
  REQUIRE(f.size() == ranks.size());
  auto edited = factorize_layers(g, f);
  if (!edited.is_ok()) FAIL(edited.status().to_string());
  auto bytes = quantize::write_model(*edited);
  if (!bytes.is_ok()) FAIL(bytes.status().to_string());
  load(*bytes);  // verifies and validates the file
  if (svds_out) *svds_out = std::move(svds);
  return *bytes;
}

const schema::Node* find_node(const schema::Model& m, const std::string& name) {
  for (const schema::Node* n : *m.nodes())
    if (n->name()->str() == name) return n;
  return nullptr;
}

const schema::Tensor& tensor_at(const schema::Model& m, int t) {
  return *m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
}

std::vector<int> shape_of(const schema::Tensor& t) {
  return std::vector<int>(t.shape()->begin(), t.shape()->end());
}

}  // namespace

TEST_CASE("lowrank svd: a known 2x2 factorization", "[lowrank]") {
  // A^T A = [[25, 20], [20, 25]]: eigenvalues 45 and 5.
  const std::vector<double> a = {3, 0, 4, 5};
  const Svd s = must_svd(a, 2, 2);
  CHECK(s.s[0] == Approx(std::sqrt(45.0)).epsilon(1e-14));
  CHECK(s.s[1] == Approx(std::sqrt(5.0)).epsilon(1e-14));
  // The right singular vectors of A^T A's eigenvalues: (1, 1)/sqrt2 and (1, -1)/sqrt2, up to sign.
  CHECK(std::fabs(s.v_at(0, 0)) == Approx(std::sqrt(0.5)).epsilon(1e-14));
  CHECK(s.v_at(0, 0) * s.v_at(1, 0) > 0);
  CHECK(s.v_at(0, 1) * s.v_at(1, 1) < 0);
  check_decomposition(a, 2, 2);
}

TEST_CASE("lowrank svd: a diagonal matrix comes back sorted", "[lowrank]") {
  const std::vector<double> a = {1, 0, 0, 0, -5, 0, 0, 0, 3};
  const Svd s = must_svd(a, 3, 3);
  CHECK(s.s == std::vector<double>{5, 3, 1});
  // The sign of -5 goes to one of its vectors.
  CHECK(std::fabs(s.u_at(1, 0)) == 1.0);
  CHECK(s.u_at(1, 0) * s.v_at(1, 0) == -1.0);
  check_decomposition(a, 3, 3);
}

TEST_CASE("lowrank svd: random square, tall and wide matrices", "[lowrank]") {
  check_decomposition(random_matrix(6, 6, 1), 6, 6);
  check_decomposition(random_matrix(17, 5, 2), 17, 5);
  check_decomposition(random_matrix(5, 17, 3), 5, 17);
  check_decomposition(random_matrix(1, 9, 4), 1, 9);
  check_decomposition(random_matrix(9, 1, 5), 9, 1);
  check_decomposition(random_matrix(40, 32, 6), 40, 32);
  // A 1 x n matrix has one singular value: its norm.
  const std::vector<double> row = {3, 4};
  CHECK(must_svd(row, 1, 2).s[0] == Approx(5.0).epsilon(1e-15));
}

TEST_CASE("lowrank svd: rank-deficient and zero matrices keep orthonormal factors", "[lowrank]") {
  // Rank 2: the product of 9x2 and 2x7 random factors.
  const std::vector<double> tall =
      multiply(random_matrix(9, 2, 7), random_matrix(2, 7, 8), 9, 2, 7);
  const Svd s = must_svd(tall, 9, 7);
  CHECK(s.s[1] > 1e-3);
  for (int j = 2; j < s.k; ++j) CHECK(s.s[j] < 1e-12 * s.s[0]);
  check_decomposition(tall, 9, 7);
  // The same, wide.
  const std::vector<double> wide =
      multiply(random_matrix(4, 2, 9), random_matrix(2, 11, 10), 4, 2, 11);
  check_decomposition(wide, 4, 11);
  CHECK(must_svd(wide, 4, 11).s[2] < 1e-12);
  // Repeated columns.
  check_decomposition({1, 1, 1, 2, 2, 2, 3, 3, 3}, 3, 3);
  // All zero: every singular value 0, factors still orthonormal.
  const Svd z = must_svd(std::vector<double>(12, 0.0), 4, 3);
  CHECK(z.s == std::vector<double>{0, 0, 0});
  check_decomposition(std::vector<double>(12, 0.0), 4, 3);
}

TEST_CASE("lowrank svd: truncation error is the tail of the singular values", "[lowrank]") {
  // Eckart-Young: the Frobenius error of the rank-r truncation is sqrt(sum of s_j^2, j >= r).
  const std::vector<double> a = random_matrix(12, 8, 21);
  const Svd s = must_svd(a, 12, 8);
  for (int r = 1; r <= 8; ++r) {
    const std::vector<double> ar = reconstruct(s, r);
    double err = 0, tail = 0;
    for (size_t i = 0; i < a.size(); ++i) err += (a[i] - ar[i]) * (a[i] - ar[i]);
    for (int j = r; j < 8; ++j) tail += s.s[j] * s.s[j];
    CHECK(std::sqrt(err) == Approx(std::sqrt(tail)).margin(1e-12));
  }
}

TEST_CASE("lowrank svd: bad input is refused", "[lowrank]") {
  CHECK(svd({1, 2, 3}, 2, 2).status().code() == ErrorCode::kInvalidArgument);
  CHECK(svd({}, 0, 3).status().code() == ErrorCode::kInvalidArgument);
  const auto nan = svd({1, std::nan(""), 0, 1}, 2, 2);
  REQUIRE_FALSE(nan.is_ok());
  CHECK(nan.status().message().find("not finite") != std::string::npos);
  CHECK_FALSE(svd({1, INFINITY, 0, 1}, 2, 2).is_ok());
}

TEST_CASE("lowrank: rank from energy, from ratio, and where it saves MACs", "[lowrank]") {
  const std::vector<double> s = {3, 2, 1};  // squares 9, 4, 1 of 14
  CHECK(rank_for_energy(s, 9.0 / 14) == 1);
  CHECK(rank_for_energy(s, 0.65) == 2);
  CHECK(rank_for_energy(s, 13.0 / 14) == 2);
  CHECK(rank_for_energy(s, 0.93) == 3);
  CHECK(rank_for_energy(s, 1.0) == 3);
  CHECK(rank_for_energy(s, 1e-9) == 1);
  // Energy 1 gives the numerical rank: a rounding-level tail does not count.
  CHECK(rank_for_energy({2, 1, 1e-17, 0}, 1.0) == 2);
  CHECK(rank_for_energy({0, 0}, 0.5) == 1);
  CHECK(energy_kept(s, 2) == Approx(13.0 / 14));
  CHECK(energy_kept(s, 3) == 1.0);
  CHECK(energy_kept({0, 0}, 1) == 1.0);

  CHECK(rank_for_ratio(10, 20, 0.3) == 3);
  CHECK(rank_for_ratio(7, 9, 0.5) == 4);  // ceil(3.5)
  CHECK(rank_for_ratio(64, 64, 0.01) == 1);
  CHECK(rank_for_ratio(64, 64, 0.999) == 64);

  // r (O + I) <= 0.9 O I.
  CHECK(largest_saving_rank(64, 64) == 28);       // 0.9 * 4096 / 128 = 28.8
  CHECK(largest_saving_rank(1000, 1280) == 505);  // 1152000 / 2280 = 505.3
  CHECK(largest_saving_rank(10, 12) == 4);        // 108 / 22 = 4.9
  CHECK(largest_saving_rank(2, 2) == 0);          // rank 1 costs 4 of 4 MACs
  CHECK(largest_saving_rank(2, 1000) == 1);       // 1002 of 2000
  CHECK(largest_saving_rank(3, 3) == 1);          // 6 of 9
  CHECK(largest_saving_rank(3, 1000) == 2);       // 2006 of 3000
}

TEST_CASE("lowrank: which layers can be factorized", "[lowrank]") {
  ModelBuilder b;
  const int x = b.add_input("x", Shape{1, 6, 6, 8});
  uint32_t seed = 1;
  auto w = [&](const std::string& name, const Shape& shape) {
    return testing::random_constant(b, name, shape, seed++, 0.5f);
  };
  const int pw = must(b.conv2d("pw", x, w("pw.w", Shape{16, 1, 1, 8}), -1, {}));
  Conv2DParams k3;
  k3.pad_top = k3.pad_left = k3.pad_bottom = k3.pad_right = 1;
  const int c3 = must(b.conv2d("k3", pw, w("k3.w", Shape{16, 3, 3, 16}), -1, k3));
  Conv2DParams strided;
  strided.stride_h = strided.stride_w = 2;
  const int s2 = must(b.conv2d("strided", c3, w("s2.w", Shape{16, 1, 1, 16}), -1, strided));
  Conv2DParams grouped;
  grouped.groups = 2;
  const int g2 = must(b.conv2d("grouped", s2, w("g2.w", Shape{16, 1, 1, 8}), -1, grouped));
  Conv2DParams padded;
  padded.pad_top = padded.pad_bottom = 1;
  const int pd = must(b.conv2d("padded", g2, w("pd.w", Shape{16, 1, 1, 16}), -1, padded));
  const int one = must(b.conv2d("to_one", pd, w("one.w", Shape{1, 1, 1, 16}), -1, {}));
  const int mean = must(b.mean("mean", pd, false));
  const int fc_w = w("fc.w", Shape{5, 16});
  const int fc = must(b.fully_connected("fc", mean, fc_w, w("fc.b", Shape{5})));
  REQUIRE(b.add_task("a", TaskKind::kOther, {{"fc", fc}, {"one", one}}).is_ok());
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  const Model m = load(*bytes);
  const merge::SourceGraph g = graph(m);
  const std::vector<FactorizableLayer> layers = find_factorizable_layers(g);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].name == "pw");
  CHECK(layer_kind(layers[0]) == "CONV_2D 1x1");
  CHECK(layers[0].out_channels == 16);
  CHECK(layers[0].in_channels == 8);
  CHECK(layers[0].positions == 36);
  CHECK(layers[0].macs() == 36 * 16 * 8);
  CHECK(layers[0].macs_at_rank(3) == 36 * 3 * 24);
  CHECK(layers[1].name == "fc");
  CHECK(layer_kind(layers[1]) == "FULLY_CONNECTED");
  CHECK(layers[1].positions == 1);
  CHECK(layers[1].full_rank() == 5);
  // The weights as [O][I].
  const std::vector<double> fw = weight_matrix(g, layers[1]);
  REQUIRE(fw.size() == 80);
  const std::vector<float> expected = testing::random_values(80, 7, 0.5f);  // fc.w's seed
  CHECK(fw[17] == static_cast<double>(expected[17]));
}

TEST_CASE("lowrank: at full rank the two layers compute W x exactly", "[lowrank]") {
  const TwoLayerModel t = random_two_layer_model();
  const Model original = load(t.bytes);
  const std::vector<uint8_t> both = factorized(original, {{"pw", 10}, {"head", 8}});
  const auto expected = run(t.bytes);
  const auto got = run(both);
  REQUIRE(got.size() == expected.size());
  for (const auto& [name, values] : expected) {
    INFO(name);
    const std::vector<float>& v = got.at(name);
    REQUIRE(v.size() == values.size());
    double scale = 0, diff = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      scale = std::max(scale, std::fabs(static_cast<double>(values[i])));
      diff = std::max(diff, std::fabs(static_cast<double>(v[i]) - values[i]));
    }
    CHECK(scale > 0.1);
    CHECK(diff <= 1e-5 * scale);  // float rounding of the two products only
  }

  // The structure: the first layer plain, the second keeps the name, bias, activation and output.
  const schema::Model& w = *schema::GetModel(both.data());
  const schema::Model& o = *schema::GetModel(t.bytes.data());
  const schema::Node* in = find_node(w, "pw/lowrank_in");
  const schema::Node* out = find_node(w, "pw");
  REQUIRE(in);
  REQUIRE(out);
  CHECK(in->op() == schema::OpKind::CONV_2D);
  REQUIRE(in->inputs()->size() == 2);
  CHECK(tensor_at(w, in->inputs()->Get(0)).name()->str() == "x");
  CHECK(tensor_at(w, in->inputs()->Get(1)).name()->str() == "pw.w/lowrank_in");
  CHECK(shape_of(tensor_at(w, in->inputs()->Get(1))) == std::vector<int>{10, 1, 1, 12});
  const schema::Tensor& mid = tensor_at(w, in->outputs()->Get(0));
  CHECK(mid.name()->str() == "pw/lowrank");
  CHECK(shape_of(mid) == std::vector<int>{1, 4, 4, 10});
  REQUIRE(in->options_as_Conv2DOptions());
  CHECK(in->options_as_Conv2DOptions()->activation() == nullptr);
  REQUIRE(out->inputs()->size() == 3);
  CHECK(out->inputs()->Get(0) == in->outputs()->Get(0));
  CHECK(tensor_at(w, out->inputs()->Get(1)).name()->str() == "pw.w/lowrank_out");
  CHECK(tensor_at(w, out->inputs()->Get(2)).name()->str() == "pw.b");
  CHECK(tensor_at(w, out->outputs()->Get(0)).name()->str() == "pw");
  REQUIRE(out->options_as_Conv2DOptions()->activation());
  CHECK(out->options_as_Conv2DOptions()->activation()->min() == 0.f);
  const schema::Node* head_in = find_node(w, "head/lowrank_in");
  REQUIRE(head_in);
  CHECK(head_in->op() == schema::OpKind::FULLY_CONNECTED);
  CHECK(shape_of(tensor_at(w, head_in->inputs()->Get(1))) == std::vector<int>{8, 10});
  CHECK(shape_of(tensor_at(w, head_in->outputs()->Get(0))) == std::vector<int>{1, 4, 4, 8});
  const schema::Node* head = find_node(w, "head");  // still no bias
  CHECK((head->inputs()->size() == 2 || head->inputs()->Get(2) == -1));
  // The original weights are gone; tasks read the same tensors.
  for (const schema::Tensor* tensor : *w.tensors()) {
    CHECK(tensor->name()->str() != "pw.w");
    CHECK(tensor->name()->str() != "head.w");
  }
  REQUIRE(w.tasks()->size() == o.tasks()->size());
  for (flatbuffers::uoffset_t i = 0; i < w.tasks()->size(); ++i) {
    const schema::TaskOutput* a = w.tasks()->Get(i)->outputs()->Get(0);
    const schema::TaskOutput* b = o.tasks()->Get(i)->outputs()->Get(0);
    CHECK(tensor_at(w, a->tensor()).name()->str() == tensor_at(o, b->tensor()).name()->str());
  }
  CHECK(w.nodes()->size() == o.nodes()->size() + 2);
}

TEST_CASE("lowrank: below full rank the layer computes the rank-r approximation", "[lowrank]") {
  const TwoLayerModel t = random_two_layer_model();
  const Model original = load(t.bytes);
  std::vector<Svd> svds;
  const std::vector<uint8_t> bytes = factorized(original, {{"head", 3}}, &svds);
  // head (layer 1) reads pw, which is unchanged: compare with pw x W_3^T computed here.
  const auto expected_pw = run(t.bytes).at("features/pw");
  const auto got = run(bytes);
  CHECK(got.at("features/pw") == expected_pw);
  const std::vector<double> w3 = reconstruct(svds[1], 3);
  const std::vector<float>& head = got.at("out/head");
  REQUIRE(head.size() == 16 * 8);
  double worst = 0, exact_gap = 0;
  const std::vector<float> exact = run(t.bytes).at("out/head");
  for (int p = 0; p < 16; ++p)
    for (int o = 0; o < 8; ++o) {
      double y = 0;
      for (int i = 0; i < 10; ++i)
        y += w3[static_cast<size_t>(o) * 10 + i] * expected_pw[static_cast<size_t>(p) * 10 + i];
      const size_t at = static_cast<size_t>(p) * 8 + o;
      worst = std::max(worst, std::fabs(head[at] - y));
      exact_gap = std::max(exact_gap, std::fabs(static_cast<double>(head[at]) - exact[at]));
    }
  CHECK(worst < 1e-4);
  CHECK(exact_gap > 1e-2);  // and it is an approximation, not the original
}

TEST_CASE("lowrank: a low-rank layer is reproduced at its rank", "[lowrank]") {
  // pw's weights have rank 2: two layers of rank 2 give the original outputs.
  const std::vector<double> pw2 =
      multiply(random_matrix(10, 2, 31), random_matrix(2, 12, 32), 10, 2, 12);
  const TwoLayerModel t = two_layer_model(pw2, random_matrix(8, 10, 33));
  const auto expected = run(t.bytes);
  const auto got = run(factorized(load(t.bytes), {{"pw", 2}}));
  for (const char* name : {"features/pw", "out/head"}) {
    INFO(name);
    const std::vector<float>& a = expected.at(name);
    const std::vector<float>& b = got.at(name);
    for (size_t i = 0; i < a.size(); ++i) CHECK(b[i] == Approx(a[i]).margin(1e-4));
  }
}

TEST_CASE("lowrank: the rewrite refuses bad ranks and clashing names are made unique",
          "[lowrank]") {
  const TwoLayerModel t = random_two_layer_model();
  const Model m = load(t.bytes);
  const merge::SourceGraph g = graph(m);
  const std::vector<FactorizableLayer> layers = find_factorizable_layers(g);
  const Svd s = must_svd(weight_matrix(g, layers[0]), 10, 12);
  const Svd other = must_svd(weight_matrix(g, layers[1]), 8, 10);
  auto over = factorize_layers(g, {{&layers[0], &s, 11}});
  REQUIRE_FALSE(over.is_ok());
  CHECK(over.status().message() == "layer 'pw': rank 11 is outside [1, 10]");
  CHECK_FALSE(factorize_layers(g, {{&layers[0], &s, 0}}).is_ok());
  auto wrong = factorize_layers(g, {{&layers[0], &other, 2}});
  REQUIRE_FALSE(wrong.is_ok());
  CHECK(wrong.status().message().find("no SVD of its 10x12 weights") != std::string::npos);
  CHECK_FALSE(factorize_layers(g, {{&layers[0], &s, 2}, {&layers[0], &s, 3}}).is_ok());

  // Factorizing the factorized model again: the new names are numbered.
  const std::vector<uint8_t> once = factorized(m, {{"pw", 4}});
  const std::vector<uint8_t> twice = factorized(load(once), {{"pw", 3}, {"pw/lowrank_in", 3}});
  const schema::Model& w = *schema::GetModel(twice.data());
  CHECK(find_node(w, "pw/lowrank_in/lowrank_in"));
  CHECK(find_node(w, "pw/lowrank_in_2"));
  const auto a = run(once), b = run(twice);
  CHECK(a.at("out/head").size() == b.at("out/head").size());
}
