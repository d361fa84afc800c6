//===- Status.h - error values of the msa runtime ---------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime is built without exceptions (LLVM's HandleLLVMOptions adds
// -fno-exceptions everywhere) and must report every failure to its caller:
// functions that can fail return Status or StatusOr<T>. A message is one line
// that names the input and the problem ("model.safetensors: tensor 'x' ...").
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_STATUS_H
#define MSA_RUNTIME_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace msa::runtime {

/// Broad classes of failure; the message carries the detail.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   ///< A caller or user passed something malformed.
  kNotFound,          ///< A file, tensor or key is missing.
  kDataLoss,          ///< A file is truncated or its checksum does not match.
  kFailedPrecondition,///< Inputs are well-formed but do not fit together.
  kOutOfRange,        ///< An index or size beyond what the data holds.
  kUnimplemented,     ///< A valid request this build cannot serve.
  kUnavailable,       ///< A device or library is not present.
  kInternal,          ///< A broken invariant inside msa.
  kIoError,           ///< The operating system refused a read or write.
};

/// Returns the lowercase name of \p code ("invalid argument", ...).
const char *statusCodeName(StatusCode code);

/// The result of an operation that returns nothing else.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }

  /// Returns this status with "context: " in front of its message.
  Status withContext(const std::string &context) const;

  /// "message" for errors, "ok" for success.
  std::string toString() const;

private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalidArgument(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status notFound(std::string m) {
  return Status(StatusCode::kNotFound, std::move(m));
}
inline Status dataLoss(std::string m) {
  return Status(StatusCode::kDataLoss, std::move(m));
}
inline Status failedPrecondition(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status outOfRange(std::string m) {
  return Status(StatusCode::kOutOfRange, std::move(m));
}
inline Status unimplemented(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status unavailable(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status internalError(std::string m) {
  return Status(StatusCode::kInternal, std::move(m));
}
inline Status ioError(std::string m) {
  return Status(StatusCode::kIoError, std::move(m));
}

/// A value of type T or the Status that explains why there is none.
template <typename T> class [[nodiscard]] StatusOr {
public:
  StatusOr(Status status) : status_(std::move(status)) {
    assert(!status_.isOk() && "StatusOr built from an ok Status");
  }
  StatusOr(T value) : value_(std::move(value)) {}

  bool isOk() const { return status_.isOk(); }
  explicit operator bool() const { return isOk(); }
  const Status &status() const { return status_; }

  T &value() & {
    assert(isOk());
    return *value_;
  }
  const T &value() const & {
    assert(isOk());
    return *value_;
  }
  T &&value() && {
    assert(isOk());
    return std::move(*value_);
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

private:
  Status status_;
  std::optional<T> value_;
};

} // namespace msa::runtime

#define MSA_STATUS_CONCAT_INNER(a, b) a##b
#define MSA_STATUS_CONCAT(a, b) MSA_STATUS_CONCAT_INNER(a, b)

/// Returns the Status of \p expr from the enclosing function if it failed.
#define MSA_RETURN_IF_ERROR(expr)                                              \
  do {                                                                         \
    ::msa::runtime::Status msaStatusTmp_ = (expr);                             \
    if (!msaStatusTmp_.isOk())                                                 \
      return msaStatusTmp_;                                                    \
  } while (false)

/// Evaluates \p expr (a StatusOr); on failure returns its Status, otherwise
/// moves the value into \p lhs (which may be a declaration).
#define MSA_ASSIGN_OR_RETURN(lhs, expr)                                        \
  MSA_ASSIGN_OR_RETURN_IMPL(MSA_STATUS_CONCAT(msaStatusOr_, __LINE__), lhs,    \
                            expr)
#define MSA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                              \
  auto tmp = (expr);                                                           \
  if (!tmp.isOk())                                                             \
    return tmp.status();                                                       \
  lhs = std::move(tmp).value()

#endif // MSA_RUNTIME_STATUS_H
