// Robustness of the loader and the engine under hostile bytes. Starting from valid models (the
// tiny two-task model and one that uses every operator kind), each case corrupts the file and
// then either the load fails with a message, or the model loads and every task prepares and runs
// (or fails with a message) without crashing, and the outputs of a run can be read in full.
// Run under the sanitizer build (POLYHEAD_SANITIZE=ON) this also checks for memory errors and
// undefined behaviour.
//
// Environment knobs, for longer runs and for pinning down a failure:
//   POLYHEAD_FUZZ_CASES=<n>    random mutations per model (default 5000)
//   POLYHEAD_FUZZ_SEED=<n>     seed of the random mutations (default 20240611)
//   POLYHEAD_FUZZ_VERBOSE=1    print every case before it runs (the last line names a crash)
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/schema/phm_generated.h"
#include "support/test_models.h"

using namespace polyhead;
namespace fb = flatbuffers;
namespace sc = polyhead::schema;

namespace {

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

bool verbose() {
  static const bool v = env_size("POLYHEAD_FUZZ_VERBOSE", 0) != 0;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Where the interesting bytes are: every present field of every table, every vector length and
// element, every BufferRef member. Pokes there reach the validator's semantic checks instead of
// stopping at the FlatBuffers verifier.

struct Slots {
  const uint8_t* base;
  std::vector<size_t> offsets;

  void at(const void* p) {
    offsets.push_back(static_cast<size_t>(static_cast<const uint8_t*>(p) - base));
  }
  void table(const void* p) {
    if (!p) return;
    const auto* t = static_cast<const fb::Table*>(p);
    const uint8_t* vt = t->GetVTable();
    const uint16_t vsize = fb::ReadScalar<uint16_t>(vt);
    for (uint16_t i = 4; i + 2 <= vsize; i += 2) {
      const uint16_t off = fb::ReadScalar<uint16_t>(vt + i);
      if (off) at(static_cast<const uint8_t*>(p) + off);
    }
  }
  template <typename T>
  void vector(const fb::Vector<T>* v) {
    if (!v) return;
    at(v);  // the length
    for (fb::uoffset_t i = 0; i < v->size(); ++i) at(v->Data() + i * sizeof(T));
  }
};

std::vector<size_t> interesting_offsets(const std::vector<uint8_t>& bytes) {
  Slots s{bytes.data(), {}};
  const sc::Model* m = sc::GetModel(bytes.data());
  s.table(m);
  for (const sc::Tensor* t : *m->tensors()) {
    s.table(t);
    s.vector(t->shape());
    if (const sc::Quantization* q = t->quantization()) {
      s.table(q);
      s.vector(q->scale());
      s.vector(q->scale_f16());
      s.vector(q->zero_point());
    }
  }
  if (m->buffers())
    for (const sc::BufferRef* b : *m->buffers()) {
      s.at(b);
      s.at(reinterpret_cast<const uint8_t*>(b) + 8);
    }
  for (const sc::Node* n : *m->nodes()) {
    s.table(n);
    s.vector(n->inputs());
    s.vector(n->outputs());
    s.table(n->options());
    if (const auto* o = n->options_as_PadOptions()) {
      s.vector(o->before());
      s.vector(o->after());
    }
    if (const auto* o = n->options_as_ReshapeOptions()) s.vector(o->shape());
    if (const auto* o = n->options_as_TransposeOptions()) s.vector(o->perm());
  }
  for (const sc::Input* in : *m->inputs()) {
    s.table(in);
    if (const sc::Preprocess* p = in->preprocess()) {
      s.table(p);
      s.vector(p->mean());
      s.vector(p->std());
    }
  }
  for (const sc::Task* t : *m->tasks()) {
    s.table(t);
    for (const sc::TaskOutput* o : *t->outputs()) s.table(o);
    if (const sc::PostProcess* p = t->postprocess()) {
      s.table(p);
      s.vector(p->anchors());
      s.vector(p->anchor_grids());
      if (p->anchor_grids())
        for (const sc::AnchorGrid* g : *p->anchor_grids()) {
          s.table(g);
          s.vector(g->sizes());
        }
    }
  }
  return s.offsets;
}

// Where the FlatBuffer ends and the constant data begins.
size_t flatbuffer_end(const std::vector<uint8_t>& bytes) {
  const sc::Model* m = sc::GetModel(bytes.data());
  size_t end = bytes.size();
  if (m->buffers())
    for (const sc::BufferRef* b : *m->buffers()) end = std::min<size_t>(end, b->offset());
  return end;
}

// Where the last constant ends (the file's meaningful bytes; zero padding follows).
size_t content_end(const std::vector<uint8_t>& bytes) {
  const sc::Model* m = sc::GetModel(bytes.data());
  size_t end = 0;
  if (m->buffers())
    for (const sc::BufferRef* b : *m->buffers())
      end = std::max<size_t>(end, b->offset() + b->size());
  return end ? end : bytes.size();
}

const uint32_t kEdge32[] = {0u,
                            1u,
                            2u,
                            3u,
                            4u,
                            7u,
                            8u,
                            16u,
                            63u,
                            64u,
                            255u,
                            256u,
                            65535u,
                            65536u,
                            0x00ffffffu,
                            0x01000000u,
                            0x7fffffffu,
                            0x80000000u,
                            0xfffffffeu,
                            0xffffffffu,
                            0x7f800000u /* +inf */,
                            0x7fc00000u /* NaN */,
                            0xbf800000u /* -1.f */};
const uint8_t kEdge8[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff};
const uint64_t kEdge64[] = {0,
                            1,
                            64,
                            0x7fffffffffffffffull,
                            0xffffffffffffffffull,
                            0xffffffffffffffc0ull,
                            uint64_t{1} << 32,
                            uint64_t{1} << 40};

// One corrupted copy of a model, in 64-byte aligned memory reused between cases.
class Case {
 public:
  explicit Case(size_t capacity)
      : data_(static_cast<uint8_t*>(std::aligned_alloc(64, (capacity + 64) / 64 * 64)),
              &std::free) {}
  uint8_t* reset(const std::vector<uint8_t>& bytes, size_t size) {
    std::memcpy(data_.get(), bytes.data(), size);
    size_ = size;
    return data_.get();
  }
  uint8_t* data() { return data_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t, decltype(&std::free)> data_;
  size_t size_ = 0;
};

struct Tally {
  size_t cases = 0;
  size_t rejected = 0;    // load failed
  size_t loaded = 0;      // load succeeded
  size_t unprepared = 0;  // loaded, but Engine::create or prepare failed
  size_t ran = 0;         // every task ran
  size_t run_failed = 0;  // prepare succeeded, run failed
};

// Fills every input the plan reads and runs every task; reads every output in full.
void exercise(const Model& model, Tally& tally, const std::vector<float>& values) {
  // Touch the descriptive API: it must be safe on any model that loaded.
  for (const InputInfo& in : model.inputs()) CHECK_FALSE(in.name.empty());
  for (const TaskInfo& t : model.tasks()) CHECK_FALSE(t.name.empty());
  (void)model.producer();
  (void)model.description();

  auto engine = Engine::create(model);
  if (!engine.is_ok()) {
    CHECK_FALSE(engine.status().message().empty());
    ++tally.unprepared;
    return;
  }
  auto plan = engine->prepare();
  if (!plan.is_ok()) {
    if (verbose())
      std::fprintf(stderr, "  prepare failed: %s\n", plan.status().to_string().c_str());
    INFO(plan.status().to_string());
    CHECK_FALSE(plan.status().message().empty());
    ++tally.unprepared;
    return;
  }
  for (const InputInfo& in : model.inputs()) {
    const auto count = static_cast<size_t>(in.shape.elements());
    if (in.type == ElementType::kF32 && count <= values.size()) {
      const Status s = plan->set_input(in.name, values.data(), count);
      if (!s.is_ok()) CHECK_FALSE(s.message().empty());  // e.g. an input no task of the plan reads
      continue;
    }
    auto buffer = plan->input_buffer(in.name);
    if (!buffer.is_ok()) {
      CHECK_FALSE(buffer.status().message().empty());
      continue;
    }
    for (size_t i = 0; i < count; ++i) (*buffer)[i] = values[i % values.size()];
  }
  const Status run = plan->run();
  if (!run.is_ok()) {
    if (verbose()) std::fprintf(stderr, "  run failed: %s\n", run.to_string().c_str());
    CHECK_FALSE(run.message().empty());
    ++tally.run_failed;
    return;
  }
  ++tally.ran;
  double checksum = 0;
  for (const TaskInfo& t : model.tasks())
    for (const TaskOutputInfo& o : t.outputs) {
      auto view = plan->output(t.name, o.name);
      INFO("task " << t.name << " output " << o.name);
      REQUIRE(view.is_ok());
      REQUIRE(view->data != nullptr);
      CHECK(view->shape == o.shape);
      const auto* bytes = static_cast<const uint8_t*>(view->data);
      for (size_t i = 0; i < view->bytes(); ++i) checksum += bytes[i];
    }
  CHECK(checksum >= 0);
}

void load_and_exercise(Case& c, Tally& tally, const std::vector<float>& values,
                       const std::string& what) {
  if (verbose()) {
    std::fprintf(stderr, "fuzz case %zu: %s\n", tally.cases, what.c_str());
    std::fflush(stderr);
  }
  ++tally.cases;
  auto model = Model::from_buffer(c.data(), c.size());
  if (!model.is_ok()) {
    INFO(what);
    CHECK_FALSE(model.status().message().empty());
    CHECK(model.status().code() != ErrorCode::kOk);
    ++tally.rejected;
    return;
  }
  ++tally.loaded;
  INFO(what);
  exercise(*model, tally, values);
}

void report(const char* name, const Tally& t, double seconds) {
  std::printf(
      "%-36s %6zu cases in %6.2f s: %zu rejected, %zu loaded (%zu not prepared, %zu ran, %zu run "
      "errors)\n",
      name, t.cases, seconds, t.rejected, t.loaded, t.unprepared, t.ran, t.run_failed);
  std::fflush(stdout);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Corpus {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<Corpus> corpus() {
  return {{"tiny_two_task_model", testing::tiny_two_task_model()},
          {"every_operator_model", testing::every_operator_model()}};
}

const std::vector<float>& input_values() {
  static const std::vector<float> v = testing::random_values(4096, 99, 1.f);
  return v;
}

}  // namespace

TEST_CASE("fuzz: the unmodified models load and run") {
  for (const Corpus& m : corpus()) {
    INFO(m.name);
    Case c(m.bytes.size());
    c.reset(m.bytes, m.bytes.size());
    Tally t;
    load_and_exercise(c, t, input_values(), "unmodified " + m.name);
    CHECK(t.ran == 1);
  }
}

TEST_CASE("fuzz: every truncated prefix is rejected") {
  for (const Corpus& m : corpus()) {
    INFO(m.name);
    const auto start = std::chrono::steady_clock::now();
    // The file ends with zero padding up to a 64-byte boundary: prefixes that keep every constant
    // byte are still complete models; every shorter one must be rejected.
    const size_t end = content_end(m.bytes);
    REQUIRE(end <= m.bytes.size());
    Case c(m.bytes.size());
    Tally t;
    for (size_t len = 0; len < m.bytes.size(); ++len) {
      c.reset(m.bytes, len);
      load_and_exercise(c, t, input_values(), "prefix of " + std::to_string(len) + " bytes");
      INFO("prefix of " << len << " bytes, content ends at " << end);
      CHECK(t.rejected == std::min(len + 1, end));
    }
    CHECK(t.rejected == end);
    CHECK(t.ran == m.bytes.size() - end);
    report(("truncation " + m.name).c_str(), t, seconds_since(start));
  }
}

TEST_CASE("fuzz: edge values poked into every field") {
  for (const Corpus& m : corpus()) {
    INFO(m.name);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<size_t> slots = interesting_offsets(m.bytes);
    Case c(m.bytes.size());
    Tally t;
    for (size_t off : slots) {
      for (uint8_t v : kEdge8) {
        c.reset(m.bytes, m.bytes.size())[off] = v;
        load_and_exercise(c, t, input_values(),
                          "byte " + std::to_string(v) + " at " + std::to_string(off));
      }
      if (off + 4 <= m.bytes.size())
        for (uint32_t v : kEdge32) {
          std::memcpy(c.reset(m.bytes, m.bytes.size()) + off, &v, 4);
          load_and_exercise(c, t, input_values(),
                            "u32 " + std::to_string(v) + " at " + std::to_string(off));
        }
      if (off + 8 <= m.bytes.size() && off % 8 == 0)
        for (uint64_t v : kEdge64) {
          std::memcpy(c.reset(m.bytes, m.bytes.size()) + off, &v, 8);
          load_and_exercise(c, t, input_values(),
                            "u64 " + std::to_string(v) + " at " + std::to_string(off));
        }
    }
    CHECK(t.cases > 1000);
    report(("field pokes " + m.name).c_str(), t, seconds_since(start));
  }
}

TEST_CASE("fuzz: random mutations") {
  const size_t cases = env_size("POLYHEAD_FUZZ_CASES", 5000);
  const auto seed = static_cast<uint32_t>(env_size("POLYHEAD_FUZZ_SEED", 20240611));
  for (const Corpus& m : corpus()) {
    INFO(m.name << " seed " << seed);
    const auto start = std::chrono::steady_clock::now();
    std::mt19937 rng(seed);
    const size_t size = m.bytes.size();
    const size_t fb_end = flatbuffer_end(m.bytes);
    const std::vector<size_t> slots = interesting_offsets(m.bytes);
    Case c(size);
    Tally t;
    auto pick = [&](size_t lo, size_t hi) {
      return std::uniform_int_distribution<size_t>(lo, hi)(rng);
    };
    // Most corruption goes to the FlatBuffer (structure, shapes, options); some to the weights.
    auto offset = [&](size_t width) {
      const size_t hi = (pick(0, 9) < 8 ? fb_end : size) - width;
      size_t off = pick(0, hi);
      if (pick(0, 3) != 0) off &= ~size_t{3};  // FlatBuffers scalars are mostly 4-byte aligned
      return off;
    };
    for (size_t i = 0; i < cases; ++i) {
      uint8_t* p = c.reset(m.bytes, size);
      std::string what;
      const int mutations = pick(0, 3) == 0 ? static_cast<int>(pick(2, 4)) : 1;
      for (int k = 0; k < mutations; ++k) {
        switch (pick(0, 6)) {
          case 0: {  // one bit flip
            const size_t off = pick(0, size - 1);
            const auto bit = static_cast<uint8_t>(1u << pick(0, 7));
            p[off] ^= bit;
            what += "flip bit " + std::to_string(bit) + " at " + std::to_string(off) + "; ";
            break;
          }
          case 1: {  // one random byte
            const size_t off = offset(1);
            p[off] = static_cast<uint8_t>(pick(0, 255));
            what += "byte at " + std::to_string(off) + "; ";
            break;
          }
          case 2: {  // a run of random bytes
            const size_t len = pick(2, 16);
            const size_t off = offset(len);
            for (size_t j = 0; j < len; ++j) p[off + j] = static_cast<uint8_t>(pick(0, 255));
            what += std::to_string(len) + " random bytes at " + std::to_string(off) + "; ";
            break;
          }
          case 3: {  // a 32-bit edge value
            const uint32_t v = kEdge32[pick(0, std::size(kEdge32) - 1)];
            const size_t off = offset(4);
            std::memcpy(p + off, &v, 4);
            what += "u32 " + std::to_string(v) + " at " + std::to_string(off) + "; ";
            break;
          }
          case 4: {  // a small integer, the most likely to survive as a valid index or size
            const auto v = static_cast<int32_t>(pick(0, 20)) - 4;
            const size_t off = offset(4);
            std::memcpy(p + off, &v, 4);
            what += "i32 " + std::to_string(v) + " at " + std::to_string(off) + "; ";
            break;
          }
          default: {  // a small integer or edge value into a field (several make consistent edits)
            const size_t off = slots[pick(0, slots.size() - 1)];
            const int32_t v = pick(0, 2)
                                  ? static_cast<int32_t>(pick(0, 20)) - 4
                                  : static_cast<int32_t>(kEdge32[pick(0, std::size(kEdge32) - 1)]);
            if (off + 4 <= size && pick(0, 3)) {
              std::memcpy(p + off, &v, 4);
              what += "field i32 " + std::to_string(v) + " at " + std::to_string(off) + "; ";
            } else {
              p[off] = static_cast<uint8_t>(v);
              what += "field byte " + std::to_string(static_cast<uint8_t>(v)) + " at " +
                      std::to_string(off) + "; ";
            }
            break;
          }
        }
      }
      load_and_exercise(c, t, input_values(), what);
    }
    CHECK(t.cases == cases);
    report(("random mutations " + m.name).c_str(), t, seconds_since(start));
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile but well-formed files: a single operator whose options and declared shapes agree, at the
// edges of what the format can express. Each is either rejected with a message naming the node,
// or loads, prepares and runs (or fails at prepare with a message) without crashing.

namespace {

using OptionsWriter = std::function<fb::Offset<void>(fb::FlatBufferBuilder&)>;

struct Operand {
  std::vector<int> shape;
  std::vector<float> values;  // non-empty: a constant
};

struct SingleNode {
  std::vector<Operand> inputs;  // an empty shape with no values and rank -1 is an absent input
  std::vector<int> output;
  sc::OpKind op = sc::OpKind::CONV_2D;
  sc::OpOptions options_type = sc::OpOptions::NONE;
  OptionsWriter options;
};

std::vector<uint8_t> write_single_node(const SingleNode& s) {
  auto build = [&](fb::FlatBufferBuilder& b, const std::vector<uint64_t>& offsets) {
    std::vector<fb::Offset<sc::Tensor>> tensors;
    std::vector<sc::BufferRef> refs;
    std::vector<int> node_inputs;
    std::vector<fb::Offset<sc::Input>> inputs;
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      const Operand& o = s.inputs[i];
      uint32_t buffer = 0;
      if (!o.values.empty()) {
        refs.emplace_back(offsets[refs.size()], o.values.size() * sizeof(float));
        buffer = static_cast<uint32_t>(refs.size());
      } else {
        inputs.push_back(sc::CreateInput(b, static_cast<int>(tensors.size())));
      }
      node_inputs.push_back(static_cast<int>(tensors.size()));
      tensors.push_back(sc::CreateTensor(b, b.CreateString("in" + std::to_string(i)),
                                         b.CreateVector(o.shape), sc::ElementType::F32, 0, buffer));
    }
    const int out = static_cast<int>(tensors.size());
    tensors.push_back(sc::CreateTensor(b, b.CreateString("y"), b.CreateVector(s.output)));
    const auto opts = s.options ? s.options(b) : fb::Offset<void>();
    std::vector<fb::Offset<sc::Node>> nodes = {
        sc::CreateNode(b, b.CreateString("op"), s.op, s.options_type, opts,
                       b.CreateVector(node_inputs), b.CreateVector(std::vector<int>{out}))};
    std::vector<fb::Offset<sc::TaskOutput>> outs = {
        sc::CreateTaskOutput(b, b.CreateString("y"), out)};
    std::vector<fb::Offset<sc::Task>> tasks = {
        sc::CreateTask(b, b.CreateString("t"), sc::TaskKind::OTHER, b.CreateVector(outs))};
    return sc::CreateModel(b, 1, 0, 0, 0, b.CreateVector(tensors), b.CreateVectorOfStructs(refs),
                           b.CreateVector(nodes), b.CreateVector(inputs), b.CreateVector(tasks));
  };
  auto align = [](uint64_t v) { return (v + 63) / 64 * 64; };
  size_t constants = 0;
  for (const Operand& o : s.inputs) constants += o.values.empty() ? 0 : 1;
  std::vector<uint64_t> offsets(constants, 0);
  fb::FlatBufferBuilder sizing;
  sizing.Finish(build(sizing, offsets), "PHM1");
  uint64_t cursor = align(sizing.GetSize());
  size_t k = 0;
  for (const Operand& o : s.inputs)
    if (!o.values.empty()) {
      offsets[k++] = cursor;
      cursor = align(cursor + o.values.size() * sizeof(float));
    }
  fb::FlatBufferBuilder b;
  b.Finish(build(b, offsets), "PHM1");
  std::vector<uint8_t> bytes(cursor, 0);
  std::memcpy(bytes.data(), b.GetBufferPointer(), b.GetSize());
  k = 0;
  for (const Operand& o : s.inputs)
    if (!o.values.empty())
      std::memcpy(bytes.data() + offsets[k++], o.values.data(), o.values.size() * sizeof(float));
  return bytes;
}

Operand activation(std::vector<int> shape) {
  return {std::move(shape), {}};
}
Operand constant(std::vector<int> shape, float value = 0.5f) {
  size_t n = 1;
  for (int d : shape) n *= static_cast<size_t>(d);
  return {std::move(shape), std::vector<float>(n, value)};
}

// Loads `s`; when `rejection` is non-empty the load must fail with a message containing it and
// naming the node, otherwise the model must load and is exercised. Returns the tally.
Tally hostile(const SingleNode& s, const std::string& rejection) {
  const auto bytes = write_single_node(s);
  Case c(bytes.size());
  c.reset(bytes, bytes.size());
  auto model = Model::from_buffer(c.data(), c.size());
  Tally t;
  ++t.cases;
  if (!rejection.empty()) {
    INFO("expected rejection: " << rejection);
    REQUIRE_FALSE(model.is_ok());
    INFO(model.status().to_string());
    CHECK(model.status().code() == ErrorCode::kInvalidModel);
    CHECK_THAT(model.status().message(),
               Catch::Contains("node 0 'op'") && Catch::Contains(rejection));
    ++t.rejected;
    return t;
  }
  INFO("load: " << model.status().to_string());
  REQUIRE(model.is_ok());
  ++t.loaded;
  exercise(*model, t, input_values());
  if (verbose()) std::fprintf(stderr, "  loaded: %s\n", t.ran ? "ran" : "did not run");
  return t;
}

OptionsWriter pool(int filter_h, int filter_w, int stride, int pad) {
  return [=](fb::FlatBufferBuilder& b) {
    return sc::CreatePool2DOptions(b, filter_h, filter_w, stride, stride, pad, pad, pad, pad)
        .Union();
  };
}

OptionsWriter conv(int stride, int dilation, int pad, int groups = 1,
                   const sc::Activation* act = nullptr) {
  return [=](fb::FlatBufferBuilder& b) {
    return sc::CreateConv2DOptions(b, stride, stride, dilation, dilation, pad, pad, pad, pad,
                                   groups, act)
        .Union();
  };
}

}  // namespace

TEST_CASE("fuzz: hostile but well-formed single-operator models") {
  SingleNode s;
  SECTION("max pooling window of 2^40 positions") {
    s = {{activation({1, 8, 8, 1})},
         {1, 1, 1, 1},
         sc::OpKind::MAX_POOL_2D,
         sc::OpOptions::Pool2DOptions,
         pool(1 << 20, 1 << 20, 1 << 30, (1 << 20) - 1)};
    hostile(s, "visits more than 2^31 input positions");
  }
  SECTION("average pooling window of 2^32 positions on a 1x1 input") {
    s = {{activation({1, 1, 1, 1})},
         {1, 1, 1, 1},
         sc::OpKind::AVERAGE_POOL_2D,
         sc::OpOptions::Pool2DOptions,
         pool(1 << 16, 1 << 16, 1 << 30, (1 << 16) - 1)};
    hostile(s, "visits more than 2^31 input positions");
  }
  SECTION("max pooling 1x1 (XNNPACK may refuse it at prepare)") {
    s = {{activation({1, 4, 4, 2})},
         {1, 4, 4, 2},
         sc::OpKind::MAX_POOL_2D,
         sc::OpOptions::Pool2DOptions,
         pool(1, 1, 1, 0)};
    hostile(s, "");
  }
  SECTION("convolution with dilation 2^30 and huge padding") {
    s = {{activation({1, 8, 8, 1}), constant({1, 2, 2, 1})},
         {1, 1, 1, 1},
         sc::OpKind::CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(8, 1 << 30, 1 << 29)};
    hostile(s, "");
  }
  SECTION("convolution with stride 2^31-1") {
    s = {{activation({1, 8, 8, 1}), constant({1, 3, 3, 1})},
         {1, 1, 1, 1},
         sc::OpKind::CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(0x7fffffff, 1, 1)};
    hostile(s, "");
  }
  SECTION("convolution padding sums past 2^31") {
    // padded extent 8 + 2 * (2^31 - 1): output rows (2^32 + 5) / (2^31 - 1) + 1 = 3.
    s = {{activation({1, 8, 8, 1}), constant({1, 1, 1, 1})},
         {1, 3, 3, 1},
         sc::OpKind::CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(0x7fffffff, 1, 0x7fffffff)};
    hostile(s, "");
  }
  SECTION("convolution whose output would exceed the dimension limit") {
    s = {{activation({1, 8, 8, 1}), constant({1, 1, 1, 1})},
         {1, 8, 8, 1},
         sc::OpKind::CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(1, 1, 0x7fffffff)};
    hostile(s, "output dimension 1 is");
  }
  SECTION("empty fused activation range [1, 1]") {
    const sc::Activation act(1.f, 1.f);
    s = {{activation({1, 4, 4, 2}), constant({2, 1, 1, 2})},
         {1, 4, 4, 2},
         sc::OpKind::CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(1, 1, 0, 1, &act)};
    hostile(s, "");
  }
  SECTION("depthwise convolution with channel multiplier 3") {
    s = {{activation({1, 5, 5, 2}), constant({6, 3, 3, 1})},
         {1, 3, 3, 6},
         sc::OpKind::DEPTHWISE_CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(1, 1, 0, 2)};
    hostile(s, "");
  }
  SECTION("depthwise convolution with more groups than channels") {
    s = {{activation({1, 5, 5, 2}), constant({4, 3, 3, 1})},
         {1, 3, 3, 4},
         sc::OpKind::CONV_2D,
         sc::OpOptions::Conv2DOptions,
         conv(1, 1, 0, 4)};
    hostile(s, "not divisible by groups 4");
  }
  SECTION("transpose convolution with stride 2^24") {
    s = {{activation({1, 1, 1, 1}), constant({1, 1, 1, 1})},
         {1, 1 << 24, 1, 1},
         sc::OpKind::TRANSPOSE_CONV_2D,
         sc::OpOptions::TransposeConv2DOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateTransposeConv2DOptions(b, 1 << 24, 1, 0, 0, 0, 0, (1 << 24) - 1, 0)
               .Union();
         }};
    hostile(s, "");
  }
  SECTION("transpose convolution with an output past 2^34 elements") {
    s = {{activation({1, 1 << 12, 1 << 12, 1}), constant({1, 1, 1, 1})},
         {1, 1, 1, 1},
         sc::OpKind::TRANSPOSE_CONV_2D,
         sc::OpOptions::TransposeConv2DOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateTransposeConv2DOptions(b, 1 << 12, 1 << 12).Union();
         }};
    hostile(s, "has more than 2^34 elements");
  }
  SECTION("reshape to 2^31-1 x 2^31-1") {
    s = {{activation({1, 4})},
         {0x7fffffff, 0x7fffffff},
         sc::OpKind::RESHAPE,
         sc::OpOptions::ReshapeOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateReshapeOptions(b,
                                           b.CreateVector(std::vector<int>{0x7fffffff, 0x7fffffff}))
               .Union();
         }};
    // The declared output is rejected first; the same target on a sane declaration is below.
    const auto bytes = write_single_node(s);
    Case c(bytes.size());
    c.reset(bytes, bytes.size());
    auto m = Model::from_buffer(c.data(), c.size());
    REQUIRE_FALSE(m.is_ok());
    CHECK_THAT(m.status().message(), Catch::Contains("2147483647"));
    s.output = {1, 4};
    hostile(s, "target dimensions must be in [1, 16777216], found 2147483647");
  }
  SECTION("reshape to six dimensions of 2^24") {
    s = {{activation({1, 4})},
         {1, 4},
         sc::OpKind::RESHAPE,
         sc::OpOptions::ReshapeOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateReshapeOptions(b, b.CreateVector(std::vector<int>(6, 1 << 24))).Union();
         }};
    hostile(s, "more than 2^34 elements");
  }
  SECTION("concatenation axis INT_MIN") {
    s = {{activation({1, 4}), activation({1, 4})},
         {2, 4},
         sc::OpKind::CONCATENATION,
         sc::OpOptions::ConcatenationOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateConcatenationOptions(b, INT32_MIN).Union();
         }};
    hostile(s, "axis -2147483648 is out of range for rank 2");
  }
  SECTION("concatenation of a constant and an activation along a negative axis") {
    s = {{constant({1, 3}), activation({1, 4})},
         {1, 7},
         sc::OpKind::CONCATENATION,
         sc::OpOptions::ConcatenationOptions,
         [](fb::FlatBufferBuilder& b) { return sc::CreateConcatenationOptions(b, -1).Union(); }};
    hostile(s, "");
  }
  SECTION("transpose with a repeated axis") {
    s = {{activation({2, 3, 4})},
         {2, 2, 4},
         sc::OpKind::TRANSPOSE,
         sc::OpOptions::TransposeOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateTransposeOptions(b, b.CreateVector(std::vector<int>{0, 0, 2})).Union();
         }};
    hostile(s, "perm is not a permutation");
  }
  SECTION("transpose of rank 6") {
    s = {{activation({2, 1, 3, 1, 2, 2})},
         {2, 2, 1, 2, 3, 1},
         sc::OpKind::TRANSPOSE,
         sc::OpOptions::TransposeOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateTransposeOptions(b, b.CreateVector(std::vector<int>{5, 4, 3, 0, 2, 1}))
               .Union();
         }};
    hostile(s, "");
  }
  SECTION("depth to space with block 2^30") {
    s = {
        {activation({1, 2, 2, 4})},
        {1, 4, 4, 1},
        sc::OpKind::DEPTH_TO_SPACE,
        sc::OpOptions::DepthToSpaceOptions,
        [](fb::FlatBufferBuilder& b) { return sc::CreateDepthToSpaceOptions(b, 1 << 30).Union(); }};
    hostile(s, "block_size must be in [2, 64], found 1073741824");
  }
  SECTION("pad of 2^30") {
    s = {{activation({1, 2, 2, 1})},
         {1, 2, 2, 1},
         sc::OpKind::PAD,
         sc::OpOptions::PadOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreatePadOptions(b, b.CreateVector(std::vector<int>{0, 1 << 30, 0, 0}),
                                       b.CreateVector(std::vector<int>{0, 0, 0, 0}))
               .Union();
         }};
    hostile(s, "padding of dimension 1 must be in [0, 2^20]");
  }
  SECTION("resize to 2^20 rows") {
    s = {{activation({1, 2, 2, 1})},
         {1, 1 << 20, 2, 1},
         sc::OpKind::RESIZE,
         sc::OpOptions::ResizeOptions,
         [](fb::FlatBufferBuilder& b) { return sc::CreateResizeOptions(b, 1 << 20, 2).Union(); }};
    hostile(s, "exceeds 65536");
  }
  SECTION("resize with a negative mode") {
    s = {{activation({1, 2, 2, 1})},
         {1, 4, 4, 1},
         sc::OpKind::RESIZE,
         sc::OpOptions::ResizeOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateResizeOptions(b, 4, 4, static_cast<sc::ResizeMode>(-1)).Union();
         }};
    hostile(s, "unknown resize mode -1");
  }
  SECTION("resize from 1x1 with align corners") {
    s = {{activation({1, 1, 1, 3})},
         {1, 5, 7, 3},
         sc::OpKind::RESIZE,
         sc::OpOptions::ResizeOptions,
         [](fb::FlatBufferBuilder& b) {
           return sc::CreateResizeOptions(b, 5, 7, sc::ResizeMode::BILINEAR,
                                          sc::CoordinateMode::ALIGN_CORNERS)
               .Union();
         }};
    hostile(s, "");
  }
  SECTION("add of two rank-0 tensors") {
    s = {{activation({}), activation({})}, {}, sc::OpKind::ADD, sc::OpOptions::NONE, nullptr};
    hostile(s, "");
  }
  SECTION("mul broadcasting rank 6 against rank 1") {
    s = {{activation({2, 1, 3, 1, 2, 4}), constant({4}, 2.f)},
         {2, 1, 3, 1, 2, 4},
         sc::OpKind::MUL,
         sc::OpOptions::NONE,
         nullptr};
    hostile(s, "");
  }
  SECTION("fully connected on a rank-1 input") {
    s = {{activation({6}), constant({3, 6})},
         {3},
         sc::OpKind::FULLY_CONNECTED,
         sc::OpOptions::NONE,
         nullptr};
    hostile(s, "");
  }
  SECTION("softmax over one channel") {
    s = {{activation({5, 1})}, {5, 1}, sc::OpKind::SOFTMAX, sc::OpOptions::NONE, nullptr};
    hostile(s, "");
  }
  SECTION("PReLU with a non-constant slope") {
    s = {{activation({1, 4}), activation({4})},
         {1, 4},
         sc::OpKind::PRELU,
         sc::OpOptions::NONE,
         nullptr};
    hostile(s, "slope must be a constant tensor");
  }
}
