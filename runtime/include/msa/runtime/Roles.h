//===- Roles.h - token roles of stage-2 rows --------------------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The doc_ids of msa-semantics.md §2 for the tokens of a query row: which
// tokens route, which are merely attended.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_ROLES_H
#define MSA_RUNTIME_ROLES_H

#include <cstdint>
#include <vector>

namespace msa::runtime {

/// A routing-query token: its router query vectors are scored.
inline constexpr int32_t kRoleRouting = 0;
/// An active-context token that is attended but does not route.
inline constexpr int32_t kRoleActive = -1;
/// A template token (`<|im_end|>\n` after the question).
inline constexpr int32_t kRoleTemplate = -2;

/// One stage-2 row: its valid tokens and their roles.
struct PromptRow {
  std::vector<int32_t> tokens;
  std::vector<int32_t> roles;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_ROLES_H
