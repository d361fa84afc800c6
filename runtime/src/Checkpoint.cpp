//===- Checkpoint.cpp - a Hugging Face checkpoint directory ---------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Checkpoint.h"

#include "msa/runtime/FileUtil.h"
#include "msa/runtime/Json.h"

namespace msa::runtime {

StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::open(const std::string &dir) {
  if (!isDirectory(dir))
    return notFound(dir + ": not a checkpoint directory");
  std::unique_ptr<Checkpoint> ckpt(new Checkpoint());
  ckpt->dir_ = dir;
  MSA_ASSIGN_OR_RETURN(ckpt->config_,
                       ModelConfig::load(joinPath(dir, "config.json")));

  std::vector<std::string> shardNames;
  const std::string indexPath = joinPath(dir, "model.safetensors.index.json");
  if (fileExists(indexPath)) {
    MSA_ASSIGN_OR_RETURN(std::string text, readFile(indexPath));
    StatusOr<JsonValue> index = JsonValue::parse(text);
    if (!index.isOk())
      return index.status().withContext(indexPath);
    const JsonValue *map = index->find("weight_map");
    if (!map || !map->isObject())
      return invalidArgument(indexPath + ": key 'weight_map' is missing or not "
                                         "an object");
    std::map<std::string, size_t> shardIndex;
    for (const JsonValue::Member &m : map->members()) {
      if (!m.second.isString() || m.second.asString().find('/') != std::string::npos)
        return invalidArgument(indexPath + ": weight_map entry '" + m.first +
                               "' must name a shard file in the directory");
      auto [it, inserted] =
          shardIndex.emplace(m.second.asString(), shardNames.size());
      if (inserted)
        shardNames.push_back(m.second.asString());
      ckpt->shardOf_[m.first] = it->second;
    }
  } else {
    shardNames.push_back("model.safetensors");
  }

  for (const std::string &name : shardNames) {
    MSA_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file,
                         SafetensorsFile::open(joinPath(dir, name)));
    if (!fileExists(indexPath))
      for (const std::string &t : file->names())
        ckpt->shardOf_[t] = ckpt->shards_.size();
    ckpt->shards_.push_back(std::move(file));
  }
  return ckpt;
}

std::string Checkpoint::tokenizerPath() const {
  return joinPath(dir_, "tokenizer.json");
}

StatusOr<std::vector<float>>
Checkpoint::readF32(const std::string &name,
                    const std::vector<int64_t> &shape) const {
  auto it = shardOf_.find(name);
  if (it == shardOf_.end()) {
    std::string where = shards_.size() == 1
                            ? shards_[0]->path()
                            : joinPath(dir_, "model.safetensors.index.json");
    return notFound(where + ": missing tensor '" + name + "'");
  }
  return shards_[it->second]->readF32(name, shape);
}

StatusOr<Tensor> Checkpoint::view(const std::string &name,
                                  const std::vector<int64_t> &shape) const {
  auto it = shardOf_.find(name);
  if (it == shardOf_.end())
    return notFound((shards_.size() == 1
                         ? shards_[0]->path()
                         : joinPath(dir_, "model.safetensors.index.json")) +
                    ": missing tensor '" + name + "'");
  const SafetensorsFile &file = *shards_[it->second];
  const TensorInfo *info = file.find(name);
  if (info->shape != shape) {
    auto fmt = [](const std::vector<int64_t> &s) {
      std::string r = "[";
      for (size_t i = 0; i < s.size(); ++i)
        r += (i ? ", " : "") + std::to_string(s[i]);
      return r + "]";
    };
    return invalidArgument(file.path() + ": tensor '" + name + "' has shape " +
                           fmt(info->shape) + ", expected " + fmt(shape));
  }
  return Tensor::view(info->dtype, info->shape,
                      const_cast<uint8_t *>(file.data(*info)));
}

} // namespace msa::runtime
