// libFuzzer harness: arbitrary bytes as a .phm model through everything a user does with a file
// they were handed: Model::from_buffer (FlatBuffers verifier + the semantic validator), reading
// its description, Engine::create, prepare of every task, a run on fixed inputs and reading every
// output in full. Seeded with float and int8 models (tests/fuzz/README.md), so the int8 paths of
// the loader and the engine are fuzzed here too. Any outcome but a crash, a sanitizer report, a
// leak or a hang is fine: hostile files must fail with a Status. A model with block-sparse
// weights runs twice: on the sparse kernel where it can, and with every sparse weight expanded.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"

namespace {

// POLYHEAD_FUZZ_VERBOSE=1: says how far each input got (to check that seeds reach a run).
void note(const char* stage, const polyhead::Status& s) {
  static const bool verbose = std::getenv("POLYHEAD_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  %s: %s\n", stage, s.is_ok() ? "ok" : s.to_string().c_str());
}

// Reads every byte of a view, so that an output pointing outside its arena shows up under ASan.
float touch(const polyhead::TensorView& v) {
  const auto* p = static_cast<const unsigned char*>(v.data);
  float sum = 0;
  if (p == nullptr) return sum;
  for (size_t i = 0; i < v.bytes(); ++i) sum += p[i];
  return sum;
}

// Whether a loaded (so verified) model stores any constant block-sparse.
bool has_sparse_weights(const polyhead::Model& model) {
  for (const polyhead::schema::Tensor* t : *polyhead::schema::GetModel(model.bytes())->tensors())
    if (t->sparse()) return true;
  return false;
}

void exercise(const polyhead::Model& model, polyhead::SparseWeights sparse) {
  using namespace polyhead;
  // The description a tool prints.
  (void)model.producer();
  (void)model.description();
  (void)model.metadata("license");
  for (const TaskInfo& t : model.tasks())
    for (const TaskOutputInfo& o : t.outputs) (void)o.shape.elements();

  EngineOptions options;
  options.threads = 1;  // one core per fuzzer; threads are the tsan preset's business
  options.plan_cache_capacity = 1;
  options.sparse_weights = sparse;
  auto engine = Engine::create(model, options);
  note("create", engine.status());
  if (!engine.is_ok()) return;
  auto plan = engine->prepare();
  note("prepare", plan.status());
  if (!plan.is_ok()) return;
  for (const InputInfo& in : model.inputs()) {
    auto dst = plan->input_buffer(in.name);
    if (!dst.is_ok()) return;
    const size_t n = static_cast<size_t>(in.shape.elements());
    for (size_t i = 0; i < n; ++i) (*dst)[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  }
  const Status run = plan->run();
  note("run", run);
  if (!run.is_ok()) return;
  float sum = 0;
  for (const TaskInfo& t : model.tasks())
    for (const TaskOutputInfo& o : t.outputs) {
      auto view = plan->output(t.name, o.name);
      if (view.is_ok()) sum += touch(*view);
    }
  // One task alone too: the partial-run path (shared nodes plus one head).
  if (model.tasks().size() > 1) (void)plan->run({model.tasks().front().name});
  volatile float sink = sum;
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Model::from_buffer reads in place and wants 64-byte alignment, as a mapped file has. Exactly
  // `size` bytes, so that ASan sees a read one byte past the end.
  void* aligned = nullptr;
  if (posix_memalign(&aligned, 64, size > 0 ? size : 1) != 0) return 0;
  std::unique_ptr<uint8_t, decltype(&std::free)> copy(static_cast<uint8_t*>(aligned), &std::free);
  if (size > 0) std::memcpy(copy.get(), data, size);
  auto model = polyhead::Model::from_buffer(copy.get(), size);
  note("load", model.status());
  if (!model.is_ok()) return 0;
  if (has_sparse_weights(*model)) {
    exercise(*model, polyhead::SparseWeights::kSparse);
    exercise(*model, polyhead::SparseWeights::kDense);
  } else {
    exercise(*model, polyhead::SparseWeights::kAuto);
  }
  return 0;
}
