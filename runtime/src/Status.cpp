//===- Status.cpp - error values of the msa runtime -----------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Status.h"

namespace msa::runtime {

const char *statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::kOk:
    return "ok";
  case StatusCode::kInvalidArgument:
    return "invalid argument";
  case StatusCode::kNotFound:
    return "not found";
  case StatusCode::kDataLoss:
    return "data loss";
  case StatusCode::kFailedPrecondition:
    return "failed precondition";
  case StatusCode::kOutOfRange:
    return "out of range";
  case StatusCode::kUnimplemented:
    return "unimplemented";
  case StatusCode::kUnavailable:
    return "unavailable";
  case StatusCode::kInternal:
    return "internal";
  case StatusCode::kIoError:
    return "i/o error";
  }
  return "unknown";
}

Status Status::withContext(const std::string &context) const {
  if (isOk())
    return *this;
  return Status(code_, context + ": " + message_);
}

std::string Status::toString() const { return isOk() ? "ok" : message_; }

} // namespace msa::runtime
