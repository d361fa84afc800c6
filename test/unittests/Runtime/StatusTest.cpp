//===- StatusTest.cpp - Status and StatusOr -------------------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Status.h"

#include <gtest/gtest.h>

using namespace msa::runtime;

namespace {

StatusOr<int> parsePositive(int x) {
  if (x <= 0)
    return invalidArgument("expected a positive number, got " +
                           std::to_string(x));
  return x;
}

Status twice(int x, int *out) {
  MSA_ASSIGN_OR_RETURN(int v, parsePositive(x));
  *out = 2 * v;
  return Status::ok();
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(s.toString(), "ok");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = dataLoss("bank.msam: checksum mismatch");
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.withContext("loading").message(),
            "loading: bank.msam: checksum mismatch");
  EXPECT_STREQ(statusCodeName(s.code()), "data loss");
}

TEST(Status, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(twice(21, &out).isOk());
  EXPECT_EQ(out, 42);
  Status s = twice(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "expected a positive number, got -1");
  EXPECT_EQ(out, 42);
}

} // namespace
