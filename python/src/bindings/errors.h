// Library failures as Python exceptions: a failed Status is thrown as StatusError and translated
// into the polyhead.Error subclass of its code (polyhead/_errors.py), carrying its message.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "polyhead/result.h"
#include "polyhead/status.h"

namespace polyhead::python {

class StatusError : public std::exception {
 public:
  explicit StatusError(Status status) : status_(std::move(status)) {}
  const Status& status() const { return status_; }
  const char* what() const noexcept override { return status_.message().c_str(); }

 private:
  Status status_;
};

[[noreturn]] inline void raise(Status status) {
  throw StatusError(std::move(status));
}

// The argument checks the bindings make themselves (array dtype, shape, pixel format).
[[noreturn]] inline void raise_invalid_argument(std::string message) {
  raise(Status(ErrorCode::kInvalidArgument, std::move(message)));
}

inline void check(Status status) {
  if (!status.is_ok()) raise(std::move(status));
}

template <typename T>
T value_or_raise(Result<T> result) {
  if (!result.is_ok()) raise(result.status());
  return std::move(result).value();
}

}  // namespace polyhead::python
