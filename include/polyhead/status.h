// Status: the error type of every fallible Polyhead call. No exceptions cross the runtime.
#pragma once

#include <string>
#include <utility>

namespace polyhead {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // a caller passed a bad option, name, shape or size
  kInvalidModel,     // the model file failed verification or validation
  kUnsupported,      // valid, but this build cannot run it (operator, type)
  kNotFound,         // a named task, input or output does not exist
  kIoError,          // a file could not be opened, mapped or written
  kOutOfMemory,
  kInternal,  // a bug in Polyhead or a dependency failed unexpectedly
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", for logs and command-line tools.
  std::string to_string() const { return std::string(error_code_name(code_)) + ": " + message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kInvalidModel:
      return "invalid model";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kIoError:
      return "i/o error";
    case ErrorCode::kOutOfMemory:
      return "out of memory";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown error";
}

// Returns early from the enclosing function when `expr` yields a failed Status.
#define PH_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::polyhead::Status ph_status_ = (expr);     \
    if (!ph_status_.is_ok()) return ph_status_; \
  } while (0)

}  // namespace polyhead
