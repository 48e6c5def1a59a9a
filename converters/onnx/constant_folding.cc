#include "converters/onnx/constant_folding.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace polyhead::onnx_import {
namespace {

Status bad(const NodeAttributes& a, const std::string& why) {
  return Status(ErrorCode::kInvalidModel, a.where() + ": " + why);
}

std::vector<size_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<size_t> s(dims.size(), 1);
  for (size_t k = dims.size(); k-- > 1;) s[k - 1] = s[k] * static_cast<size_t>(dims[k]);
  return s;
}

// Flat index into a tensor of `dims` broadcast to `out` dims, for output position `idx`.
size_t broadcast_index(const std::vector<int64_t>& dims, const std::vector<int64_t>& out,
                       const std::vector<size_t>& out_strides, size_t idx) {
  const size_t offset = out.size() - dims.size();
  const std::vector<size_t> st = strides_of(dims);
  size_t flat = 0;
  for (size_t d = 0; d < out.size(); ++d) {
    const size_t coord = (idx / out_strides[d]) % static_cast<size_t>(out[d]);
    if (d >= offset && dims[d - offset] != 1) flat += coord * st[d - offset];
  }
  return flat;
}

Result<int64_t> normalise_axis(int64_t axis, size_t rank, const NodeAttributes& a) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    return bad(
        a, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

Result<std::vector<int64_t>> axes_input(const NodeAttributes& a, const ConstTensor* t, int opset,
                                        const char* attr) {
  if (opset >= 13) {
    if (!t) return std::vector<int64_t>{};
    return t->is_float ? std::vector<int64_t>{} : t->i;
  }
  return a.get_ints(attr, {});
}

ConstTensor binary(const ConstTensor& x, const ConstTensor& y, const std::vector<int64_t>& out,
                   const std::function<double(double, double)>& fn, bool as_float) {
  const size_t n = [&] {
    size_t c = 1;
    for (int64_t d : out) c *= static_cast<size_t>(d);
    return c;
  }();
  const std::vector<size_t> st = strides_of(out);
  ConstTensor r;
  r.dims = out;
  r.is_float = as_float;
  (as_float ? r.f.resize(n) : r.i.resize(n));
  for (size_t k = 0; k < n; ++k) {
    const double v =
        fn(x.at(broadcast_index(x.dims, out, st, k)), y.at(broadcast_index(y.dims, out, st, k)));
    if (as_float)
      r.f[k] = static_cast<float>(v);
    else
      r.i[k] = static_cast<int64_t>(v);
  }
  return r;
}

// The elements of `x` a resolved slice window reads, as a tensor of the window's counts.
ConstTensor slice_tensor(const ConstTensor& x, const SliceWindow& w, const std::string& where) {
  ConstTensor r;
  r.is_float = x.is_float;
  r.dims = w.count;
  const size_t rank = x.dims.size();
  const Result<size_t> elements = element_count(w.count, where);  // never more than x has
  const size_t n = elements.is_ok() ? *elements : 0;
  const std::vector<size_t> out_st = strides_of(w.count), in_st = strides_of(x.dims);
  for (size_t k = 0; k < n; ++k) {
    size_t src = 0;
    for (size_t d = 0; d < rank; ++d)
      src +=
          static_cast<size_t>(
              w.begin[d] +
              static_cast<int64_t>((k / out_st[d]) % static_cast<size_t>(w.count[d])) * w.step[d]) *
          in_st[d];
    if (r.is_float)
      r.f.push_back(x.f[src]);
    else
      r.i.push_back(x.i[src]);
  }
  return r;
}

}  // namespace

std::vector<int64_t> int_values(const ConstTensor& t) {
  if (!t.is_float) return t.i;
  std::vector<int64_t> v;
  for (float f : t.f) {
    // 2^63 is exactly representable in float; anything at or beyond it saturates.
    if (std::isnan(f))
      v.push_back(0);
    else if (f >= 9.2233720368547758e18f)
      v.push_back(std::numeric_limits<int64_t>::max());
    else if (f <= -9.2233720368547758e18f)
      v.push_back(std::numeric_limits<int64_t>::min());
    else
      v.push_back(static_cast<int64_t>(f));
  }
  return v;
}

Result<SliceWindow> resolve_slice(const std::vector<int64_t>& dims, const ConstTensor& starts_t,
                                  const ConstTensor& ends_t, const ConstTensor* axes_t,
                                  const ConstTensor* steps_t, const std::string& where) {
  auto bad_slice = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidModel, where + ": " + why);
  };
  const std::vector<int64_t> starts = int_values(starts_t), ends = int_values(ends_t);
  const auto rank = static_cast<int64_t>(dims.size());
  std::vector<int64_t> axes, steps(starts.size(), 1);
  if (axes_t) {
    axes = int_values(*axes_t);
  } else {
    for (int64_t k = 0; k < static_cast<int64_t>(starts.size()); ++k) axes.push_back(k);
  }
  if (steps_t) steps = int_values(*steps_t);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return bad_slice("starts, ends, axes and steps have " + std::to_string(starts.size()) + ", " +
                     std::to_string(ends.size()) + ", " + std::to_string(axes.size()) + " and " +
                     std::to_string(steps.size()) + " values");
  SliceWindow w;
  w.begin.assign(dims.size(), 0);
  w.count = dims;
  w.step.assign(dims.size(), 1);
  std::vector<bool> seen(dims.size(), false);
  for (size_t j = 0; j < starts.size(); ++j) {
    int64_t axis = axes[j];
    if (axis < -rank || axis >= rank)
      return bad_slice("axis " + std::to_string(axis) + " is out of range for rank " +
                       std::to_string(rank));
    if (axis < 0) axis += rank;
    const auto d = static_cast<size_t>(axis);
    if (seen[d]) return bad_slice("axis " + std::to_string(axis) + " is sliced twice");
    seen[d] = true;
    const int64_t st = steps[j], n = dims[d];
    if (st == 0) return bad_slice("slice step 0 on axis " + std::to_string(axis));
    // ONNX: negative starts and ends count from the end; then clamp to [0, n] for positive
    // steps and to [-1, n - 1] (ends) / [0, n - 1] (starts) for negative ones. Bounds are often
    // INT64_MAX / INT64_MIN ("to the end"): adding n to a negative one cannot overflow.
    int64_t s = starts[j], e = ends[j];
    if (s < 0) s += n;
    if (e < 0) e += n;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, n);
      e = std::clamp<int64_t>(e, 0, n);
      w.count[d] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, n - 1);
      e = std::clamp<int64_t>(e, -1, n - 1);
      // -st may be INT64_MIN's negation: count with unsigned arithmetic kept in range.
      const uint64_t span = static_cast<uint64_t>(s - e);
      const uint64_t stride = st == std::numeric_limits<int64_t>::min()
                                  ? uint64_t{1} << 63
                                  : static_cast<uint64_t>(-st);
      w.count[d] = s > e ? static_cast<int64_t>((span + stride - 1) / stride) : 0;
    }
    w.begin[d] = s;
    // One element needs no step; keeping 1 there keeps windows comparable (and in int range).
    w.step[d] = w.count[d] > 1 ? st : 1;
  }
  return w;
}

Result<std::vector<int64_t>> split_sizes(int64_t extent, size_t outputs,
                                         const std::vector<int64_t>* split,
                                         const std::string& where) {
  if (outputs < 1) return Status(ErrorCode::kInvalidModel, where + ": Split without outputs");
  if (split) {
    if (split->size() != outputs)
      return Status(ErrorCode::kInvalidModel, where + ": split " + dims_text(*split) + " has " +
                                                  std::to_string(split->size()) + " sizes for " +
                                                  std::to_string(outputs) + " outputs");
    int64_t sum = 0;
    for (int64_t v : *split) {
      if (v < 0 || v > extent)
        return Status(ErrorCode::kInvalidModel, where + ": split " + dims_text(*split) +
                                                    " has a size outside [0, " +
                                                    std::to_string(extent) + "]");
      sum += v;  // each <= extent < 2^31, fewer than 2^31 of them: no overflow
    }
    if (sum != extent)
      return Status(ErrorCode::kInvalidModel, where + ": split " + dims_text(*split) + " sums to " +
                                                  std::to_string(sum) + ", not the dimension's " +
                                                  std::to_string(extent));
    return *split;
  }
  const auto parts = static_cast<int64_t>(outputs);
  if (extent % parts != 0)
    return Status(ErrorCode::kInvalidModel, where + ": a dimension of " + std::to_string(extent) +
                                                " does not split into " + std::to_string(parts) +
                                                " equal parts");
  return std::vector<int64_t>(outputs, extent / parts);
}

Result<std::vector<int64_t>> broadcast_dims(const std::vector<int64_t>& a,
                                            const std::vector<int64_t>& b,
                                            const std::string& where) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t k = 0; k < rank; ++k) {
    const int64_t da = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    const int64_t db = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return Status(ErrorCode::kInvalidModel, where + ": shapes " + dims_text(a) + " and " +
                                                  dims_text(b) + " do not broadcast");
    out[k] = da == 1 ? db : da;
  }
  return out;
}

Result<std::vector<int64_t>> resolve_reshape(const std::vector<int64_t>& input,
                                             const std::vector<int64_t>& target, bool allow_zero,
                                             const std::string& where) {
  PH_ASSIGN_OR_RETURN(size_t total, element_count(input, where));
  std::vector<int64_t> out = target;
  int infer = -1;
  size_t known = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    if (out[k] == 0 && !allow_zero) {
      if (k >= input.size())
        return Status(ErrorCode::kInvalidModel, where + ": reshape copies dimension " +
                                                    std::to_string(k) + " the input lacks");
      out[k] = input[k];
    }
    if (out[k] == -1) {
      if (infer >= 0)
        return Status(ErrorCode::kInvalidModel, where + ": reshape target has two -1");
      infer = static_cast<int>(k);
      continue;
    }
    if (out[k] < 0)
      return Status(ErrorCode::kInvalidModel, where + ": bad reshape target " + dims_text(target));
    known *= static_cast<size_t>(out[k]);
  }
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      return Status(ErrorCode::kInvalidModel,
                    where + ": cannot reshape " + dims_text(input) + " to " + dims_text(target));
    out[static_cast<size_t>(infer)] = static_cast<int64_t>(total / known);
    known = total;
  }
  if (known != total)
    return Status(ErrorCode::kInvalidModel,
                  where + ": cannot reshape " + dims_text(input) + " to " + dims_text(target));
  return out;
}

ConstTensor transpose_tensor(const ConstTensor& t, const std::vector<int>& perm) {
  ConstTensor r;
  r.is_float = t.is_float;
  r.dims.resize(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) r.dims[d] = t.dims[static_cast<size_t>(perm[d])];
  const std::vector<size_t> in_st = strides_of(t.dims), out_st = strides_of(r.dims);
  const size_t n = t.size();
  (t.is_float ? r.f.resize(n) : r.i.resize(n));
  for (size_t k = 0; k < n; ++k) {
    size_t src = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      src +=
          ((k / out_st[d]) % static_cast<size_t>(r.dims[d])) * in_st[static_cast<size_t>(perm[d])];
    if (t.is_float)
      r.f[k] = t.f[src];
    else
      r.i[k] = t.i[src];
  }
  return r;
}

bool is_foldable(const std::string& op) {
  static const char* const kOps[] = {
      "Identity", "Dropout", "Cast",   "Unsqueeze", "Squeeze",         "Reshape",
      "Flatten",  "Concat",  "Gather", "Slice",     "ConstantOfShape", "Transpose",
      "Add",      "Sub",     "Mul",    "Div",       "Equal",           "Where",
      "Neg",      "Sqrt",    "Abs",    "Split"};
  for (const char* k : kOps)
    if (op == k) return true;
  return false;
}

Result<std::vector<ConstTensor>> fold(const std::string& op, const NodeAttributes& a,
                                      const std::vector<const ConstTensor*>& in, int opset,
                                      int outputs) {
  auto input = [&](size_t k) -> Result<const ConstTensor*> {
    if (k >= in.size() || !in[k]) return bad(a, "input " + std::to_string(k) + " is missing");
    return in[k];
  };
  if (op == "Identity" || op == "Dropout") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    return std::vector<ConstTensor>{*x};
  }
  if (op == "Cast") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    PH_ASSIGN_OR_RETURN(int64_t to, a.get_int("to", 1));
    ConstTensor r;
    r.dims = x->dims;
    r.is_float = to == 1 || to == 10 || to == 11;
    for (size_t k = 0; k < x->size(); ++k) {
      if (r.is_float)
        r.f.push_back(static_cast<float>(x->at(k)));
      else
        r.i.push_back(to == 9 ? (x->at(k) != 0) : static_cast<int64_t>(x->at(k)));
    }
    return std::vector<ConstTensor>{r};
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> axes,
                        axes_input(a, in.size() > 1 ? in[1] : nullptr, opset, "axes"));
    ConstTensor r = *x;
    if (op == "Unsqueeze") {
      const size_t rank = x->dims.size() + axes.size();
      std::vector<bool> inserted(rank, false);
      for (int64_t ax : axes) {
        PH_ASSIGN_OR_RETURN(int64_t n, normalise_axis(ax, rank, a));
        // ONNX requires distinct axes; a repeated one would leave too few inserted dimensions.
        if (inserted[static_cast<size_t>(n)])
          return bad(a, "axis " + std::to_string(ax) + " is listed twice");
        inserted[static_cast<size_t>(n)] = true;
      }
      r.dims.clear();
      size_t src = 0;
      for (size_t d = 0; d < rank; ++d) r.dims.push_back(inserted[d] ? 1 : x->dims[src++]);
    } else {
      std::vector<bool> removed(x->dims.size(), axes.empty());
      for (int64_t ax : axes) {
        PH_ASSIGN_OR_RETURN(int64_t n, normalise_axis(ax, x->dims.size(), a));
        removed[static_cast<size_t>(n)] = true;
      }
      r.dims.clear();
      for (size_t d = 0; d < x->dims.size(); ++d)
        if (!removed[d] || x->dims[d] != 1) r.dims.push_back(x->dims[d]);
    }
    return std::vector<ConstTensor>{r};
  }
  if (op == "Reshape" || op == "Flatten") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    ConstTensor r = *x;
    if (op == "Reshape") {
      PH_ASSIGN_OR_RETURN(const ConstTensor* s, input(1));
      PH_ASSIGN_OR_RETURN(int64_t allow_zero, a.get_int("allowzero", 0));
      PH_ASSIGN_OR_RETURN(r.dims, resolve_reshape(x->dims, s->i, allow_zero != 0, a.where()));
    } else {
      PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 1));
      if (axis < 0) axis += static_cast<int64_t>(x->dims.size());
      int64_t outer = 1, inner = 1;
      for (size_t d = 0; d < x->dims.size(); ++d)
        (static_cast<int64_t>(d) < axis ? outer : inner) *= x->dims[d];
      r.dims = {outer, inner};
    }
    return std::vector<ConstTensor>{r};
  }
  if (op == "Concat") {
    PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 0));
    PH_ASSIGN_OR_RETURN(const ConstTensor* first, input(0));
    PH_ASSIGN_OR_RETURN(axis, normalise_axis(axis, first->dims.size(), a));
    // Concatenation = for each outer index, the inner blocks of every input in turn.
    ConstTensor r;
    r.dims = first->dims;
    r.is_float = first->is_float;
    r.dims[static_cast<size_t>(axis)] = 0;
    size_t outer = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= static_cast<size_t>(first->dims[static_cast<size_t>(d)]);
    for (size_t k = 0; k < in.size(); ++k) {
      PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(k));
      if (x->dims.size() != first->dims.size() || x->is_float != first->is_float)
        return bad(a, "inputs differ in rank or type");
      r.dims[static_cast<size_t>(axis)] += x->dims[static_cast<size_t>(axis)];
    }
    for (size_t o = 0; o < outer; ++o)
      for (const ConstTensor* x : in) {
        const size_t block = outer ? x->size() / outer : 0;
        for (size_t k = o * block; k < (o + 1) * block; ++k) {
          if (r.is_float)
            r.f.push_back(x->f[k]);
          else
            r.i.push_back(x->i[k]);
        }
      }
    return std::vector<ConstTensor>{r};
  }
  if (op == "Gather") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    PH_ASSIGN_OR_RETURN(const ConstTensor* idx, input(1));
    PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 0));
    PH_ASSIGN_OR_RETURN(axis, normalise_axis(axis, x->dims.size(), a));
    const auto ax = static_cast<size_t>(axis);
    size_t outer = 1, inner = 1;
    for (size_t d = 0; d < x->dims.size(); ++d) {
      if (d < ax) outer *= static_cast<size_t>(x->dims[d]);
      if (d > ax) inner *= static_cast<size_t>(x->dims[d]);
    }
    ConstTensor r;
    r.is_float = x->is_float;
    r.dims.assign(x->dims.begin(), x->dims.begin() + axis);
    r.dims.insert(r.dims.end(), idx->dims.begin(), idx->dims.end());
    r.dims.insert(r.dims.end(), x->dims.begin() + axis + 1, x->dims.end());
    const std::vector<int64_t> indices = int_values(*idx);
    for (size_t o = 0; o < outer; ++o)
      for (size_t j = 0; j < indices.size(); ++j) {
        int64_t i = indices[j];
        if (i < 0 && i >= -x->dims[ax]) i += x->dims[ax];
        if (i < 0 || i >= x->dims[ax])
          return bad(a, "index " + std::to_string(indices[j]) + " is out of range for axis " +
                            std::to_string(axis) + " of size " + std::to_string(x->dims[ax]));
        for (size_t k = 0; k < inner; ++k) {
          const size_t src =
              (o * static_cast<size_t>(x->dims[ax]) + static_cast<size_t>(i)) * inner + k;
          if (r.is_float)
            r.f.push_back(x->f[src]);
          else
            r.i.push_back(x->i[src]);
        }
      }
    return std::vector<ConstTensor>{r};
  }
  if (op == "Slice") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    PH_ASSIGN_OR_RETURN(const ConstTensor* starts, input(1));
    PH_ASSIGN_OR_RETURN(const ConstTensor* ends, input(2));
    PH_ASSIGN_OR_RETURN(SliceWindow w,
                        resolve_slice(x->dims, *starts, *ends, in.size() > 3 ? in[3] : nullptr,
                                      in.size() > 4 ? in[4] : nullptr, a.where()));
    return std::vector<ConstTensor>{slice_tensor(*x, w, a.where())};
  }
  if (op == "Split") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 0));
    PH_ASSIGN_OR_RETURN(axis, normalise_axis(axis, x->dims.size(), a));
    std::vector<int64_t> given;
    bool has_split = false;
    if (opset >= 13 && in.size() > 1 && in[1]) {
      given = int_values(*in[1]);
      has_split = true;
    } else if (opset < 13 && a.has("split")) {
      PH_ASSIGN_OR_RETURN(given, a.get_ints("split", {}));
      has_split = true;
    }
    const auto d = static_cast<size_t>(axis);
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> sizes,
                        split_sizes(x->dims[d], static_cast<size_t>(outputs),
                                    has_split ? &given : nullptr, a.where()));
    std::vector<ConstTensor> parts;
    SliceWindow w;
    w.begin.assign(x->dims.size(), 0);
    w.count = x->dims;
    w.step.assign(x->dims.size(), 1);
    for (int64_t size : sizes) {
      w.count[d] = size;
      parts.push_back(slice_tensor(*x, w, a.where()));
      w.begin[d] += size;
    }
    return parts;
  }
  if (op == "ConstantOfShape") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* s, input(0));
    ConstTensor value = float_tensor({1}, {0.f});
    if (a.has("value")) {
      PH_ASSIGN_OR_RETURN(value, a.get_tensor("value"));
    }
    if (value.size() != 1) return bad(a, "value must hold one element");
    ConstTensor r;
    r.dims = s->i;
    r.is_float = value.is_float;
    PH_ASSIGN_OR_RETURN(size_t n, element_count(r.dims, a.where()));
    if (r.is_float)
      r.f.assign(n, value.f[0]);
    else
      r.i.assign(n, value.i[0]);
    return std::vector<ConstTensor>{r};
  }
  if (op == "Transpose") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    std::vector<int64_t> def;
    for (size_t d = x->dims.size(); d-- > 0;) def.push_back(static_cast<int64_t>(d));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> perm, a.get_ints("perm", def));
    if (perm.size() != x->dims.size()) return bad(a, "perm does not match the rank");
    std::vector<int> p(perm.begin(), perm.end());
    std::vector<int> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (size_t d = 0; d < sorted.size(); ++d)
      if (sorted[d] != static_cast<int>(d)) return bad(a, "perm is not a permutation");
    return std::vector<ConstTensor>{transpose_tensor(*x, p)};
  }
  if (op == "Neg" || op == "Sqrt" || op == "Abs") {
    // |INT64_MIN| does not exist: it stays as it is (two's complement wrap, as NumPy).
    constexpr int64_t kMinI64 = std::numeric_limits<int64_t>::min();
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
    ConstTensor r = *x;
    for (size_t k = 0; k < r.size(); ++k) {
      if (r.is_float)
        r.f[k] = op == "Neg" ? -r.f[k] : op == "Abs" ? std::fabs(r.f[k]) : std::sqrt(r.f[k]);
      else
        r.i[k] = op == "Neg"   ? -r.i[k]
                 : op == "Abs" ? (r.i[k] < 0 && r.i[k] > kMinI64 ? -r.i[k] : r.i[k])
                               : static_cast<int64_t>(std::sqrt(static_cast<double>(r.i[k])));
    }
    return std::vector<ConstTensor>{r};
  }
  if (op == "Where") {
    PH_ASSIGN_OR_RETURN(const ConstTensor* c, input(0));
    PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(1));
    PH_ASSIGN_OR_RETURN(const ConstTensor* y, input(2));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> cx, broadcast_dims(c->dims, x->dims, a.where()));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> out, broadcast_dims(cx, y->dims, a.where()));
    const ConstTensor picked_x = binary(
        *c, *x, out, [](double cc, double v) { return cc != 0 ? v : 0; }, x->is_float);
    const ConstTensor mask = binary(
        *c, *y, out, [](double cc, double v) { return cc != 0 ? 0 : v; }, y->is_float);
    return std::vector<ConstTensor>{binary(
        picked_x, mask, out, [](double p, double q) { return p + q; }, x->is_float)};
  }
  // Element-wise arithmetic and comparison with broadcasting.
  PH_ASSIGN_OR_RETURN(const ConstTensor* x, input(0));
  PH_ASSIGN_OR_RETURN(const ConstTensor* y, input(1));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> out, broadcast_dims(x->dims, y->dims, a.where()));
  const bool as_float = x->is_float || y->is_float;
  std::function<double(double, double)> fn;
  if (op == "Add") fn = [](double p, double q) { return p + q; };
  if (op == "Sub") fn = [](double p, double q) { return p - q; };
  if (op == "Mul") fn = [](double p, double q) { return p * q; };
  if (op == "Div") {
    if (!as_float)
      for (size_t k = 0; k < y->size(); ++k)
        if (y->i[k] == 0) return bad(a, "integer division by zero");
    fn = as_float ? std::function<double(double, double)>([](double p, double q) { return p / q; })
                  : [](double p, double q) { return std::trunc(p / q); };
  }
  if (op == "Equal") {
    return std::vector<ConstTensor>{binary(
        *x, *y, out, [](double p, double q) { return p == q ? 1 : 0; }, false)};
  }
  if (!fn)
    return Status(ErrorCode::kUnsupported, a.where() + ": cannot be evaluated at conversion");
  return std::vector<ConstTensor>{binary(*x, *y, out, fn, as_float)};
}

}  // namespace polyhead::onnx_import
