//===- Checkpoint.h - a Hugging Face checkpoint directory -------*- C++ -*-===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// config.json + model.safetensors (or shards listed in
// model.safetensors.index.json) + tokenizer.json, as the MSA-4B release and
// `msa-run make-model` lay them out.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_RUNTIME_CHECKPOINT_H
#define MSA_RUNTIME_CHECKPOINT_H

#include "msa/runtime/ModelConfig.h"
#include "msa/runtime/Safetensors.h"
#include "msa/runtime/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace msa::runtime {

class Checkpoint {
public:
  /// Opens `dir`: parses config.json and maps every safetensors shard
  /// (validating each header). Does not read tensors yet.
  static StatusOr<std::unique_ptr<Checkpoint>> open(const std::string &dir);

  const std::string &dir() const { return dir_; }
  const ModelConfig &config() const { return config_; }
  std::string tokenizerPath() const;

  /// Reads tensor `name` as f32 from whichever shard holds it, checking the
  /// shape; errors name the shard file and the tensor.
  StatusOr<std::vector<float>> readF32(const std::string &name,
                                       const std::vector<int64_t> &shape) const;

  /// Tensor `name` in its stored dtype, viewing the mapped file (valid
  /// while this checkpoint lives), with its shape checked.
  StatusOr<Tensor> view(const std::string &name,
                        const std::vector<int64_t> &shape) const;

private:
  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, size_t> shardOf_;
};

} // namespace msa::runtime

#endif // MSA_RUNTIME_CHECKPOINT_H
